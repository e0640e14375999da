"""Cosmic-ray (spike) removal: Whitaker-Hayes modified z-scores and a median-filter variant."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from spectrakit.core.errors import ConfigError
from spectrakit.preprocessing._base import SpectralTransformer, check_min_points, map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.quality import spike_mask

__all__ = ["MedianDespike", "WhitakerHayes"]


def _replace_by_neighbours(X: np.ndarray, bad: np.ndarray, window: int) -> np.ndarray:
    """Replace ``bad`` points by the mean of the good points within ``window`` on each side.

    Only the rows with bad points are computed; the others are copied unchanged.

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_points)
    bad : ndarray of bool, shape (n_spectra, n_points)
    window : int
        Neighbours on each side.

    Returns
    -------
    ndarray of shape (n_spectra, n_points)
    """
    out = X.copy()
    rows = np.flatnonzero(bad.any(axis=1))
    if rows.size:
        out[rows] = _replace_in_rows(X[rows], bad[rows], window)
    return out


def _replace_in_rows(X: np.ndarray, bad: np.ndarray, window: int) -> np.ndarray:
    """:func:`_replace_by_neighbours` for every row of ``X`` (n, p); returns a new array."""
    good = (~bad).astype(np.float64)
    n, p = X.shape
    zeros = np.zeros((n, 1))
    csum = np.concatenate([zeros, np.cumsum(X * good, axis=1)], axis=1)
    ccount = np.concatenate([zeros, np.cumsum(good, axis=1)], axis=1)
    lo = np.clip(np.arange(p) - window, 0, p)
    hi = np.clip(np.arange(p) + window + 1, 0, p)
    total = csum[:, hi] - csum[:, lo]
    count = ccount[:, hi] - ccount[:, lo]
    out = X.copy()
    fixable = bad & (count > 0)
    out[fixable] = total[fixable] / count[fixable]
    rows = np.flatnonzero((bad & (count == 0)).any(axis=1))
    for r in rows:  # a spike wider than the window: interpolate from the nearest good points
        ok = ~bad[r]
        if ok.any():
            out[r, bad[r]] = np.interp(np.flatnonzero(bad[r]), np.flatnonzero(ok), X[r, ok])
    return out


@register_step
class WhitakerHayes(SpectralTransformer):
    """Cosmic-ray removal from modified z-scores of first differences.

    Spikes are found where the first difference of a spectrum has a modified z-score
    (median / MAD based) above ``threshold`` and the jump is *narrow*: it goes up and back
    within ``max_width`` points. Real bands rise over several points and are left untouched
    (a 3-point-wide intense peak keeps its height). Spike points are replaced by the mean of
    the non-spike points within ``window`` points on each side. Applying the step twice
    gives the same result as once.

    Reference: D. A. Whitaker and K. Hayes, "A simple algorithm for despiking Raman
    spectra", Chemometrics and Intelligent Laboratory Systems 179 (2018) 82-84.

    Parameters
    ----------
    threshold : float, default=8.0
        Modified z-score above which a first difference is a jump.
    window : int, default=3
        Neighbours on each side used to replace a spike point (``m`` in the paper).
    max_width : int, default=2
        Widest spike (points) removed.

    Examples
    --------
    >>> import numpy as np
    >>> x = 10 + np.random.default_rng(0).normal(0, 0.1, (1, 200))
    >>> x[0, 50] += 30  # cosmic ray
    >>> clean = WhitakerHayes().fit_transform(x)
    >>> bool(abs(clean[0, 50] - 10) < 0.5), int((clean != x).sum())
    (True, 1)
    """

    def __init__(self, threshold: float = 8.0, window: int = 3, max_width: int = 2) -> None:
        self.threshold = threshold
        self.window = window
        self.max_width = max_width

    def _check_params(self, n_points: int | None = None) -> None:
        if not (float(self.threshold) > 0 and int(self.window) >= 1 and int(self.max_width) >= 1):
            raise ConfigError(
                "WhitakerHayes: invalid parameters",
                expected="threshold > 0, window >= 1, max_width >= 1",
                got=f"threshold={self.threshold}, window={self.window}, max_width={self.max_width}",
            )
        if n_points is not None:
            check_min_points("WhitakerHayes", "spike detection (2 points)", 2, n_points)

    def spike_mask(self, X: np.ndarray) -> np.ndarray:
        """Boolean mask of spike points, shape (n_spectra, n_points), for a float block."""
        return spike_mask(X, float(self.threshold), int(self.max_width))

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bad = self.spike_mask(X)
        if not bad.any():
            return X, axis
        return _replace_by_neighbours(X, bad, int(self.window)), axis


@register_step
class MedianDespike(SpectralTransformer):
    """Replace points far from a running median by that median.

    Residuals ``x - median_filter(x)`` are scaled by their per-spectrum MAD; points above
    ``threshold`` are replaced by the running median. Simpler and more aggressive than
    :class:`WhitakerHayes`: peaks narrower than about ``kernel / 2`` points are flattened,
    so choose ``kernel`` well below the narrowest band width.

    Parameters
    ----------
    kernel : int, default=5
        Odd width of the running median (points).
    threshold : float, default=6.0
        Robust z-score above which a point is replaced.
    """

    def __init__(self, kernel: int = 5, threshold: float = 6.0) -> None:
        self.kernel = kernel
        self.threshold = threshold

    def _check_params(self, n_points: int | None = None) -> None:
        if int(self.kernel) < 3 or int(self.kernel) % 2 == 0 or float(self.threshold) <= 0:
            raise ConfigError(
                "MedianDespike: invalid parameters",
                expected="an odd kernel >= 3 and threshold > 0",
                got=f"kernel={self.kernel}, threshold={self.threshold}",
                fix="use kernel=5",
            )

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = int(self.kernel)
        med = map_rows(lambda b: median_filter(b, size=(1, k), mode="nearest"), X)
        resid = X - med
        mad = np.median(np.abs(resid - np.median(resid, axis=1, keepdims=True)), axis=1)
        scale = np.where(mad > 0, mad / 0.6745, np.inf)[:, None]  # flat rows: nothing to fix
        bad = np.abs(resid) > float(self.threshold) * scale
        return np.where(bad, med, X), axis
