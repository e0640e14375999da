"""Known physical bounds of a target, applied to predictions.

A concentration cannot be negative; a fraction lies in [0, 1]. Where such a bound is
declared for a target (because of what the target *is*, never from test errors), clipping
the predictions to it is a safe post-processing step: it can never increase any absolute
error, so it can never increase RMSE, MAE or the largest error.

A bundle records declared bounds in its ``output`` description (``target_min``,
``target_max``: one entry per target, ``None`` for an open side), and every engine that
decodes its outputs (PyTorch, ONNX, the server) applies them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.core.errors import ConfigError

__all__ = ["apply_bounds", "clip_to_bounds", "declared_bounds"]


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


def declared_bounds(
    lower: Any, upper: Any, n_targets: int, task: str = "regression"
) -> dict[str, list[float | None]]:
    """The bundle's ``output`` entries ``target_min`` / ``target_max`` for declared bounds.

    Parameters
    ----------
    lower, upper : float, sequence of (float or None), or None
        One bound for every target, or one per target (``None``: that side open).
    n_targets : int
        Number of regression targets.
    task : str, default="regression"
        The bundle's task; bounds are refused for any other.

    Returns
    -------
    dict
        ``{"target_min": [...], "target_max": [...]}``, each of length ``n_targets``, or an
        empty dict when no bound is declared.

    Raises
    ------
    ConfigError
        If the task is not regression, a list's length is not ``n_targets``, a bound is not
        finite, or a lower bound exceeds its upper bound.
    """
    if lower is None and upper is None:
        return {}
    if task != "regression":
        raise ConfigError(
            "target bounds are for regression",
            expected="--target-min / --target-max only with a numeric target",
            got=f"task {task}",
            fix="drop the bounds for a classification model",
        )
    lo, hi = _per_target(lower, n_targets, "lower"), _per_target(upper, n_targets, "upper")
    for a, b in zip(lo, hi, strict=True):
        clip_to_bounds(np.zeros(1), a, b)  # validates finiteness and order
    return {"target_min": lo, "target_max": hi}


def _per_target(bound: Any, n_targets: int, name: str) -> list[float | None]:
    if bound is None or isinstance(bound, int | float):
        return [None if bound is None else float(bound)] * n_targets
    items = list(bound)
    if len(items) == 1:
        items = items * n_targets
    if len(items) != n_targets:
        raise ConfigError(
            f"invalid {name} target bounds",
            expected=f"one bound, or one per target ({n_targets})",
            got=f"{len(items)} bounds",
            fix="give one number, or one per target with 'none' for an open side",
        )
    return [None if b is None else float(b) for b in items]


def apply_bounds(mean: np.ndarray, output: dict[str, Any]) -> np.ndarray:
    """Regression predictions (n, T) clipped to the bundle's declared ``target_min/max``."""
    lo, hi = output.get("target_min") or [], output.get("target_max") or []
    if not lo and not hi:
        return mean
    out = np.array(mean, dtype=float)
    for t in range(out.shape[1]):
        a = lo[t] if t < len(lo) else None
        b = hi[t] if t < len(hi) else None
        out[:, t] = clip_to_bounds(out[:, t], a, b)
    return out
