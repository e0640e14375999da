"""Public data sets fetched once into the local cache (see :mod:`spectrakit.datasets._cache`).

- ``bacteria-id``: Raman spectra of 30 bacterial and yeast isolates (Ho et al., 2019,
  "Rapid identification of pathogenic bacteria using Raman spectroscopy and deep learning",
  Nature Communications 10, 4927), 1000 points each.
- ``dig4bio``: the Dig4Bio Raman transfer-learning challenge (Kaggle): glucose, sodium
  acetate and magnesium sulfate measured on eight instruments. Kaggle needs a login, so it
  is downloaded by hand and placed in the cache folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError
from spectrakit.core.spectra import Spectra
from spectrakit.datasets._cache import RemoteDataset, RemoteFile, data_home, fetch

__all__ = ["BACTERIA_STRAINS", "REGISTRY", "load_bacteria_id", "load_dig4bio", "register"]

_BACTERIA_SPLITS = ("reference", "finetune", "test", "2018clinical", "2019clinical")

#: isolate names of the 30-class reference task (label -> name), from the authors' code.
BACTERIA_STRAINS = (
    "C. albicans", "C. glabrata", "K. aerogenes", "E. coli 1", "E. coli 2", "E. faecium",
    "E. faecalis 1", "E. faecalis 2", "E. cloacae", "K. pneumoniae 1", "K. pneumoniae 2",
    "P. mirabilis", "P. aeruginosa 1", "P. aeruginosa 2", "MSSA 1", "MSSA 3",
    "MRSA 1 (isogenic)", "MRSA 2", "MSSA 2", "S. enterica", "S. epidermidis",
    "S. lugdunensis", "S. marcescens", "S. pneumoniae 2", "S. pneumoniae 1", "S. sanguinis",
    "Group A Strep.", "Group B Strep.", "Group C Strep.", "Group G Strep.",
)  # fmt: skip

REGISTRY: dict[str, RemoteDataset] = {}


def register(dataset: RemoteDataset) -> RemoteDataset:
    """Add (or replace) a downloadable data set in :data:`REGISTRY`."""
    REGISTRY[dataset.name] = dataset
    return dataset


register(
    RemoteDataset(
        name="bacteria-id",
        files=(
            RemoteFile(
                "bacteria-id.zip",
                "https://www.dropbox.com/sh/gmgduvzyl5tken6/AABtSWXWPjoUBkKyC2e7Ag6Da?dl=1",
                sha256=None,  # no published checksum: pinned on first download
                unpack=True,
            ),
        ),
        homepage="https://github.com/csho33/bacteria-ID",
        description="Raman spectra of 30 pathogenic isolates (reference, finetune, test) "
        "and clinical samples; 1000 points per spectrum.",
        citation="Ho, C.-S. et al. Rapid identification of pathogenic bacteria using Raman "
        "spectroscopy and deep learning. Nat. Commun. 10, 4927 (2019).",
        expected=tuple(f"{a}_{s}.npy" for s in _BACTERIA_SPLITS[:3] for a in ("X", "y")),
    )
)
register(
    RemoteDataset(
        name="dig4bio",
        files=(RemoteFile("dig-4-bio-raman-transfer-learning-challenge.zip", None, unpack=True),),
        homepage="https://www.kaggle.com/competitions/dig-4-bio-raman-transfer-learning-challenge",
        description="Raman spectra of glucose / sodium acetate / magnesium sulfate mixtures "
        "measured on eight instruments (one CSV per instrument).",
        citation="Dig4Bio Raman Transfer Learning Challenge, Kaggle.",
    )
)


def _dataset(name: str) -> RemoteDataset:
    if name not in REGISTRY:
        raise DataError(
            "unknown downloadable data set",
            expected="one of " + ", ".join(sorted(REGISTRY)),
            got=repr(name),
        )
    return REGISTRY[name]


def load_bacteria_id(
    split: str = "reference",
    *,
    home: str | os.PathLike | None = None,
) -> Spectra:
    """Bacteria-ID Raman spectra (Ho et al., 2019), downloaded once into the cache.

    Parameters
    ----------
    split : {"reference", "finetune", "test", "2018clinical", "2019clinical"}
        ``reference`` holds 60,000 spectra (2,000 per isolate); ``finetune`` and ``test``
        3,000 each.
    home : path-like, optional
        Cache root (default ``$SPECTRAKIT_DATA`` or ``~/.cache/spectrakit``).

    Returns
    -------
    Spectra
        Meta ``label`` (int) and, for the 30-isolate splits, ``strain``. The axis is the
        published wavenumber axis when ``wavenumbers.npy`` is present, else point indices.
    """
    if split not in _BACTERIA_SPLITS:
        raise DataError(
            "unknown bacteria-ID split",
            expected="one of " + ", ".join(_BACTERIA_SPLITS),
            got=repr(split),
        )
    folder = fetch(_dataset("bacteria-id"), home=home)
    x_path, y_path = folder / f"X_{split}.npy", folder / f"y_{split}.npy"
    for p in (x_path, y_path):
        if not p.exists():
            raise DataError(
                f"bacteria-ID split {split!r} is not in the cache",
                expected=p.name,
                got="missing",
                fix=f"download it from {REGISTRY['bacteria-id'].homepage} into {folder}",
            )
    values = np.load(x_path, allow_pickle=False)
    labels = np.load(y_path, allow_pickle=False).astype(np.int64).ravel()
    if values.ndim != 2 or values.shape[0] != labels.size:
        raise DataError(
            f"bacteria-ID {split} files do not match",
            expected="X of shape (n, p) and y of shape (n,)",
            got=f"X {values.shape}, y {labels.shape}",
            fix=f"delete {folder} and download again",
        )
    values, axis = _bacteria_axis(folder, values)
    meta = pd.DataFrame({"label": labels})
    if split in _BACTERIA_SPLITS[:3] and labels.size and labels.max() < len(BACTERIA_STRAINS):
        meta["strain"] = np.asarray(BACTERIA_STRAINS, dtype=object)[labels]
    return Spectra(np.ascontiguousarray(values, dtype=np.float32), axis, meta)


def _bacteria_axis(folder: Path, values: np.ndarray) -> tuple[np.ndarray, SpectralAxis]:
    """The published wavenumber axis (spectra reordered ascending) or point indices.

    ``values`` is (n, p); ``wavenumbers.npy``, when present, must hold p values.
    """
    wn_path = folder / "wavenumbers.npy"
    if not wn_path.exists():
        return values, SpectralAxis(np.arange(values.shape[1], dtype=np.float64), unit="channel")
    wn = np.load(wn_path, allow_pickle=False)
    if wn.shape != (values.shape[1],):
        raise DataError(
            "wavenumbers.npy does not match the spectra",
            expected=f"{values.shape[1]} values",
            got=f"shape {wn.shape}",
            fix=f"delete {folder} and download again",
        )
    axis, order = SpectralAxis.from_values(wn, unit="cm-1", kind="raman_shift")
    return (values if order is None else values[:, order]), axis


def load_dig4bio(*, home: str | os.PathLike | None = None) -> dict[str, Spectra]:
    """The Dig4Bio challenge data, one Spectra per instrument.

    Kaggle requires a login: download the competition data by hand and put the zip (or its
    CSV files) in ``<cache>/dig4bio/``; it is unpacked once.

    Parameters
    ----------
    home : path-like, optional
        Cache root (default ``$SPECTRAKIT_DATA`` or ``~/.cache/spectrakit``).

    Returns
    -------
    dict of str to Spectra
        Instrument name -> its spectra with targets in meta (read with the ``dig4bio``
        format of :func:`spectrakit.read_blocks`).
    """
    from spectrakit.io import read_blocks

    dataset = _dataset("dig4bio")
    folder = data_home(home) / dataset.name
    if not _has_csv(folder):
        fetch(dataset, home=home)
    if not _has_csv(folder):
        raise DataError(
            "the Dig4Bio folder holds no CSV files",
            expected="one CSV per instrument (anton_532.csv, kaiser.csv, ...)",
            got=f"{folder}",
            fix=f"download the data from {dataset.homepage} and unzip it into {folder}",
        )
    return read_blocks(folder, format="dig4bio")


def _has_csv(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.csv"))
