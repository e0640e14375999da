"""Linear (two-point) baseline: the straight line through the first and last point."""

from __future__ import annotations

import numpy as np

from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.baseline._common import BaselineCorrection

__all__ = ["LinearCorrection"]


@register_step
class LinearCorrection(BaselineCorrection):
    """Subtract the straight line joining each spectrum's first and last point.

    The line is drawn on the real axis, so unevenly spaced axes are handled exactly. This is
    the "linear correction" of common chemometric pipelines (e.g. after a range cut, before a
    Savitzky-Golay derivative): it removes an offset and a tilt and leaves both end points
    at zero.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([0.0, 1.0, 3.0])
    >>> LinearCorrection().baseline(np.array([[1.0, 5.0, 7.0]]), axis=x).tolist()
    [[1.0, 3.0, 7.0]]
    """

    def _check_params(self, n_points: int | None = None) -> None:
        """No parameters; one point gives a flat (constant) line."""

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        if axis.size < 2:
            return X.copy()
        t = (axis - axis[0]) / (axis[-1] - axis[0])
        return X[:, :1] + (X[:, -1:] - X[:, :1]) * t
