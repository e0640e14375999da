"""MATLAB .mat files, v5 (scipy) and v7.3 (HDF5)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from scipy.io import savemat

from spectrakit.core.errors import DataError, FormatError
from spectrakit.io import read, write

X_AXIS = np.linspace(4000.0, 650.0, 336)  # descending FTIR axis


def _spectra(n: int = 5) -> np.ndarray:
    centers = np.linspace(1000.0, 1800.0, n)
    return np.exp(-0.5 * ((X_AXIS[None, :] - centers[:, None]) / 15.0) ** 2)


def test_round_trip(tmp_path, raman_like):
    path = tmp_path / "s.mat"
    write(raman_like, path)
    back = read(path)
    assert back.axis == raman_like.axis and back.axis.laser_wavelength == 785.0
    np.testing.assert_array_equal(back.values, raman_like.values)
    assert back.meta["sample"].tolist() == raman_like.meta["sample"].tolist()
    np.testing.assert_allclose(back.meta["c2"], raman_like.meta["c2"])


def test_common_names_transposed_and_meta(tmp_path):
    values = _spectra()
    path = tmp_path / "ir.mat"
    # spectra stored in columns (p x n), as many MATLAB users do
    savemat(path, {"spectra": values.T, "wavenumbers": X_AXIS, "conc": np.arange(5.0)[:, None]})
    s = read(path, unit="cm-1")
    assert s.shape == (5, 336)
    assert s.axis.values[np.argmax(s.values[0])] == pytest.approx(
        X_AXIS[np.argmin(abs(X_AXIS - 1000))]
    )
    assert s.meta["conc"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_only_2d_matrix_and_options(tmp_path):
    path = tmp_path / "odd.mat"
    savemat(path, {"M": _spectra(), "ax": X_AXIS[None, :], "y": np.arange(5.0)})
    s = read(path)
    assert s.shape == (5, 336) and s.axis.values[0] == 650.0
    s2 = read(path, values="M", axis="ax", unit="cm-1")
    assert s2.axis.unit == "cm-1"
    with pytest.raises(FormatError, match="no variable 'nope'"):
        read(path, values="nope")
    savemat(tmp_path / "two.mat", {"A": np.ones((3, 4)), "B": np.ones((5, 6))})
    with pytest.raises(FormatError, match="cannot tell which variable"):
        read(tmp_path / "two.mat")
    savemat(tmp_path / "txt.mat", {"values": "hello"})
    with pytest.raises(DataError, match="not a numeric matrix"):
        read(tmp_path / "txt.mat")


def test_struct_fields(tmp_path):
    path = tmp_path / "struct.mat"
    values = _spectra(4)
    savemat(path, {"run": {"data": values, "wavenumber": X_AXIS, "batch": np.arange(4.0)}})
    s = read(path, unit="cm-1")
    assert s.shape == (4, 336) and s.meta["run.batch"].tolist() == [0.0, 1.0, 2.0, 3.0]
    np.testing.assert_allclose(s.values, values[:, ::-1], atol=1e-6)
    assert read(path, values="run.data", axis="run.wavenumber").n_spectra == 4


def test_v73_hdf5(tmp_path):
    path = tmp_path / "v73.mat"
    values = _spectra(3)
    with h5py.File(path, "w", userblock_size=512) as fh:
        # MATLAB writes column-major arrays: HDF5 sees them transposed
        fh.create_dataset("values", data=values.T)
        fh.create_dataset("axis", data=X_AXIS[:, None])
        unit = fh.create_dataset("unit", data=np.array([[ord(c)] for c in "cm-1"], dtype="<u2"))
        unit.attrs["MATLAB_class"] = np.bytes_("char")
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5"
    with open(path, "r+b") as fh:
        fh.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")
    s = read(path)
    assert s.shape == (3, 336) and s.axis.unit == "cm-1"
    np.testing.assert_allclose(s.values, values[:, ::-1], atol=1e-6)


def test_truncated(tmp_path, raman_like):
    path = tmp_path / "s.mat"
    write(raman_like, path)
    cut = tmp_path / "cut.mat"
    cut.write_bytes(path.read_bytes()[:400])
    with pytest.raises(FormatError, match="not a readable MATLAB file"):
        read(cut)
    cut.write_bytes(b"MATLAB 7.3 MAT-file" + b"\x00" * 600)
    with pytest.raises(FormatError, match=r"v7\.3"):
        read(cut)
