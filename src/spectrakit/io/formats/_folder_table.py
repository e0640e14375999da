"""The metadata table of a folder of one-spectrum files: found, read and joined by file name.

A folder of two-column files often holds one more file: a table of what each spectrum is
(``file,glucose,batch``). It is recognised by a column whose values name the folder's
spectrum files, with or without their extension, and joined onto the spectra by that column.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit.core.errors import FormatError
from spectrakit.io._text_fields import guess_separator as _separator
from spectrakit.io._text_fields import is_number as _numeric

__all__ = ["file_keys", "has_text_rows", "join_on_files", "read_meta_table"]

_log = logging.getLogger(__name__)
#: lines looked at to tell a metadata table from a spectrum file
_HEAD_LINES = 50
#: a metadata table larger than this is not read whole to find its file column
MAX_TABLE_BYTES = 64 * 2**20


def file_keys(files: list[Path]) -> dict[str, str]:
    """Every name a table may use for a spectrum file (name and stem) -> the file name."""
    keys = {p.stem: p.name for p in files}
    keys.update({p.name: p.name for p in files})
    return keys


def _head(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", errors="strict") as fh:
            lines = [line.strip() for _, line in zip(range(_HEAD_LINES), fh, strict=False)]
    except (UnicodeDecodeError, OSError):
        return []
    return [line for line in lines if line and not line.startswith("#")]


def has_text_rows(path: Path) -> bool:
    """Whether a data line after the first holds a non-numeric field (not a spectrum file)."""
    lines = _head(path)
    if len(lines) < 2:
        return False
    sep = _separator(lines[0])
    return any(not all(_numeric(f.strip()) for f in _fields(line, sep)) for line in lines[1:])


def _fields(line: str, sep: str | None) -> list[str]:
    return next(csv.reader([line], delimiter=sep)) if sep else line.split()


def read_meta_table(path: Path, keys: dict[str, str]) -> tuple[pd.DataFrame, str]:
    """The table and the name of its column of spectrum file names.

    Parameters
    ----------
    path : Path
        A table with a header line.
    keys : dict of str to str
        :func:`file_keys` of the folder's spectrum files.

    Returns
    -------
    table : DataFrame of shape (n_rows, n_columns)
        Numeric columns as float.
    column : str

    Raises
    ------
    FormatError
        The table is too large, unreadable, has no column naming the spectrum files, or
        names one file twice.
    """
    if path.stat().st_size > MAX_TABLE_BYTES:
        raise FormatError(
            f"{path.name} is too large for the metadata table of a folder",
            expected=f"at most {MAX_TABLE_BYTES // 2**20} MiB",
            got=f"{path.stat().st_size / 2**20:.0f} MiB",
            fix="move it out of the folder",
        )
    sep = _separator(_head(path)[0]) or r"\s+"
    try:
        table = pd.read_csv(path, sep=sep, comment="#", dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise FormatError(
            f"{path.name} is neither a spectrum nor a readable table",
            expected="a table with a header line, one row per spectrum file",
            got=str(exc).splitlines()[0][:80],
        ) from None
    column = _file_column(table, keys)
    if column is None:
        raise FormatError(
            f"{path.name} is neither a two-column spectrum nor a metadata table",
            expected="a column whose values are the folder's spectrum file names",
            got="columns " + ", ".join(map(str, table.columns[:6])),
            fix="add a 'file' column naming each spectrum file, or move the file out",
        )
    return _typed(table, column), column


def _file_column(table: pd.DataFrame, keys: dict[str, str]) -> str | None:
    """The column with the most values that name spectrum files (at least one)."""
    hits = {c: table[c].str.strip().isin(keys).sum() for c in table.columns}
    best = max(hits, key=hits.get, default=None)
    return best if best is not None and hits[best] > 0 else None


def _typed(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """Columns whose every non-empty value is a number become float (empty -> NaN)."""
    out = table.copy()
    for c in out.columns:
        if c == column:
            out[c] = out[c].str.strip()
            continue
        values = out[c].str.strip()
        filled = values[values != ""]
        if len(filled) and filled.map(_numeric).all():
            out[c] = pd.to_numeric(values.replace("", "nan"))
    return out


def join_on_files(
    meta: pd.DataFrame, table: pd.DataFrame, column: str, keys: dict[str, str], source: str
) -> pd.DataFrame:
    """``meta`` (one row per spectrum, with a ``file`` column) with the table's columns.

    Parameters
    ----------
    meta : DataFrame of shape (n_spectra, m)
    table : DataFrame of shape (n_rows, k)
        From :func:`read_meta_table`.
    column : str
        The table's column of file names (or stems).
    keys : dict of str to str
        :func:`file_keys`.
    source : str
        The table's file name, for messages.

    Returns
    -------
    DataFrame of shape (n_spectra, m + k - 1)
        A spectrum the table does not name gets NaN (with a warning).
    """
    names = table[column].map(keys)
    doubled = names[names.notna() & names.duplicated()]
    if len(doubled):
        raise FormatError(
            f"{source} names a spectrum file twice",
            expected="one row per spectrum file",
            got=f"{doubled.iloc[0]} in {int((names == doubled.iloc[0]).sum())} rows",
            fix="keep one row per file",
        )
    rows = table.drop(columns=[column]).set_axis(names.to_numpy(), axis=0)
    rows = rows[names.notna().to_numpy()]
    clash = [c for c in rows.columns if c in meta.columns]
    rows = rows.rename(columns={c: f"{c}_{Path(source).stem}" for c in clash})
    missing = sorted(set(meta["file"]) - set(rows.index))
    if missing:
        _log.warning(
            "%s has no row for %d of %d spectrum files (%s): their columns are NaN",
            source, len(missing), meta["file"].nunique(), ", ".join(missing[:3]),
        )  # fmt: skip
    joined = rows.reindex(meta["file"].to_numpy()).reset_index(drop=True)
    for c in joined.columns:
        if joined[c].dtype == object:
            joined[c] = joined[c].where(joined[c].notna(), np.nan)
    return pd.concat([meta.reset_index(drop=True), joined], axis=1)
