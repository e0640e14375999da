"""Write spectra as an Excel workbook (.xlsx): the CSV table layout on one sheet.

The sheet ``spectra`` holds one row per spectrum: the metadata columns, the
``axis_unit``/``axis_kind`` columns, then one column per axis point (the header row holds
the axis values), as :func:`spectrakit.io.formats.csv_table.write_csv` writes it, so Excel
users see the same table and :func:`spectrakit.read` gives the spectra back exactly.

Text cells are written as text, never as formulas (a metadata value ``=HYPERLINK(...)``
stays a string). Excel has no NaN or infinity: a NaN is an empty cell (read back as NaN),
an infinity the text ``inf``/``-inf``. A table wider than Excel's 16,384 columns or longer
than its 1,048,576 rows is refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._registry import register_writer
from spectrakit.io.formats.csv_table import table_frame
from spectrakit.io.formats.excel import _openpyxl

__all__ = ["write_excel"]

#: Excel's sheet size (columns, rows) and the longest text a cell holds
MAX_COLUMNS, MAX_ROWS, MAX_TEXT = 16_384, 1_048_576, 32_767
SHEET = "spectra"


def _check_size(n_rows: int, n_columns: int) -> None:
    if n_columns > MAX_COLUMNS or n_rows + 1 > MAX_ROWS:
        raise FormatError(
            "the table does not fit an Excel sheet",
            expected=f"at most {MAX_COLUMNS:,} columns and {MAX_ROWS - 1:,} spectra",
            got=f"{n_columns:,} columns, {n_rows:,} spectra",
            fix="write .parquet, .h5 or .csv instead, or crop/resample the axis first",
        )


def _check_text(columns: list[object], meta: np.ndarray) -> None:
    """Refuse, before anything is written, text that an Excel cell cannot hold."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    for j, column in enumerate(columns):
        texts = [str(column)]
        if j < meta.shape[1]:
            texts += [v for v in meta[:, j] if isinstance(v, str)]
        for text in texts:
            if len(text) > MAX_TEXT or ILLEGAL_CHARACTERS_RE.search(text):
                raise FormatError(
                    f"column {column!s} holds text an Excel cell cannot hold",
                    expected=f"text of at most {MAX_TEXT:,} characters, no control characters",
                    got=repr(text[:40]) + ("..." if len(text) > 40 else ""),
                    fix="clean that metadata column, or write .csv or .parquet instead",
                )


def _text_cell(sheet: Any, text: str) -> Any:
    """A cell that Excel shows as this text and never evaluates."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=None)
    cell._value, cell.data_type = text, "s"  # a string, even when it starts with "="
    return cell


def _cell(sheet: Any, value: object) -> Any:
    """One table value as an Excel cell value (``None`` is an empty cell)."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        return _text_cell(sheet, repr(value)) if math.isinf(value) else value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value
    try:
        if value != value:  # pandas NaT / NA
            return None
    except (TypeError, ValueError):
        pass
    return _text_cell(sheet, str(value))


@register_writer("excel", extensions=(".xlsx",))
def write_excel(spectra: Spectra, path: Path, *, unit_header: bool = True) -> None:
    """Write ``spectra`` as an ``.xlsx`` workbook with one sheet, ``spectra``.

    Parameters
    ----------
    spectra : Spectra
        Spectra of shape (n_spectra, n_points).
    path : Path
        The workbook to write (a temporary path; :func:`spectrakit.io.write` moves it).
    unit_header : bool, default=True
        Add the ``axis_unit``/``axis_kind`` columns, as the CSV writer does.
    """
    openpyxl = _openpyxl()  # first: without it, one clear error instead of an ImportError
    df = table_frame(spectra, unit_header=unit_header)
    _check_size(len(df), df.shape[1])
    columns = list(df.columns)
    meta = df.iloc[:, : df.shape[1] - len(spectra.axis)].astype(object).to_numpy()
    _check_text(columns, meta)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.append([_text_cell(sheet, str(c)) for c in columns])
    values = np.asarray(spectra.values, dtype=float)
    gaps = np.isnan(values).any(axis=1)
    for i in range(len(df)):
        row = values[i].tolist()
        if gaps[i]:  # Excel has no NaN: an empty cell, which reads back as NaN
            row = [None if x != x else x for x in row]
        sheet.append([_cell(sheet, v) for v in meta[i]] + row)
    with open(path, "wb") as fh:
        book.save(fh)
