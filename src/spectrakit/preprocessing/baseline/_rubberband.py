"""Rubberband baseline: the lower convex hull of (axis, intensity), on the real axis."""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing._base import map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.baseline._common import BaselineCorrection

__all__ = ["Rubberband"]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _lower_hull_rows(x, Y, out):  # pragma: no cover - compiled
    """Lower convex hull of every row of ``Y`` over increasing ``x``, interpolated on ``x``.

    Andrew's monotone chain (left to right, keep strictly counter-clockwise turns), then
    linear interpolation between hull vertices.
    """
    n = x.shape[0]
    hull = np.empty(n, dtype=np.int64)
    for s in range(Y.shape[0]):
        y = Y[s]
        top = 0
        for i in range(n):
            while top >= 2:
                a, b = hull[top - 2], hull[top - 1]
                cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
                if cross > 0:
                    break
                top -= 1
            hull[top] = i
            top += 1
        z = out[s]
        for k in range(top - 1):
            a, b = hull[k], hull[k + 1]
            slope = (y[b] - y[a]) / (x[b] - x[a])
            for j in range(a, b):
                z[j] = y[a] + slope * (x[j] - x[a])
        z[n - 1] = y[n - 1]


@register_step
class Rubberband(BaselineCorrection):
    """Rubberband baseline: the lower convex hull of each spectrum, on the real axis.

    A rubber band stretched below the spectrum touches it at the vertices of the lower
    convex hull of the points ``(axis_i, intensity_i)``; the baseline interpolates linearly
    between them. It uses the axis values, so it is correct on non-uniform axes, and has
    no parameter. Suits convex backgrounds (a concave background is cut by the chord);
    the corrected spectrum is non-negative and zero at the hull vertices, which include
    both end points.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0.0, 1.0, 101)
    >>> y = (x - 0.5) ** 2 + np.exp(-((x - 0.3) / 0.02) ** 2)
    >>> base = Rubberband().baseline(y[None], axis=x)
    >>> bool(np.abs(base[0] - (x - 0.5) ** 2).max() < 1e-3)
    True
    """

    def _check_params(self, n_points: int | None = None) -> None:
        """No parameters, and any number of points works."""

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(axis, dtype=np.float64)

        def chunk(rows: np.ndarray) -> np.ndarray:
            out = np.empty_like(rows)
            _lower_hull_rows(x, np.ascontiguousarray(rows), out)
            return out

        return map_rows(chunk, X)
