"""Transposed tables: the axis in the first column, one spectrum per further column.

Layout (any separator and decimal mark, see :mod:`spectrakit.io._table_layout`)::

    wavenumber (cm-1),s1,s2,s3      <- axis label (a unit in it sets the axis unit), spectrum ids
    label,a,b,a                     <- optional metadata rows: field name, one value per spectrum
    400.0,0.12,0.10,0.31            <- axis value, one intensity per spectrum
    ...

The column names become the ``sample`` metadata column; each metadata row becomes a column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.errors import AxisError, DataError, FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import merge_axis_options
from spectrakit.io._table_layout import TableLayout
from spectrakit.io.formats.long_table import _header_axis

__all__ = ["read_transposed"]


def _numeric(frame: pd.DataFrame, path: Path, skip: int, layout: TableLayout) -> np.ndarray:
    """The numeric block (axis rows x columns) as float64, refusing text cells."""
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(values) & frame.notna().to_numpy()
    if bad.any():
        r, c = np.argwhere(bad)[0]
        line = skip + 1 + layout.meta_rows + int(r) + 1
        raise DataError(
            f"{path.name}: non-numeric value in line {line} ({layout.describe()})",
            expected="numbers below the header and metadata rows",
            got=repr(str(frame.iat[r, c])[:40]),
            fix="repair the value, or move the metadata rows above the first axis row",
        )
    return values


def _meta(path: Path, skip: int, layout: TableLayout) -> pd.DataFrame:
    ids = layout.header[1:]
    meta = pd.DataFrame({"sample": ids})
    if layout.meta_rows:
        rows = pd.read_csv(path, sep=layout.sep, skiprows=skip, nrows=layout.meta_rows,
                           dtype=str, header=0, keep_default_na=False)  # fmt: skip
        for _, row in rows.iterrows():
            name = str(row.iloc[0]).strip()
            column = pd.Series(row.iloc[1:].to_numpy(), dtype=object)
            if layout.decimal != ".":
                column = column.str.replace(layout.decimal, ".", regex=False)
            numbers = pd.to_numeric(column, errors="coerce")
            meta[name] = numbers.to_numpy() if numbers.notna().all() else column.to_numpy()
    return meta


def read_transposed(
    path: Path,
    skip: int,
    layout: TableLayout,
    stored: dict[str, Any] | None,
    options: dict[str, Any],
) -> Spectra:
    """Read a transposed table into Spectra of shape (n_columns - 1, n_axis_rows).

    Parameters
    ----------
    path : Path
        The file.
    skip : int
        Lines before the header.
    layout : TableLayout
        The sniffed layout (``transposed`` true).
    stored : dict or None
        Axis information recorded in the file.
    options : dict
        Explicit ``unit``/``kind``/``laser_wavelength`` (they win).

    Returns
    -------
    Spectra
    """
    if len(set(layout.header[1:])) != len(layout.header) - 1:
        raise FormatError(
            f"{path.name}: duplicate spectrum names in the header ({layout.describe()})",
            expected="one name per spectrum column",
            fix="rename the duplicated columns",
        )
    lines = [*range(skip), *range(skip + 1, skip + 1 + layout.meta_rows)]
    frame = pd.read_csv(path, sep=layout.sep, decimal=layout.decimal, skiprows=lines,
                        header=0, dtype=str)  # fmt: skip
    if len(frame.columns) != len(layout.header):
        raise FormatError(
            f"{path.name}: ragged rows ({layout.describe()})",
            expected=f"{len(layout.header)} fields per row (as in the header)",
            got=f"{len(frame.columns)} columns",
        )
    if layout.decimal != ".":
        frame = frame.apply(lambda c: c.str.replace(layout.decimal, ".", regex=False))
    block = _numeric(frame, path, skip, layout)
    axis = block[:, 0]
    if np.isnan(axis).any():
        raise DataError(f"{path.name}: an axis row has no axis value", got=layout.describe())
    header_info = _header_axis([layout.header[0]])
    axis_options = merge_axis_options({**header_info, **(stored or {})}, options)
    try:
        return Spectra(block[:, 1:].T, axis, _meta(path, skip, layout), **axis_options)
    except AxisError as exc:
        raise AxisError(
            f"{path.name} ({layout.describe()}): {exc.message}",
            expected=exc.expected,
            got=exc.got,
            fix=exc.fix,
        ) from None
