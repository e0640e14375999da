"""Every registered file format: write -> read round trip, and a damaged file is refused.

Parametrised over :data:`spectrakit.io.FORMATS`, so a new format gets these tests by being
registered. A read-only format needs a sample builder in ``READ_ONLY_SAMPLES`` (a file with
known content); a format without one fails :func:`test_every_read_only_format_has_a_sample`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from _io_attacks import valid_opus, valid_spc
from spectrakit.core.errors import SpectraError
from spectrakit.io import FORMATS

AXIS = np.arange(400.0, 480.0, 2.0)  # 40 points, exact in any text header
Sample = tuple[Path, np.ndarray, np.ndarray]  # path, values (n, L), axis (L,)


def _spectra(n: int = 3) -> sk.Spectra:
    values = np.random.default_rng(0).random((n, AXIS.size))
    meta = {"sample": ["a", "b", "c"][:n], "y": [0.5, 1.5, 2.5][:n]}
    return sk.Spectra(values, AXIS, meta=meta, unit="cm-1")


def _npy(folder: Path) -> Sample:
    values = np.arange(12.0).reshape(3, 4)
    np.save(folder / "s.npy", values)
    return folder / "s.npy", values, np.arange(4.0)


def _spc(folder: Path) -> Sample:
    (folder / "s.spc").write_bytes(valid_spc())
    return folder / "s.spc", np.tile(np.linspace(0, 1, 100), (2, 1)), np.linspace(400, 1800, 100)


def _opus(folder: Path) -> Sample:
    (folder / "s.0").write_bytes(valid_opus())
    return folder / "s.0", np.linspace(0, 1, 100)[None], np.linspace(4000, 400, 100)


def _dig4bio(folder: Path) -> Sample:
    root = folder / "challenge"
    root.mkdir()
    values = np.random.default_rng(1).random((4, AXIS.size))
    df = pd.DataFrame(values, columns=[f"{v:.2f}" for v in AXIS])
    df["glucose"] = [1.0, 2.0, 3.0, 4.0]
    df["fold_idx"] = [0, 1, 0, 1]
    df.to_csv(root / "anton_532.csv", index=True)
    return root, values, AXIS


#: read-only formats: a builder of a valid file with known values and axis.
READ_ONLY_SAMPLES: dict[str, Callable[[Path], Sample]] = {
    "npy": _npy,
    "spc": _spc,
    "opus": _opus,
    "dig4bio": _dig4bio,
}


def _target(folder: Path, name: str) -> Path:
    fmt = FORMATS[name]
    return folder / (f"out_{name}" + ("" if fmt.directory else fmt.extensions[0]))


def _sample(folder: Path, name: str) -> Sample:
    if name in READ_ONLY_SAMPLES:
        return READ_ONLY_SAMPLES[name](folder)
    spectra = _spectra(1 if name == "long" else 3)  # a two-column file holds one spectrum
    path = sk.io.write(spectra, _target(folder, name), format=name)
    return path, np.asarray(spectra.values), AXIS


def _by_axis(values: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(axis)
    return np.asarray(values)[:, order], np.asarray(axis)[order]


def test_every_read_only_format_has_a_sample():
    read_only = {n for n, f in FORMATS.items() if f.writer is None}
    assert read_only <= set(READ_ONLY_SAMPLES), "add a sample builder to READ_ONLY_SAMPLES"
    assert all(FORMATS[n].reader is not None for n in FORMATS)


@pytest.mark.parametrize("name", list(FORMATS))
def test_round_trip(tmp_path, name):
    path, values, axis = _sample(tmp_path, name)
    got = sk.io.read(path, format=name)
    want_v, want_x = _by_axis(values, axis)
    got_v, got_x = _by_axis(got.values, got.axis.values)
    np.testing.assert_allclose(got_x, want_x, rtol=1e-9)
    np.testing.assert_allclose(got_v, want_v, rtol=1e-6, atol=1e-7)
    if FORMATS[name].writer is not None:  # metadata and unit travel with the spectra
        assert got.axis.unit == "cm-1"
        n = len(values)
        assert list(got.meta["sample"]) == ["a", "b", "c"][:n]
        np.testing.assert_allclose(got.meta["y"], [0.5, 1.5, 2.5][:n])


def _damage(path: Path) -> None:
    """Cut the file (or a folder's largest file) in half and end it with junk bytes."""
    if path.is_dir():
        path = max((p for p in path.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] + b"\x00\xff junk \x01\n")


@pytest.mark.parametrize("name", list(FORMATS))
def test_damaged_file_is_refused_with_one_project_error(tmp_path, name):
    path, _, _ = _sample(tmp_path, name)
    _damage(path)
    with pytest.raises(SpectraError) as info:
        sk.io.read(path, format=name)
    assert "\n" not in str(info.value) and str(info.value).strip()
