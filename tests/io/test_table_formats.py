import numpy as np
import pytest

import spectrakit as sk
from spectrakit import AxisError, FormatError


@pytest.mark.parametrize("ext", [".csv", ".parquet", ".h5"])
def test_round_trip_keeps_values_axis_unit_and_meta(raman_like, tmp_path, ext):
    path = tmp_path / f"spectra{ext}"
    sk.write(raman_like, path)
    back = sk.read(path)
    assert back.equals(raman_like)
    assert back.axis.kind == "raman_shift"
    assert back.axis.laser_wavelength == 785.0


def test_csv_written_by_hand_is_read(tmp_path):
    path = tmp_path / "hand.csv"
    path.write_text("id,glucose,1000.5,1001,1001.5\na,1.5,0.1,0.2,0.3\nb,2.5,0.4,0.5,0.6\n")
    s = sk.read(path, unit="cm-1")
    assert s.shape == (2, 3)
    np.testing.assert_allclose(s.axis.values, [1000.5, 1001.0, 1001.5])
    assert s.meta["glucose"].tolist() == [1.5, 2.5]
    assert s.axis.unit == "cm-1"


def test_csv_without_unit_is_unknown_not_guessed(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("1,2,3\n0.1,0.2,0.3\n")
    s = sk.read(path)
    assert s.axis.unit == "arb"
    with pytest.raises(AxisError, match="cannot convert"):
        s.convert("nm")


def test_descending_csv_columns(tmp_path):
    path = tmp_path / "desc.csv"
    path.write_text("3,2,1\n30,20,10\n")
    s = sk.read(path)
    assert s.axis.values.tolist() == [1.0, 2.0, 3.0]
    assert s.values.tolist() == [[10.0, 20.0, 30.0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("1,2,3\n", "no spectra"),
        ("1,2,3\n1,2,3\n4,5\n", "ragged"),
        ("1,2,3\n1,2,3\n4,5,6,7\n", "ragged"),
        ("1,2,3\n1,x,3\n", "non-numeric"),
        ("1,2,3\n1,nan,3\n", "NaN"),
        ("1,2,3\n1,inf,3\n", "infinite"),
        ("1,2,2\n1,2,3\n", "duplicate"),
        ("1,3,2\n1,2,3\n", "not monotonic"),
    ],
)
def test_bad_csv_gives_one_clear_error(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(sk.SpectraError, match=message) as info:
        sk.read(path)
    assert "\n" not in str(info.value)


def test_unknown_extension_and_format(tmp_path):
    path = tmp_path / "x.weird"
    path.write_text("1,2\n")
    with pytest.raises(FormatError, match="cannot tell the format"):
        sk.read(path)
    with pytest.raises(FormatError, match="unknown format"):
        sk.read(path, format="nope")


def test_failed_write_leaves_no_file(raman_like, tmp_path, monkeypatch):
    from spectrakit.io import _registry

    target = tmp_path / "out.csv"
    target.write_text("previous content")

    def boom(spectra, path, **kw):
        path.write_text("half")
        raise OSError("disk full")

    monkeypatch.setattr(_registry.FORMATS["csv"], "writer", boom)
    with pytest.raises(OSError):
        sk.write(raman_like, target)
    assert target.read_text() == "previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
