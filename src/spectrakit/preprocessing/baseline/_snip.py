"""SNIP: statistics-sensitive non-linear iterative peak clipping, all spectra at once."""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.core.errors import ConfigError
from spectrakit.preprocessing._base import map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing._rowwise import apply_rows
from spectrakit.preprocessing.baseline._common import BaselineCorrection, check_int

__all__ = ["SNIP"]

# Clipping filters of order 2, 4, 6, 8 (Ryan 1988; Morhac 1997): the filter of order 2q at
# half window i is sum_t coef_t * (b[j - o_t] + b[j + o_t]) / divisor_q with
# o_t = (num_t * i) // den_t; higher orders take the maximum with all lower ones.
_TERMS = np.array(
    [
        (1.0, 1, 1),
        (-1.0, 1, 1),
        (4.0, 1, 2),
        (1.0, 1, 1),
        (-6.0, 2, 3),
        (15.0, 1, 3),
        (-1.0, 1, 1),
        (8.0, 3, 4),
        (-28.0, 1, 2),
        (56.0, 1, 4),
    ]
)
_TERM_START = np.array([0, 1, 3, 6, 10])
_DIVISORS = np.array([2.0, 6.0, 20.0, 70.0])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _clip_rows(padded, half_window, decreasing, n_orders, smooth_half):  # pragma: no cover
    """SNIP clipping of every row of ``padded`` in place (edges already extended)."""
    size = padded.shape[1]
    filt, prev = np.empty(size), np.empty(size)
    offsets = np.empty(_TERMS.shape[0], np.int64)
    width = 2 * smooth_half + 1
    for row in range(padded.shape[0]):
        base = padded[row]
        for step in range(half_window):
            i = half_window - step if decreasing else step + 1
            for t in range(_TERM_START[n_orders]):
                offsets[t] = (np.int64(_TERMS[t, 1]) * i) // np.int64(_TERMS[t, 2])
            for j in range(i, size - i):
                filt[j] = (base[j - i] + base[j + i]) / 2.0
            for q in range(1, n_orders):
                for j in range(i, size - i):
                    acc = 0.0
                    for t in range(_TERM_START[q], _TERM_START[q + 1]):
                        o = offsets[t]
                        acc = acc + _TERMS[t, 0] * (base[j - o] + base[j + o])
                    filt[j] = max(filt[j], acc / _DIVISORS[q])
            if smooth_half > 0:
                # moving average with mirrored edges (scipy.ndimage "reflect" mode)
                for j in range(i, size - i):
                    total = 0.0
                    for k in range(j - smooth_half, j + smooth_half + 1):
                        kk = -k - 1 if k < 0 else (2 * size - k - 1 if k >= size else k)
                        total += base[kk]
                    prev[j] = total / width
                for j in range(i, size - i):
                    base[j] = filt[j] if base[j] > filt[j] else prev[j]
            else:
                for j in range(i, size - i):
                    base[j] = min(base[j], filt[j])


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
        slope = apply_rows(edge - mean, t_c[None]) / denom
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
        if self.filter_order not in (2, 4, 6, 8):
            raise ConfigError(
                "SNIP: invalid filter_order",
                expected="2, 4, 6 or 8",
                got=f"filter_order={self.filter_order!r}",
                fix="pick one of the supported orders",
            )
        super()._check_params(n_points)

    def _required_points(self) -> tuple[int, str]:
        return 3, "half window"

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        h = min(int(self.max_half_window), (X.shape[1] - 1) // 2)
        smooth = self.smooth_half_window is not None and int(self.smooth_half_window) > 0
        smooth_half = int(self.smooth_half_window) if smooth else 0
        n_orders = int(self.filter_order) // 2

        def chunk(rows: np.ndarray) -> np.ndarray:
            padded = _extrapolate_edges(rows, h)
            _clip_rows(padded, h, bool(self.decreasing), n_orders, smooth_half)
            return padded[:, h : padded.shape[1] - h]

        return map_rows(chunk, X)
