"""NumPy .npy / .npz files (never unpickled)."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import DataError, FormatError
from spectrakit.io import read, write


def test_npz_round_trip(tmp_path, raman_like):
    path = tmp_path / "s.npz"
    write(raman_like, path)
    back = read(path)
    assert back.axis == raman_like.axis
    assert back.axis.kind == "raman_shift" and back.axis.laser_wavelength == 785.0
    np.testing.assert_array_equal(back.values, raman_like.values)
    assert back.meta["sample"].tolist() == raman_like.meta["sample"].tolist()
    np.testing.assert_allclose(back.meta["c1"], raman_like.meta["c1"])
    with np.load(path, allow_pickle=False) as z:  # plain arrays only
        assert z["unit"].shape == () and str(z["unit"]) == "cm-1"
        assert all(z[k].dtype != object for k in z.files)


def test_npz_common_names_and_meta(tmp_path):
    x = np.linspace(1100.0, 2500.0, 141)  # NIR nm
    X = np.exp(-0.5 * ((x - 1450.0) / 20.0) ** 2)[None, :] * np.array([[1.0], [2.0], [3.0]])
    path = tmp_path / "nir.npz"
    np.savez(
        path, X=X, wavelengths=x, moisture=np.array([1.0, 2.0, 3.0]), label=np.array(list("abc"))
    )
    s = read(path)
    assert s.axis.unit == "nm" and s.shape == (3, 141)
    assert s.axis.values[np.argmax(s.values[2])] == pytest.approx(1450.0)
    assert s.meta["moisture"].tolist() == [1.0, 2.0, 3.0] and s.meta["label"].tolist() == list(
        "abc"
    )
    np.savez(tmp_path / "w.npz", spectra=X, wavenumbers=x)
    assert read(tmp_path / "w.npz").axis.unit == "cm-1"
    np.savez(tmp_path / "o.npz", intens=X, grid=x)
    assert read(tmp_path / "o.npz", values="intens", axis="grid", unit="nm").axis.unit == "nm"


def test_npy_axis_sources(tmp_path):
    values = np.random.default_rng(0).random((4, 10))
    np.save(tmp_path / "plain.npy", values)
    s = read(tmp_path / "plain.npy")
    assert s.axis.unit == "channel" and s.axis.values.tolist() == list(range(10))
    axis = np.linspace(500.0, 509.0, 10)
    np.save(tmp_path / "runs.npy", values)
    np.save(tmp_path / "runs_axis.npy", axis)
    assert read(tmp_path / "runs.npy", unit="nm").axis.values.tolist() == axis.tolist()
    assert read(tmp_path / "plain.npy", axis=axis[::-1]).values[0, 0] == pytest.approx(
        values[0, -1]
    )
    with pytest.raises(DataError, match="axis"):
        read(tmp_path / "plain.npy", axis=np.arange(3.0))


def test_npy_refuses_pickle_and_truncation(tmp_path):
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FormatError, match="pickled"):
        read(obj)
    good = tmp_path / "good.npy"
    np.save(good, np.ones((5, 100)))
    bad = tmp_path / "cut.npy"
    bad.write_bytes(good.read_bytes()[:300])
    with pytest.raises(FormatError, match="truncated: expected 4000 bytes of data"):
        read(bad)
    bad.write_bytes(good.read_bytes()[:40])  # cut inside the header
    with pytest.raises(FormatError, match="not a readable NumPy file"):
        read(bad)
    npz = tmp_path / "cut.npz"
    np.savez(tmp_path / "full.npz", values=np.ones((5, 100)))
    npz.write_bytes((tmp_path / "full.npz").read_bytes()[:200])
    with pytest.raises(FormatError, match="not a readable NumPy file"):
        read(npz)


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "none.npz", foo=np.ones((2, 3)), bar=np.ones(3))
    with pytest.raises(FormatError, match="no spectra array"):
        read(tmp_path / "none.npz")
    np.savez(tmp_path / "cube.npz", values=np.ones((2, 3, 4)))
    with pytest.raises(DataError, match="dimensions"):
        read(tmp_path / "cube.npz")
