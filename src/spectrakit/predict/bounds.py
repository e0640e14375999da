"""Known physical bounds of a target, applied to predictions.

A concentration cannot be negative; a fraction lies in [0, 1]. Where such a bound is
declared for a target (because of what the target *is*, never from test errors), clipping
the predictions to it is a safe post-processing step: it can never increase any absolute
error, so it can never increase RMSE, MAE or the largest error.
"""

from __future__ import annotations

import numpy as np

from spectrakit.core.errors import ConfigError


def clip_to_bounds(
    pred: np.ndarray, lower: float | None = None, upper: float | None = None
) -> np.ndarray:
    """Clip predictions to the declared bounds ``lower <= y <= upper`` of the true target.

    Why it never hurts: let the true value ``y`` satisfy ``y >= lower`` and let ``p`` be a
    prediction. If ``p >= lower`` the clip leaves it unchanged. Otherwise ``p < lower <= y``,
    so the clipped value ``lower`` lies between ``p`` and ``y`` and
    ``|lower - y| = y - lower <= y - p = |p - y|``. The upper bound is the mirror case, and
    the two never act on the same value when ``lower <= upper``. So every absolute error is
    kept or reduced, and with it any mean of powers of them (RMSE, MAE) and their maximum.

    Parameters
    ----------
    pred : ndarray of shape (n,) or (n, k)
        Predictions.
    lower, upper : float, optional
        Bounds the true target is known to satisfy; ``None`` leaves that side open.

    Returns
    -------
    ndarray of pred's shape
        The clipped predictions (a new array; ``pred`` is not modified).

    Raises
    ------
    ConfigError
        If ``lower > upper`` or a bound is not finite.
    """
    for name, b in (("lower", lower), ("upper", upper)):
        if b is not None and not np.isfinite(b):
            raise ConfigError(f"expected a finite {name} bound, got {b}; give a number or None")
    if lower is not None and upper is not None and lower > upper:
        raise ConfigError(
            f"expected lower <= upper, got lower={lower} > upper={upper}; swap or fix the bounds"
        )
    out = np.array(pred, dtype=float)
    if lower is None and upper is None:
        return out
    return np.clip(out, lower, upper)
