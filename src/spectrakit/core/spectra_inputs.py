"""Validation of what a :class:`~spectrakit.core.spectra.Spectra` is built from.

Intensities become one float32 (n_spectra, n_points) array (refusing text, wrong shapes and
values that overflow float32), non-finite values are refused with their position, and
metadata becomes a DataFrame with one row per spectrum.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.errors import DataError
from spectrakit.core.numeric import as_float64

__all__ = ["as_meta", "as_values", "check_finite", "constant_rows"]


def as_values(values: Any) -> np.ndarray:
    """Intensities as a C-contiguous float32 (n_spectra, n_points) array, or DataError."""
    # float32 cannot overflow float32: one copy, no float64 round trip
    if (
        isinstance(values, np.ndarray)
        and values.dtype == np.float32
        and values.ndim == 2
        and values.shape[1]
    ):
        return np.array(values, dtype=np.float32, order="C")
    arr = as_float64(
        values,
        "intensities are not numeric",
        expected="an array of numbers",
        got=lambda v: repr(v)[:80],
        fix="convert text values to numbers",
    )
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise DataError(
            "intensities have the wrong number of dimensions",
            expected="shape (n_spectra, n_points) or (n_points,)",
            got=f"shape {arr.shape}",
        )
    if arr.shape[1] == 0:
        raise DataError("spectra have no points", expected="at least one point", got="0")
    finite = arr[np.isfinite(arr)]
    if finite.size and np.abs(finite).max() > np.finfo(np.float32).max:
        raise DataError(
            "intensities overflow float32",
            expected=f"|values| <= {np.finfo(np.float32).max:.3g}",
            got=f"{np.abs(finite).max():.3g}",
            fix="rescale the data",
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def check_finite(vals: np.ndarray, allow_nan: bool) -> None:
    """Refuse infinite values, and NaN unless ``allow_nan``, naming the first one."""
    if np.isinf(vals).any():
        r, c = np.argwhere(np.isinf(vals))[0]
        raise DataError(
            "intensities contain infinite values",
            expected="finite numbers",
            got=f"inf in spectrum {int(r)}, point {int(c)}",
            fix="repair or remove saturated/invalid points",
        )
    if not allow_nan and np.isnan(vals).any():
        bad = np.isnan(vals).any(axis=1)
        r, c = np.argwhere(np.isnan(vals))[0]
        raise DataError(
            "intensities contain NaN",
            expected="finite numbers",
            got=f"NaN in {int(bad.sum())} spectra, first in spectrum {int(r)} at point {int(c)}",
            fix="interpolate or drop those points, or pass allow_nan=True",
        )


def constant_rows(values: np.ndarray) -> np.ndarray:
    """Rows with one value at every (non-NaN) point: placeholders, not measurements.

    Acquisition software writes such rows for a failed or skipped scan (the chemotools
    fermentation file ends with three rows of 1.0); no detector reads exactly one value
    across a whole range.

    Parameters
    ----------
    values : ndarray of shape (n_spectra, n_points)

    Returns
    -------
    ndarray of bool, shape (n_spectra,)
    """
    v = np.asarray(values)
    v = v.reshape(v.shape[0], -1) if v.ndim != 2 else v
    if v.shape[1] < 2:
        return np.zeros(v.shape[0], dtype=bool)
    high = v.max(axis=1)
    out = high == v.min(axis=1)
    gaps = np.isnan(high)  # a row with a NaN: compare its measured points only
    if gaps.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN row compares False
            out[gaps] = np.nanmax(v[gaps], axis=1) == np.nanmin(v[gaps], axis=1)
    return out


def as_meta(meta: pd.DataFrame | dict | None, n: int) -> pd.DataFrame:
    """Metadata as a fresh DataFrame of ``n`` rows (an empty one when None)."""
    if meta is None:
        return pd.DataFrame(index=pd.RangeIndex(n))
    df = meta if isinstance(meta, pd.DataFrame) else pd.DataFrame(meta)
    if len(df) != n:
        raise DataError(
            "metadata rows do not match the spectra",
            expected=f"{n} rows",
            got=f"{len(df)} rows",
            fix="give one metadata row per spectrum",
        )
    return df.reset_index(drop=True).copy()
