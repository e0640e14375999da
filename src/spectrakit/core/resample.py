"""Batched interpolation of spectra onto a new grid, with explicit out-of-range policy."""

from __future__ import annotations

import numpy as np

from spectrakit.core.errors import AxisError

__all__ = ["resample_values"]

_METHODS = ("linear", "cubic")


def _linear(values: np.ndarray, x: np.ndarray, new_x: np.ndarray) -> np.ndarray:
    # One searchsorted for all rows; the weights are shared, so this is a single gather + FMA.
    idx = np.clip(np.searchsorted(x, new_x, side="right") - 1, 0, x.size - 2)
    x0, x1 = x[idx], x[idx + 1]
    w = ((new_x - x0) / (x1 - x0)).astype(values.dtype)
    left = values[:, idx]
    return left + (values[:, idx + 1] - left) * w


def _check_grids(x: np.ndarray, new_x: np.ndarray, method: str) -> np.ndarray:
    """Refuse an unknown method or unusable grids; return ``new_x`` as float64."""
    if method not in _METHODS:
        raise AxisError(
            "unknown interpolation method", expected=" or ".join(_METHODS), got=repr(method)
        )
    new_x = np.asarray(new_x, dtype=np.float64)
    if new_x.ndim != 1 or new_x.size == 0:
        raise AxisError("target grid must be a non-empty 1D array", got=f"shape {new_x.shape}")
    if new_x.size > 1 and np.any(np.diff(new_x) <= 0):
        raise AxisError(
            "target grid is not strictly increasing",
            fix="sort the grid and drop duplicates",
        )
    if x.size < 2:
        raise AxisError("cannot interpolate a single-point axis", expected=">= 2 points", got="1")
    if method == "cubic" and x.size < 4:
        raise AxisError("cubic interpolation needs >= 4 points", got=f"{x.size}")
    return new_x


def _outside(x: np.ndarray, new_x: np.ndarray, fill: str | float | None) -> np.ndarray:
    """Mask of ``new_x`` beyond ``x`` (within a relative 1e-9); refused when ``fill`` is None."""
    tol = 1e-9 * max(abs(x[0]), abs(x[-1]), 1.0)
    outside = (new_x < x[0] - tol) | (new_x > x[-1] + tol)
    if outside.any() and fill is None:
        raise AxisError(
            "target grid extends beyond the measured axis",
            expected=f"positions within {x[0]:.6g}-{x[-1]:.6g}",
            got=f"{new_x[0]:.6g}-{new_x[-1]:.6g} ({int(outside.sum())} points outside)",
            fix="crop the grid to the measured range, or pass fill='edge' / fill=0 to pad",
        )
    return outside


def resample_values(
    values: np.ndarray,
    x: np.ndarray,
    new_x: np.ndarray,
    method: str = "linear",
    fill: str | float | None = None,
) -> np.ndarray:
    """Interpolate rows of ``values`` sampled at ``x`` onto ``new_x``.

    Parameters
    ----------
    values : ndarray of shape (n_spectra, n_points)
        Intensities.
    x : ndarray of shape (n_points,)
        Strictly increasing positions of ``values``.
    new_x : ndarray of shape (n_new,)
        Target positions (any order is rejected unless strictly increasing).
    method : {"linear", "cubic"}
        Interpolation method.
    fill : None, "edge", "nan" or float
        Policy outside ``[x[0], x[-1]]``: ``None`` raises, ``"edge"`` holds the end values,
        ``"nan"``/a number pads.

    Returns
    -------
    ndarray of shape (n_spectra, n_new), float32
    """
    new_x = _check_grids(x, new_x, method)
    outside = _outside(x, new_x, fill)
    inside_x = np.clip(new_x, x[0], x[-1])
    vals = np.asarray(values, dtype=np.float32)
    if method == "linear":
        out = _linear(vals, x, inside_x)
    else:
        from scipy.interpolate import CubicSpline  # SciPy loads only for cubic resampling

        out = CubicSpline(x, vals.astype(np.float64), axis=1)(inside_x).astype(np.float32)
    if outside.any() and fill != "edge":
        pad = np.nan if fill == "nan" else float(fill)  # type: ignore[arg-type]
        out[:, outside] = pad
    return np.ascontiguousarray(out, dtype=np.float32)
