"""No small file makes a reader allocate or spin: each attack file is refused clearly."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from _io_attacks import REFUSED, npz_zeros, parquet_unknown_dtype
from spectrakit.core.errors import ConfigError, FormatError
from spectrakit.io import ReadLimits

#: what each refusal must name (the limit, or the defect found).
_NAMES = {
    "jcamp-npoints": "max_expansion",
    "jcamp-undeclared": "max_expansion",
    "spc-shared-subfile": "same bytes",
    "opus-shared-block": "same bytes",
    "npz-deflated-zeros": "max_expansion",
    "npz-lying-header": "truncated",
    "npz-non-array": "not a NumPy array",
    "npz-pickled": "pickled",
    "hdf5-gzip-zeros": "max_expansion",
    "hdf5-zeroed-text": "timeout_s",
    "mat-compressed-zeros": "max_expansion",
    "parquet-rle-zeros": "max_expansion",
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_attack_file_is_refused_with_a_clear_error(tmp_path, name):
    file_name, build = REFUSED[name]
    path = build(tmp_path / file_name)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(FormatError) as info:
        sk.read(path, limits=ReadLimits(timeout_s=3))
    text = str(info.value)
    assert _NAMES[name] in text
    assert path.name in text
    assert "\n" not in text


def test_a_raised_limit_reads_the_file(tmp_path):
    """The error says how to raise the limit, and doing so reads the (trusted) file."""
    path = npz_zeros(tmp_path / "z.npz", megabytes=24)
    with pytest.raises(FormatError, match="SPECTRAKIT_READ_LIMITS"):
        sk.read(path)
    s = sk.read(path, limits=ReadLimits(max_expansion=10_000, min_budget_mb=64))
    assert s.shape == (24 * 1024 * 1024 // 8 // 1000, 1000)
    assert float(np.abs(s.values).max()) == 0.0


def test_limits_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "dup.jdx"
    path.write_text(
        "##TITLE=x\n##JCAMP-DX=4.24\n##XUNITS=1/CM\n##FIRSTX=0\n##LASTX=1\n"
        "##NPOINTS=99999\n##XYDATA=(X++(Y..Y))\n0 1s9999\n##END=\n"
    )
    assert sk.read(path).shape == (1, 99999)  # 2.4 MB decoded: within the default budget
    monkeypatch.setenv("SPECTRAKIT_READ_LIMITS", "min_budget_mb=1")
    with pytest.raises(FormatError, match="min_budget_mb=1"):
        sk.read(path)
    monkeypatch.setenv("SPECTRAKIT_READ_LIMITS", "max_expansions=3")
    with pytest.raises(ConfigError, match="max_expansion"):
        sk.read(path)


def test_bad_limit_values_are_refused():
    with pytest.raises(ConfigError):
        ReadLimits(timeout_s=0)
    with pytest.raises(ConfigError):
        ReadLimits.parse("timeout_s=soon")


def test_parquet_with_unknown_pandas_dtype_is_read(tmp_path, caplog):
    path = parquet_unknown_dtype(tmp_path / "p.parquet")
    s = sk.read(path)
    assert s.shape == (3, 5)
    assert list(s.meta["id"]) == ["a", "b", "c"]
    assert "pandas metadata" in caplog.text


def test_hdf5_and_mat73_still_read(tmp_path):
    import h5py

    s = sk.Spectra(
        np.arange(12.0).reshape(3, 4), [1.0, 2.0, 3.0, 4.0], meta={"id": ["a", "b", "c"]}
    )
    sk.io.write(s, tmp_path / "t.h5")
    back = sk.read(tmp_path / "t.h5")
    np.testing.assert_array_equal(back.values, s.values)
    assert list(back.meta["id"]) == ["a", "b", "c"]
    mat = tmp_path / "v73.mat"
    with h5py.File(mat, "w", userblock_size=512) as fh:
        fh.create_dataset("values", data=np.arange(12.0).reshape(3, 4).T)
        fh.create_dataset("axis", data=np.array([[1.0, 2.0, 3.0, 4.0]]).T)
    with open(mat, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file".ljust(128, b" "))
    np.testing.assert_array_equal(sk.read(mat).values, s.values)


def test_convert_to_a_read_only_format_names_the_writable_ones(tmp_path):
    s = sk.Spectra(np.ones((1, 3)), [1.0, 2.0, 3.0])
    with pytest.raises(FormatError, match="no spc writer") as info:
        sk.io.write(s, tmp_path / "y.spc")
    assert "csv" in str(info.value) and "parquet" in str(info.value)
    assert not (tmp_path / "y.spc").exists()
