"""Two-column text files and folders of them."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.errors import AxisError, DataError, FormatError
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
    blocks = read_blocks(out)
    assert list(blocks) == files and all(b.n_spectra == 1 for b in blocks.values())


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
