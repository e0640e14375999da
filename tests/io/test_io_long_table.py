"""Two-column text files and folders of them."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.core.errors import AxisError, DataError, FormatError
from spectrakit.io import read, read_blocks, write


def _peak(x: np.ndarray, center: float, width: float = 5.0) -> np.ndarray:
    return np.exp(-0.5 * ((x - center) / width) ** 2)


@pytest.mark.parametrize(
    ("sep", "header"),
    [(",", "wavenumber,intensity"), ("\t", "wavenumber\tintensity"), (";", None), (" ", None)],
)
def test_separators_header_and_descending_axis(tmp_path, sep, header):
    x = np.arange(1800.0, 399.0, -2.0)  # descending, as many FTIR exports
    y = _peak(x, 1000.0)
    lines = ([header] if header else []) + [
        f"{a:.1f}{sep}{b:.8f}" for a, b in zip(x, y, strict=True)
    ]
    path = tmp_path / "one.txt"
    path.write_text("\n".join(lines) + "\n")
    s = read(path)
    assert s.shape == (1, x.size)
    assert s.axis.values[0] == 400.0 and s.axis.values[-1] == 1800.0
    assert s.axis.values[np.argmax(s.values[0])] == pytest.approx(1000.0)
    assert s.axis.unit == ("cm-1" if header else "arb")


def test_header_units_and_comments(tmp_path):
    path = tmp_path / "uv.csv"
    path.write_text("# exported by a spectrometer\nwavelength (nm),absorbance\n500,0.1\n501,0.2\n")
    s = read(path)
    assert s.axis.unit == "nm" and s.values.tolist() == [[pytest.approx(0.1), pytest.approx(0.2)]]
    micro = tmp_path / "ir.txt"
    micro.write_text("wavelength (um) transmittance\n2.5 0.9\n2.6 0.8\n")
    assert read(micro).axis.unit == "um"
    raman = tmp_path / "r.csv"
    raman.write_text("Raman shift (cm-1),counts\n100,1\n101,2\n")
    assert read(raman).axis.kind == "raman_shift"
    assert read(raman, unit="nm").axis.unit == "nm"


def test_does_not_steal_table_csv(tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("sample,1000,1001,1002\na,1,2,3\nb,4,5,6\n")
    s = read(table)
    assert s.shape == (2, 3) and list(s.meta.columns) == ["sample"]
    # two columns, one a name and one numeric: a one-point table, not a long file
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("sample,1000\na,1\nb,2\n")
    assert read(narrow).shape == (2, 1)


def test_folder_round_trip_keeps_meta(tmp_path, raman_like):
    out = tmp_path / "folder"
    write(raman_like, out, format="long_folder")
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 20 and files[0] == "spectrum_0000.csv"
    back = read(out)
    assert back.axis == raman_like.axis
    np.testing.assert_array_equal(back.values, raman_like.values)
    assert back.meta["sample"].tolist() == raman_like.meta["sample"].tolist()
    np.testing.assert_allclose(back.meta["c1"], raman_like.meta["c1"])
    assert back.meta["file"].tolist() == files
    blocks = read_blocks(out)  # one shared axis: one block, named after the folder
    assert list(blocks) == ["folder"] and blocks["folder"].n_spectra == 20
    assert "block" not in back.meta.columns


def _folder_of_spectra(root, n: int = 6, sep: str = ","):
    """``n`` one-spectrum files s0.txt ... of a Raman-like axis, and their true peak heights."""
    root.mkdir()
    x = np.linspace(200.0, 1800.0, 161)
    heights = np.linspace(1.0, 3.0, n)
    for i, h in enumerate(heights):
        rows = "\n".join(f"{a:g}{sep}{h * _peak(np.array(a), 1000.0, 30.0):.9g}" for a in x)
        (root / f"s{i}.txt").write_text(rows + "\n")
    return x, heights


@pytest.mark.parametrize("key", ["s{}.txt", "s{}"])
def test_folder_metadata_table_is_joined_by_file_name(tmp_path, key, caplog, monkeypatch):
    folder = tmp_path / "run"
    _, heights = _folder_of_spectra(folder)
    lines = ["sample,glucose,batch,operator"]
    lines += [f"{key.format(i)},{10 * h:g},{i // 3},op{i % 2}" for i, h in enumerate(heights[:5])]
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")  # no row for s5
    with caplog.at_level("WARNING"):
        got = read(folder)
    assert got.n_spectra == 6 and got.axis.n_points == 161
    assert got.meta["file"].tolist() == [f"s{i}.txt" for i in range(6)]
    np.testing.assert_allclose(got.meta["glucose"][:5], 10 * heights[:5])
    assert np.isnan(got.meta["glucose"][5]) and got.meta["glucose"].dtype == float
    assert got.meta["batch"][:5].tolist() == [0, 0, 0, 1, 1]
    assert got.meta["operator"].tolist()[:2] == ["op0", "op1"]
    # the peak height of each file is that file's, not a neighbour's: rows follow the files
    np.testing.assert_allclose(got.values.max(axis=1), heights, rtol=1e-6)
    assert "no row for 1 of 6" in caplog.text and "s5.txt" in caplog.text
    assert list(read_blocks(folder)) == ["run"]
    monkeypatch.chdir(folder)
    assert list(read_blocks(".")) == ["run"]  # named by its real name, not ""


def test_folder_tables_that_cannot_be_joined_are_refused(tmp_path):
    folder = tmp_path / "run"
    _folder_of_spectra(folder, n=3)
    table = folder / "labels.csv"
    table.write_text("file,glucose\ns0.txt,1\ns0,2\ns1.txt,3\n")
    with pytest.raises(FormatError, match="names a spectrum file twice"):
        read(folder)
    table.write_text("name,glucose\nx,1\ny,2\n")
    with pytest.raises(FormatError, match="neither a two-column spectrum nor a metadata"):
        read(folder)
    table.write_text("file,glucose\ns0,1\n")
    (folder / "more.csv").write_text("file,batch\ns1,1\n")
    with pytest.raises(FormatError, match="holds 2 metadata tables"):
        read(folder)


def test_a_targets_table_beside_spectra_is_not_a_challenge_folder(tmp_path):
    # a table with the challenge's target names (glucose) used to make the folder Dig4Bio's
    folder = tmp_path / "run"
    _, heights = _folder_of_spectra(folder, n=4, sep="\t")
    rows = [f"s{i},{h:g},0.1,0.2" for i, h in enumerate(heights)]
    (folder / "96_samples.csv").write_text("sample,glucose,Na_acetate,Mg_SO4\n" + "\n".join(rows))
    got = read(folder)
    assert got.n_spectra == 4
    np.testing.assert_allclose(got.targets("glucose"), heights, rtol=1e-5)


@pytest.mark.parametrize(
    ("comment", "unit", "kind"),
    [
        ("# Raman shift (cm-1)\tIntensity", "cm-1", "raman_shift"),
        ("# Wavelength (nm)\tAbsorbance", "nm", "wavelength"),
        ("# laser=785 nm\tpower=50", None, None),  # key-value notes say nothing of the axis
        ("# Acquired 2024-01-01\ton site", None, None),
    ],
)
def test_a_column_name_comment_above_the_data_sets_the_axis(tmp_path, comment, unit, kind):
    path = tmp_path / "one.txt"
    path.write_text(f"# instrument export\n{comment}\n200\t1\n201\t2\n202\t3\n")
    got = read(path)
    if unit is None:  # as without the comment
        plain = tmp_path / "plain.txt"
        plain.write_text("200\t1\n201\t2\n202\t3\n")
        assert (got.axis.unit, got.axis.kind) == (read(plain).axis.unit, read(plain).axis.kind)
    else:
        assert (got.axis.unit, got.axis.kind) == (unit, kind)
    blank = tmp_path / "blank.txt"
    blank.write_text("# Raman shift (cm-1) Intensity\n200 1\n201 2\n")
    assert read(blank).axis.kind == "raman_shift"
    blank.write_text("# Date: 2024 Raman system\n200 1\n201 2\n")
    assert read(blank).axis.kind != "raman_shift"


def test_folder_with_different_axes(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.csv").write_text("100,1\n101,2\n102,3\n")
    (folder / "b.csv").write_text("100,1\n102,2\n104,3\n")
    with pytest.raises(AxisError, match="read_blocks"):
        read(folder)
    blocks = read_blocks(folder)
    assert [b.meta["file"][0] for b in blocks.values()] == ["a.csv", "b.csv"]
    combined = sk.combine(list(blocks.values()))
    assert combined.n_spectra == 2


def test_single_file_writer(tmp_path, raman_like):
    path = tmp_path / "one.txt"
    write(raman_like[3], path, format="long")
    back = read(path)
    assert back.axis == raman_like.axis
    np.testing.assert_array_equal(back.values, raman_like.values[3:4])
    with pytest.raises(FormatError, match="one spectrum"):
        write(raman_like, tmp_path / "many.txt", format="long")
    assert not (tmp_path / "many.txt").exists()


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("wavenumber,intensity\n", DataError, "header but no data"),
        ("100,1\n101\n", FormatError, "line 2 has 1 fields"),
        ("100,1\n101,2,3\n", FormatError, "line 2 has 3 fields"),
        ("100,1\n101,abc\n", DataError, "non-numeric intensity in line 2"),
        ("100,1\n100,2\n", AxisError, "duplicate"),
        ("100,1\n102,2\n101,3\n", AxisError, "not monotonic"),
        ("100,1\n101,inf\n", DataError, "infinite"),
    ],
)
def test_bad_files(tmp_path, text, error, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(error, match=match):
        read(path, format="long")


def test_tsv_table_and_tsv_long_file(tmp_path, raman_like):
    table = tmp_path / "table.tsv"
    write(raman_like, table)
    assert "\t" in table.read_text().splitlines()[1]
    assert read(table).equals(raman_like, atol=1e-6)
    long = tmp_path / "one.tsv"
    long.write_text("wavenumber\tintensity\n100\t1\n101\t2\n")
    assert read(long).shape == (1, 2)
