"""SNIP: statistics-sensitive non-linear iterative peak clipping, all spectra at once."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from spectrakit.errors import ConfigError
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.baseline._common import BaselineCorrection, check_int

__all__ = ["SNIP"]

# Filters of order 2, 4, 6, 8: (coefficient, offset numerator, offset denominator) terms of
# sum_c coef * (b[j - o] + b[j + o]) / divisor with o = (num * i) // den at half window i.
_FILTERS: dict[int, tuple[tuple[tuple[float, int, int], ...], float]] = {
    2: (((1.0, 1, 1),), 2.0),
    4: (((-1.0, 1, 1), (4.0, 1, 2)), 6.0),
    6: (((1.0, 1, 1), (-6.0, 2, 3), (15.0, 1, 3)), 20.0),
    8: (((-1.0, 1, 1), (8.0, 3, 4), (-28.0, 1, 2), (56.0, 1, 4)), 70.0),
}


def _extrapolate_edges(X: np.ndarray, pad: int) -> np.ndarray:
    """Pad rows with ``pad`` points per side on a line fitted to ``pad`` edge points."""
    n = X.shape[1]
    t = np.arange(pad, dtype=float)
    t_c = t - t.mean()
    denom = max(float(t_c @ t_c), np.finfo(float).tiny)
    out = np.empty((X.shape[0], n + 2 * pad))
    out[:, pad : pad + n] = X
    for edge, where, offsets in (
        (X[:, :pad], slice(0, pad), np.arange(-pad, 0, dtype=float)),
        (X[:, n - pad :], slice(pad + n, None), np.arange(pad, 2 * pad, dtype=float)),
    ):
        mean = edge.mean(axis=1, keepdims=True)
        slope = ((edge - mean) @ t_c)[:, None] / denom
        out[:, where] = mean + slope * (offsets - t.mean())
    return out


@register_step
class SNIP(BaselineCorrection):
    """Statistics-sensitive non-linear iterative peak-clipping baseline (SNIP).

    For half windows ``i = 1 .. max_half_window`` each point is replaced by the minimum of
    itself and the mean of its neighbours ``i`` points away (or a higher-order filter), which
    clips peaks narrower than the window. Edges are extended linearly first. All spectra
    are clipped together. Matches :meth:`pybaselines.Baseline.snip`.

    Reference: C. G. Ryan, E. Clayton, W. L. Griffin, S. H. Sie and D. R. Cousens, "SNIP, a
    statistics-sensitive background treatment for the quantitative analysis of PIXE
    spectra in geoscience applications", Nuclear Instruments and Methods in Physics
    Research B 34 (1988) 396-402.

    Parameters
    ----------
    max_half_window : int, default=40
        Largest half window, in points: about half the width of the widest peak.
        Capped at ``(n_points - 1) // 2``.
    decreasing : bool, default=False
        Run the half windows from large to small.
    smooth_half_window : int or None, default=None
        If > 0, compare against a moving average of this half window (noisy data).
    filter_order : int, default=2
        Order of the clipping filter: 2, 4, 6 or 8.
    """

    def __init__(
        self,
        max_half_window: int = 40,
        decreasing: bool = False,
        smooth_half_window: int | None = None,
        filter_order: int = 2,
    ) -> None:
        self.max_half_window = max_half_window
        self.decreasing = decreasing
        self.smooth_half_window = smooth_half_window
        self.filter_order = filter_order

    def _check_params(self, n_points: int | None = None) -> None:
        check_int("SNIP", "max_half_window", self.max_half_window, low=1)
        if self.smooth_half_window is not None:
            check_int("SNIP", "smooth_half_window", self.smooth_half_window, low=0)
        if self.filter_order not in _FILTERS:
            raise ConfigError(
                "SNIP: invalid filter_order",
                expected="2, 4, 6 or 8",
                got=f"filter_order={self.filter_order!r}",
                fix="pick one of the supported orders",
            )
        super()._check_params(n_points)

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        h = min(int(self.max_half_window), (X.shape[1] - 1) // 2)
        smooth = self.smooth_half_window is not None and int(self.smooth_half_window) > 0
        base = _extrapolate_edges(X, h)
        size = base.shape[1]
        windows = range(h, 0, -1) if self.decreasing else range(1, h + 1)
        for i in windows:
            filt = None
            for order in range(2, int(self.filter_order) + 1, 2):
                part_terms, part_div = _FILTERS[order]
                acc = 0.0
                for coef, num, den in part_terms:
                    o = (num * i) // den
                    pair = base[:, i - o : size - i - o] + base[:, i + o : size - i + o]
                    acc = acc + coef * pair
                filt = acc / part_div if filt is None else np.maximum(filt, acc / part_div)
            center = base[:, i : size - i]
            if smooth:
                previous = uniform_filter1d(base, 2 * int(self.smooth_half_window) + 1, axis=1)
                previous = previous[:, i : size - i]
            else:
                previous = center
            base[:, i : size - i] = np.where(center > filt, filt, previous)
        return base[:, h : size - h]
