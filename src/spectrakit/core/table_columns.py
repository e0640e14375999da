"""Column names of the table format: one column per axis point, named by its value.

A table's spectral columns are those whose names parse as numbers; every other column is
metadata. Axis values are written as the shortest decimal that reads back exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from spectrakit.core.axis import SpectralAxis

__all__ = ["axis_column_names", "split_table_columns"]


def _format_axis_value(v: float) -> str:
    """Shortest string that parses back to exactly ``v`` (table column names)."""
    return np.format_float_positional(float(v), unique=True, trim="-")


def axis_column_names(axis: SpectralAxis) -> list[str]:
    """Column names for the table format (shortest exact decimal of each axis value)."""
    return [_format_axis_value(v) for v in axis.values]


def _parse_number(name: Any) -> float | None:
    if isinstance(name, bool):
        return None
    if isinstance(name, int | float | np.integer | np.floating):
        return float(name)
    try:
        value = float(str(name).strip())
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def split_table_columns(columns: Iterable[Any]) -> tuple[list[Any], list[Any], np.ndarray]:
    """Split table columns into spectral (numeric names) and metadata columns.

    Returns
    -------
    spectral : list
        Column labels whose names parse as numbers, in file order.
    meta : list
        All other column labels.
    axis : ndarray of shape (n_points,)
        The parsed axis values (file order).
    """
    spectral, meta, axis = [], [], []
    for col in columns:
        value = _parse_number(col)
        if value is None:
            meta.append(col)
        else:
            spectral.append(col)
            axis.append(value)
    return spectral, meta, np.asarray(axis, dtype=np.float64)
