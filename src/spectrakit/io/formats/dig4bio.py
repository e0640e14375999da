"""The Dig4Bio Raman transfer-learning challenge folder: one table-format CSV per instrument.

Each CSV (``anton_532.csv``, ``kaiser.csv``, ...) holds one spectrum per row: columns named
by Raman shift (cm-1), the targets ``glucose``, ``Na_acetate`` and ``Mg_SO4``, a fold index
(``fold_idx``, ``fold``, ``Fold``, ... renamed to ``fold``) and possibly other metadata. The
instruments measure on different grids, so the folder is read as one block per instrument
(:func:`read_dig4bio` or :func:`spectrakit.read_blocks`); bring them onto one grid with
:func:`spectrakit.combine`.

Reference: Dig4Bio Raman Transfer Learning Challenge (Kaggle, 2025).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._registry import register_format
from spectrakit.io.formats.csv_table import read_csv

__all__ = ["INSTRUMENTS", "TARGETS", "read_dig4bio"]

#: instrument file stems of the challenge data.
INSTRUMENTS = (
    "anton_532",
    "anton_785",
    "kaiser",
    "metrohm",
    "mettler_toledo",
    "tec5",
    "timegate",
    "tornado",
)
#: concentration targets (g/L).
TARGETS = ("glucose", "Na_acetate", "Mg_SO4")
_FOLD_NAMES = ("fold_idx", "fold", "folds", "fold_id", "fold_index", "cv_fold")


def _csv_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() == ".csv" and not p.name.startswith(".")
    )


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        line = fh.readline()
        if line.startswith("# spectrakit"):
            line = fh.readline()
    return next(csv.reader([line]), [])


def _is_challenge_csv(path: Path) -> bool:
    return path.stem.lower() in INSTRUMENTS or bool(
        {t.lower() for t in TARGETS} & {h.strip().lower() for h in _header(path)}
    )


def _sniff(folder: Path) -> bool:
    return any(_is_challenge_csv(p) for p in _csv_files(folder))


def _laser(stem: str) -> float | None:
    """Excitation wavelength in nm when the file name states it (``anton_532`` -> 532)."""
    found = re.search(r"_(\d{3,4})$", stem)
    return float(found[1]) if found and 200 <= int(found[1]) <= 1100 else None


def _read_instrument(path: Path) -> Spectra:
    spectra = read_csv(path, unit="cm-1", kind="raman_shift", laser_wavelength=_laser(path.stem))
    meta = spectra.meta
    drop = [c for c in meta.columns if str(c).startswith("Unnamed:")]
    renames = {}
    if "fold" not in meta.columns:
        fold = next((c for c in meta.columns if str(c).strip().lower() in _FOLD_NAMES), None)
        if fold is not None:
            renames[fold] = "fold"
    if drop or renames:
        meta = meta.drop(columns=drop).rename(columns=renames)
    meta.insert(0, "instrument", path.stem)
    return spectra.with_meta(meta)


def read_dig4bio(
    folder: str | os.PathLike, instruments: list[str] | tuple[str, ...] | None = None
) -> dict[str, Spectra]:
    """Read the challenge folder as ``{instrument: Spectra}``.

    Parameters
    ----------
    folder : str or path-like
        Folder holding ``<instrument>.csv`` files.
    instruments : sequence of str, optional
        Instruments to read (file stems, e.g. ``["anton_532", "kaiser"]``); all by default.

    Returns
    -------
    dict of str to Spectra
        One block per instrument, Raman-shift axis in cm-1 (with the laser wavelength when
        the file name gives it, e.g. ``anton_785``), meta columns ``instrument``, the
        targets, ``fold`` and any other metadata of the file.

    Examples
    --------
    >>> from spectrakit.io.formats.dig4bio import read_dig4bio  # doctest: +SKIP
    >>> blocks = read_dig4bio("data/", instruments=["kaiser"])  # doctest: +SKIP
    """
    root = Path(folder)
    if not root.is_dir():
        raise FormatError(
            f"no such folder: {root}", expected="the challenge data folder", fix="check the path"
        )
    files = {p.stem: p for p in _csv_files(root) if _is_challenge_csv(p)}
    if not files:
        raise FormatError(
            f"{root.name} is not a Dig4Bio challenge folder",
            expected="CSV files such as " + ", ".join(f"{i}.csv" for i in INSTRUMENTS[:3]),
            got=", ".join(p.name for p in _csv_files(root)[:5]) or "no CSV files",
        )
    wanted = list(files) if instruments is None else list(instruments)
    unknown = [i for i in wanted if i not in files]
    if unknown:
        raise FormatError(
            f"{root.name}: no data for instrument(s) {', '.join(unknown)}",
            expected="one of " + ", ".join(files),
            got=", ".join(unknown),
        )
    return {name: _read_instrument(files[name]) for name in wanted}


@register_format(
    "dig4bio",
    description="Dig4Bio Raman challenge folder (one CSV per instrument)",
    sniff=_sniff,
    directory=True,
    priority=10,
)
def _read_folder(path: Path, *, instruments: list[str] | None = None) -> dict[str, Spectra]:
    return read_dig4bio(path, instruments)
