"""The Dig4Bio Raman transfer-learning challenge folder: one table-format CSV per instrument.

Each CSV (``anton_532.csv``, ``kaiser.csv``, ...) holds one spectrum per row: columns named
by Raman shift (cm-1), the targets ``glucose``, ``Na_acetate`` and ``Mg_SO4``, a fold index
(``fold_idx``, ``fold``, ``Fold``, ... read as ``fold`` as by every reader) and possibly other
metadata. A CSV without spectral columns but with target columns (the challenge's
``96_samples.csv``) is a targets table: it is joined to every instrument's spectra, on the
columns both share (``sample_id``, ...) or, when they share none, row by row. The
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

import pandas as pd

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra, split_table_columns
from spectrakit.io._registry import register_format
from spectrakit.io.formats.csv_table import read_csv
from spectrakit.io.meta_names import FOLD, canonical_meta

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


def _has_targets(header: list[str]) -> bool:
    return bool({t.lower() for t in TARGETS} & {h.strip().lower() for h in header})


def _is_challenge_csv(path: Path) -> bool:
    return path.stem.lower() in INSTRUMENTS or _has_targets(_header(path))


def _is_targets_table(path: Path) -> bool:
    """A CSV with target columns and no spectral (numeric-named) columns."""
    header = _header(path)
    return _has_targets(header) and not split_table_columns(header)[0]


def _sniff(folder: Path) -> bool:
    """A challenge folder: an instrument CSV (a targets table alone may sit beside any spectra)."""
    return any(_is_challenge_csv(p) and not _is_targets_table(p) for p in _csv_files(folder))


def _laser(stem: str) -> float | None:
    """Excitation wavelength in nm when the file name states it (``anton_532`` -> 532)."""
    found = re.search(r"_(\d{3,4})$", stem)
    return float(found[1]) if found and 200 <= int(found[1]) <= 1100 else None


def _clean(meta: pd.DataFrame) -> pd.DataFrame:
    """Drop pandas index columns (``Unnamed: 0``); name the fold column ``fold``."""
    drop = [c for c in meta.columns if str(c).startswith("Unnamed:")]
    return canonical_meta(meta.drop(columns=drop) if drop else meta)


def _read_instrument(path: Path, axis: dict) -> Spectra:
    laser = axis["laser_wavelength"] if axis["laser_wavelength"] is not None else _laser(path.stem)
    kind = axis["kind"] or ("raman_shift" if axis["unit"] == "cm-1" else None)
    spectra = read_csv(path, unit=axis["unit"], kind=kind, laser_wavelength=laser)
    meta = _clean(spectra.meta)
    meta.insert(0, "instrument", path.stem)
    return spectra.with_meta(meta)


def _read_targets(path: Path) -> pd.DataFrame:
    table = _clean(pd.read_csv(path))
    if table.empty:
        raise FormatError(f"{path.name}: the targets table is empty", expected="one row per sample")
    return table


def _join_targets(spectra: Spectra, table: pd.DataFrame, source: str) -> Spectra:
    """Add the targets table's columns to ``spectra.meta`` (existing columns are kept).

    The join is on the columns both tables hold, other than the targets and the fold;
    with none in common, row ``i`` of the table belongs to spectrum ``i`` and the counts
    must agree.
    """
    meta = spectra.meta
    keys = [c for c in table.columns if c in meta.columns and c not in (*TARGETS, FOLD)]
    new = [c for c in table.columns if c not in meta.columns]
    if not new:
        return spectra
    name = str(meta["instrument"].iloc[0]) if "instrument" in meta.columns else "spectra"
    if keys:
        if table.duplicated(keys).any():
            raise FormatError(
                f"{source}: the key {', '.join(keys)} repeats",
                expected="one row per sample in the targets table",
                got=f"{int(table.duplicated(keys).sum())} repeated rows",
                fix="remove the duplicated rows",
            )
        joined = meta.merge(table[keys + new], on=keys, how="left", validate="many_to_one")
        return spectra.with_meta(joined)
    if len(table) != len(meta):
        raise FormatError(
            f"{source} cannot be joined to {name}",
            expected=f"a column shared with {name}.csv (e.g. sample_id), "
            f"or one row per spectrum ({len(meta)} rows)",
            got=f"{len(table)} rows and no shared column",
            fix="add a sample id column to both files",
        )
    return spectra.with_meta(pd.concat([meta, table[new].reset_index(drop=True)], axis=1))


def read_dig4bio(
    folder: str | os.PathLike,
    instruments: list[str] | tuple[str, ...] | None = None,
    *,
    unit: str | None = None,
    kind: str | None = None,
    laser_wavelength: float | None = None,
) -> dict[str, Spectra]:
    """Read the challenge folder as ``{instrument: Spectra}``.

    Parameters
    ----------
    folder : str or path-like
        Folder holding ``<instrument>.csv`` files (and optionally a targets table).
    instruments : sequence of str, optional
        Instruments to read (file stems, e.g. ``["anton_532", "kaiser"]``); all by default.
    unit : str, optional
        Axis unit (default ``cm-1``).
    kind : str, optional
        Axis kind (default ``raman_shift`` for ``cm-1``).
    laser_wavelength : float, optional
        Excitation wavelength (nm) of every file; by default the one the file name gives
        (``anton_785`` -> 785), else none.

    Returns
    -------
    dict of str to Spectra
        One block per instrument, Raman-shift axis in cm-1 (with the laser wavelength when
        known), meta columns ``instrument``, the targets, ``fold`` and any other metadata
        of the file, plus the targets table's columns.

    Examples
    --------
    >>> from spectrakit.io.formats.dig4bio import read_dig4bio  # doctest: +SKIP
    >>> blocks = read_dig4bio("data/", instruments=["kaiser"])  # doctest: +SKIP
    """
    root = Path(folder)
    files, tables = _challenge_files(root)
    wanted = list(files) if instruments is None else _instruments(instruments)
    unknown = [i for i in wanted if i not in files]
    if unknown:
        raise FormatError(
            f"{root.name}: no data for instrument(s) {', '.join(unknown)}",
            expected="one of " + ", ".join(files),
            got=", ".join(unknown),
            fix="name instruments by file stem, e.g. --instruments " + ",".join(list(files)[:2]),
        )
    axis = {"unit": unit or "cm-1", "kind": kind, "laser_wavelength": laser_wavelength}
    blocks = {name: _read_instrument(files[name], axis) for name in wanted}
    for path in tables:
        table = _read_targets(path)
        blocks = {n: _join_targets(s, table, path.name) for n, s in blocks.items()}
    return blocks


def _instruments(names: list[str] | tuple[str, ...] | str) -> list[str]:
    if isinstance(names, str):
        names = names.split(",")
    return [n.strip() for n in names if n.strip()]


def _challenge_files(root: Path) -> tuple[dict[str, Path], list[Path]]:
    """Instrument files by stem, and the targets tables, of a challenge folder."""
    if not root.is_dir():
        raise FormatError(
            f"no such folder: {root}", expected="the challenge data folder", fix="check the path"
        )
    found = [p for p in _csv_files(root) if _is_challenge_csv(p)]
    tables = [p for p in found if _is_targets_table(p)]
    files = {p.stem: p for p in found if p not in tables}
    if not files:
        raise FormatError(
            f"{root.name} is not a Dig4Bio challenge folder",
            expected="CSV files such as " + ", ".join(f"{i}.csv" for i in INSTRUMENTS[:3]),
            got=", ".join(p.name for p in _csv_files(root)[:5]) or "no CSV files",
        )
    return files, tables


@register_format(
    "dig4bio",
    description="Dig4Bio Raman challenge folder (one CSV per instrument)",
    sniff=_sniff,
    directory=True,
    priority=10,
)
def _read_folder(
    path: Path,
    *,
    instruments: list[str] | None = None,
    unit: str | None = None,
    kind: str | None = None,
    laser_wavelength: float | None = None,
) -> dict[str, Spectra]:
    return read_dig4bio(path, instruments, unit=unit, kind=kind, laser_wavelength=laser_wavelength)
