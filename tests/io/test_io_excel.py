"""Excel workbooks: real openpyxl files in the layouts users save, hostile ones, and the writer."""

from __future__ import annotations

import logging
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.cli import main
from spectrakit.core.errors import FormatError, SpectraError
from spectrakit.io import ReadLimits

openpyxl = pytest.importorskip("openpyxl")

AXIS = np.linspace(1000.0, 1600.0, 31)


def _book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A workbook written by openpyxl itself, one list of rows per sheet."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def _wide_rows(values: np.ndarray, names: list[str], title: bool = False) -> list[list[object]]:
    head = [["Calibration run 3, ATR-MIR"], []] if title else []
    rows = [["sample", "glucose", *AXIS.tolist()]]
    rows += [[n, float(i), *v.tolist()] for i, (n, v) in enumerate(zip(names, values, strict=True))]
    return head + rows


@pytest.fixture
def values() -> np.ndarray:
    return np.random.default_rng(3).random((4, AXIS.size))


def test_wide_sheet_below_a_title_reads_like_the_csv(tmp_path, values):
    names = ["a", "b", "c", "d"]
    path = _book(tmp_path / "lab.xlsx", {"run3": _wide_rows(values, names, title=True)})
    got = sk.read(path, unit="cm-1")
    pd.DataFrame(_wide_rows(values, names)[1:], columns=_wide_rows(values, names)[0]).to_csv(
        tmp_path / "lab.csv", index=False
    )
    want = sk.read(tmp_path / "lab.csv", unit="cm-1")
    np.testing.assert_array_equal(got.values, want.values)
    np.testing.assert_array_equal(got.axis.values, AXIS)
    assert list(got.meta["sample"]) == names and list(got.meta["glucose"]) == [0, 1, 2, 3]
    assert got.axis.unit == "cm-1"


def test_transposed_sheet_with_unit_header(tmp_path, values):
    rows = [["wavenumber (cm-1)", "s1", "s2", "s3", "s4"]]
    rows += [[x, *values[:, j].tolist()] for j, x in enumerate(AXIS)]
    got = sk.read(_book(tmp_path / "t.xlsx", {"Sheet1": rows}))
    np.testing.assert_allclose(got.values, values, rtol=1e-6)
    assert got.axis.unit == "cm-1" and got.values.shape == (4, AXIS.size)


def test_two_column_sheet_is_one_spectrum(tmp_path, values):
    rows = [
        ["shift", "counts"],
        *([x, y] for x, y in zip(AXIS.tolist(), values[0].tolist(), strict=True)),
    ]
    got = sk.read(_book(tmp_path / "one.xlsx", {"s": rows}), unit="cm-1")
    np.testing.assert_allclose(got.values[0], values[0], rtol=1e-6)


def test_sheets_become_blocks_and_notes_are_left_out(tmp_path, values, caplog):
    path = _book(
        tmp_path / "two.xlsx",
        {
            "notes": [["operator: A. N. Other"], ["instrument", "Bruker Alpha"]],
            "day1": _wide_rows(values[:2], ["a", "b"]),
            "day2": _wide_rows(values[2:], ["c", "d"]),
        },
    )
    with caplog.at_level(logging.INFO, logger="spectrakit.io.formats.excel"):
        blocks = sk.read_blocks(path, unit="cm-1")
    assert set(blocks) == {"day1", "day2"} and "notes" in caplog.text
    np.testing.assert_allclose(blocks["day2"].values, values[2:], rtol=1e-6)
    stacked = sk.read(path, unit="cm-1")
    np.testing.assert_allclose(stacked.values, values, rtol=1e-6)
    assert list(stacked.meta["sample"]) == ["a", "b", "c", "d"]
    one = sk.read(path, unit="cm-1", sheet="day2")
    assert list(one.meta["sample"]) == ["c", "d"]
    assert list(sk.read(path, unit="cm-1", sheet=1).meta["sample"]) == ["a", "b"]
    with pytest.raises(FormatError, match="no sheet 'day3'") as info:
        sk.read(path, sheet="day3")
    assert "'day1'" in str(info.value)


def test_a_bad_cell_is_named_by_sheet_and_worksheet_row(tmp_path, values):
    rows = _wide_rows(values, ["a", "b", "c", "d"], title=True)
    rows[5][7] = "oops"  # worksheet row 6: title, blank, header, then data rows 4, 5, 6
    path = _book(tmp_path / "bad.xlsx", {"run3": rows})
    with pytest.raises(SpectraError) as info:
        sk.read(path, unit="cm-1")
    message = str(info.value)
    assert "sheet 'run3'" in message and "row 6" in message and "\n" not in message
    rows[5][7] = "n/a"  # a missing-value marker reads as NaN, refused unless asked for
    with pytest.raises(SpectraError, match=r"sheet 'run3'.*NaN"):
        sk.read(_book(tmp_path / "na.xlsx", {"run3": rows}), unit="cm-1")


def test_formula_without_saved_value_points_to_saving_in_excel(tmp_path, values):
    rows = _wide_rows(values, ["a", "b", "c", "d"])
    rows[2][4] = "=C2*2"  # openpyxl saves the formula, never its value
    path = _book(tmp_path / "formula.xlsx", {"s": rows})
    with pytest.raises(SpectraError, match="NaN") as info:
        sk.read(path, unit="cm-1")
    assert "save it in Excel" in str(info.value)
    nan = sk.read(path, unit="cm-1", allow_nan=True)
    assert np.isnan(nan.values[1, 2]) and np.isnan(nan.values).sum() == 1


def test_a_spectral_sheet_that_fails_is_skipped_when_another_reads(tmp_path, values, caplog):
    bad = _wide_rows(values[:2], ["x", "y"])
    bad[1][5] = "saturated"
    path = _book(tmp_path / "mixed.xlsx", {"good": _wide_rows(values, list("abcd")), "bad": bad})
    with caplog.at_level(logging.WARNING):
        got = sk.read(path, unit="cm-1")
    assert list(got.meta["sample"]) == list("abcd") and "sheet 'bad'" in caplog.text
    with pytest.raises(SpectraError, match="sheet 'bad'"):
        sk.read(path, unit="cm-1", sheet="bad")


def test_real_coffee_round_trip_through_a_workbook(tmp_path):
    coffee = sk.datasets.load_coffee()
    path = sk.io.write(coffee, tmp_path / "coffee.xlsx")
    got = sk.read(path)
    np.testing.assert_array_equal(got.values, coffee.values)
    np.testing.assert_array_equal(got.axis.values, coffee.axis.values)
    assert got.axis.kind == coffee.axis.kind and got.axis.unit == coffee.axis.unit
    assert list(got.meta["origin"]) == list(coffee.meta["origin"])
    assert list(pd.read_excel(path).columns[:1]) == list(coffee.meta.columns[:1])


def test_writer_keeps_text_as_text_and_nan_as_empty(tmp_path):
    meta = {"sample": ['=HYPERLINK("http://x")', "+1", "b"], "y": [0.5, np.nan, 2.0]}
    values = np.ones((3, AXIS.size))
    values[2, 4] = np.nan
    s = sk.Spectra(values, AXIS, meta=meta, unit="cm-1", allow_nan=True)
    path = sk.io.write(s, tmp_path / "out.xlsx")
    ws = openpyxl.load_workbook(path)["spectra"]
    assert ws["A2"].data_type == "s" and ws["A2"].value == meta["sample"][0]
    assert ws["B3"].value is None and ws.cell(row=4, column=5 + 4).value is None
    got = sk.read(path, allow_nan=True)
    assert list(got.meta["sample"]) == meta["sample"] and np.isnan(got.meta["y"][1])
    np.testing.assert_array_equal(np.isnan(got.values), np.isnan(values))


@pytest.mark.parametrize(
    ("spectra", "match"),
    [
        (sk.Spectra(np.ones((1, 16_385)), np.arange(16_385.0)), "16,384 columns"),
        (sk.Spectra(np.ones((1, 3)), [1.0, 2.0, 3.0], meta={"s": ["a\x07b"]}), "control"),
    ],
)
def test_writer_refuses_what_excel_cannot_hold_and_writes_nothing(tmp_path, spectra, match):
    with pytest.raises(FormatError, match=match):
        sk.io.write(spectra, tmp_path / "big.xlsx")
    assert list(tmp_path.iterdir()) == []


def _patched(src: Path, dst: Path, edit) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = edit(data)
            zout.writestr(item, data)
    return dst


def test_hostile_workbooks_are_refused_by_the_read_limits(tmp_path):
    small = _book(tmp_path / "small.xlsx", {"s": [[1.0]]})
    cell = b'<row r="1"><c r="A1" t="n"><v>1</v></c></row>'
    far = b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (r, r) for r in range(1, 3001))

    def far_corner(xml: bytes) -> bytes:  # 3,000 cells in the last column: 49 M grid cells
        return xml.replace(cell, far)

    def padded(xml: bytes) -> bytes:  # 20 MB of white space that compresses to nothing
        return xml.replace(b"<sheetData>", b"<sheetData>" + b" " * 20_000_000)

    corner = _patched(small, tmp_path / "corner.xlsx", far_corner)
    bomb = _patched(small, tmp_path / "bomb.xlsx", padded)
    limits = ReadLimits(max_expansion=2.0, min_budget_mb=1.0)
    for path in (corner, bomb):
        with pytest.raises(FormatError, match="limit") as info:
            sk.read(path, limits=limits)
        assert "\n" not in str(info.value)


def test_files_that_are_no_workbook(tmp_path):
    (tmp_path / "text.xlsx").write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="not a zip archive"):
        sk.read(tmp_path / "text.xlsx")
    empty = openpyxl.Workbook()
    empty.save(tmp_path / "empty.xlsx")
    with pytest.raises(FormatError, match="holds no table of spectra"):
        sk.read(tmp_path / "empty.xlsx")
    with zipfile.ZipFile(tmp_path / "nobook.xlsx", "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    with pytest.raises(FormatError, match="damaged Excel workbook"):
        sk.read(tmp_path / "nobook.xlsx")


@pytest.mark.parametrize("name", ["old.xls", "binary.xlsb", "calc.ods"])
def test_legacy_spreadsheets_say_what_to_save_them_as(tmp_path, capsys, name):
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0 legacy")
    assert main(["info", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert "save it as .xlsx" in err and "Traceback" not in err and err.count("\n") == 1


def test_cli_reads_a_workbook_and_refuses_a_bad_one_in_one_line(tmp_path, values, capsys):
    good = _book(tmp_path / "good.xlsx", {"s": _wide_rows(values, list("abcd"))})
    assert main(["info", str(good), "--unit", "cm-1"]) == 0
    assert "4" in capsys.readouterr().out
    rows = _wide_rows(values, list("abcd"))
    rows[3][2] = "bad"
    bad = _book(tmp_path / "bad.xlsx", {"s": rows})
    assert main(["info", str(bad), "--unit", "cm-1"]) == 2
    err = capsys.readouterr().err
    assert "sheet 's'" in err and "row 4" in err and err.count("\n") == 1


def test_missing_openpyxl_is_one_clear_error(tmp_path, values, monkeypatch):
    path = _book(tmp_path / "x.xlsx", {"s": _wide_rows(values, list("abcd"))})
    for name in [m for m in sys.modules if m == "openpyxl" or m.startswith("openpyxl.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed at all
    with pytest.raises(FormatError, match=r"spectrakit\[excel\]"):
        sk.read(path)
    with pytest.raises(FormatError, match=r"spectrakit\[excel\]"):
        sk.io.write(sk.Spectra(values, AXIS, unit="cm-1"), tmp_path / "y.xlsx")
    assert not (tmp_path / "y.xlsx").exists()
