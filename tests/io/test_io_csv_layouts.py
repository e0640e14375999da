"""CSV layouts from spreadsheets: semicolons, decimal commas, transposed tables (real files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.cli import main
from spectrakit.core.errors import DataError, FormatError

AXIS = np.round(np.linspace(400.0, 1800.0, 40), 1)
RNG = np.random.default_rng(3)
VALUES = np.round(RNG.uniform(0.0, 2.0, (5, AXIS.size)), 4)
IDS = [f"s{i}" for i in range(5)]
LABELS = ["a", "b", "a", "c", "b"]


def _num(x: float, decimal: str) -> str:
    return f"{x:g}".replace(".", decimal)


def _rows_file(path, sep, decimal):
    head = sep.join(["sample", "label", *(_num(a, decimal) for a in AXIS)])
    body = [sep.join([i, lab, *(_num(x, decimal) for x in row)])
            for i, lab, row in zip(IDS, LABELS, VALUES, strict=True)]  # fmt: skip
    path.write_text("\n".join([head, *body]) + "\n", encoding="utf-8")
    return path


def _columns_file(path, sep, decimal, first="wavenumber (cm-1)", meta_rows=True):
    lines = [sep.join([first, *IDS])]
    if meta_rows:
        lines.append(sep.join(["label", *LABELS]))
        lines.append(sep.join(["conc", *(_num(c, decimal) for c in (0.5, 1.5, 2.0, 2.5, 3.0))]))
    for j, a in enumerate(AXIS):
        lines.append(sep.join([_num(a, decimal), *(_num(x, decimal) for x in VALUES[:, j])]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _check(spectra):
    np.testing.assert_allclose(spectra.axis.values, AXIS, atol=0.05)  # header precision
    np.testing.assert_allclose(spectra.values, VALUES, rtol=1e-6)
    assert spectra.meta["sample"].tolist() == IDS


@pytest.mark.parametrize(
    ("sep", "decimal", "suffix"),
    [(";", ".", ".csv"), (";", ",", ".csv"), ("\t", ",", ".tsv"), ("\t", ",", ".txt")],
)
def test_row_tables_with_other_separators_and_decimal_commas(tmp_path, sep, decimal, suffix):
    spectra = sk.read(_rows_file(tmp_path / f"t{suffix}", sep, decimal))
    _check(spectra)
    assert spectra.meta["label"].tolist() == LABELS


@pytest.mark.parametrize(("sep", "decimal"), [(",", "."), (";", ","), ("\t", ".")])
def test_transposed_tables_with_metadata_rows(tmp_path, sep, decimal):
    spectra = sk.read(_columns_file(tmp_path / "t.csv", sep, decimal))
    _check(spectra)
    assert spectra.axis.unit == "cm-1"  # from the axis label
    assert spectra.meta["label"].tolist() == LABELS
    np.testing.assert_allclose(spectra.meta["conc"], [0.5, 1.5, 2.0, 2.5, 3.0])


def test_transposed_without_metadata_and_with_numeric_ids(tmp_path):
    path = tmp_path / "t.csv"
    lines = ["Raman shift," + ",".join(str(i) for i in range(1, 6))]
    lines += [f"{a:g}," + ",".join(f"{x:g}" for x in VALUES[:, j]) for j, a in enumerate(AXIS)]
    path.write_text("\n".join(lines) + "\n")
    spectra = sk.read(path, unit="cm-1", kind="raman_shift", laser_wavelength=785.0)
    np.testing.assert_allclose(spectra.values, VALUES, rtol=1e-6)
    assert spectra.n_spectra == 5 and spectra.axis.kind == "raman_shift"
    assert spectra.meta["sample"].astype(str).tolist() == ["1", "2", "3", "4", "5"]


def test_row_table_with_pandas_index_is_not_transposed(tmp_path):
    frame = pd.DataFrame(VALUES, columns=[f"{a:g}" for a in AXIS])
    frame.to_csv(tmp_path / "i.csv")  # an unnamed first column: the row index 0..n-1
    spectra = sk.read(tmp_path / "i.csv")
    assert spectra.n_spectra == 5 and spectra.n_points == AXIS.size


def test_wide_semicolon_table_with_decimal_commas(tmp_path):
    axis = np.arange(5000) + 100.0
    vals = np.round(RNG.uniform(size=(3, axis.size)), 3)
    lines = ["id;" + ";".join(f"{a:.1f}".replace(".", ",") for a in axis)]
    lines += [f"x{i};" + ";".join(f"{v:.3f}".replace(".", ",") for v in row)
              for i, row in enumerate(vals)]  # fmt: skip
    (tmp_path / "w.csv").write_text("\n".join(lines) + "\n")
    spectra = sk.read(tmp_path / "w.csv")
    np.testing.assert_allclose(spectra.axis.values, axis)
    np.testing.assert_allclose(spectra.values, vals, rtol=1e-6)


def test_ambiguous_layouts_are_refused_naming_the_layout(tmp_path):
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("sample;1000;1001;1002\ns0;0,5;0.5;0,1\ns1;0,4;0,3;0,2\n")
    with pytest.raises(FormatError, match="semicolon-separated table mixes decimal commas"):
        sk.read(mixed)
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('sample,1000,1001\ns0,"0,5","0,6"\ns1,"0,4","0,3"\n')
    with pytest.raises(FormatError, match="comma-separated table with decimal commas") as info:
        sk.read(quoted)
    assert "';'" in str(info.value)
    rows = _rows_file(tmp_path / "rows.csv", ";", ",")
    with pytest.raises(FormatError, match="semicolon-separated, decimal comma"):
        sk.read(rows, transposed=True)
    bad = _columns_file(tmp_path / "bad.csv", ";", ",")
    text = bad.read_text().splitlines()
    text[10] = text[10].rsplit(";", 1)[0] + ";n/a?"
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(
        DataError, match=r"line 11 \(semicolon-separated, decimal comma, transposed"
    ):
        sk.read(bad)


def test_cli_reads_a_semicolon_decimal_comma_file(tmp_path, capsys):
    path = _rows_file(tmp_path / "t.csv", ";", ",")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "5" in out and "40" in out
    assert main(["convert", str(path), str(tmp_path / "plain.csv")]) == 0
    _check(sk.read(tmp_path / "plain.csv"))
