"""Whittaker-smoothing baselines: AsLS, arPLS, airPLS, asPLS and drPLS.

Each method reweights ``(W + lam D'D) z = W y`` (or a variant) until the weights settle.
The kernels below run the whole reweighting loop of one spectrum in compiled code and
loop over spectra there too; every spectrum stops at its own convergence, exactly like
a per-spectrum call of :mod:`pybaselines` (whose weighting and stopping rules they
follow), and row chunks run in parallel threads. ``D'D`` is built once per call.
"""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing._base import map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.baseline._banded import (
    penalty_rows,
    penalty_upper,
    solve_general,
    solve_symmetric,
)
from spectrakit.preprocessing.baseline._common import BaselineCorrection, check_int, check_real

__all__ = ["AirPLS", "ArPLS", "AsLS", "AsPLS", "DrPLS"]

_jit = numba.njit(cache=True, nogil=True)
_EPS = float(np.finfo(float).eps)  # floor of norms and standard deviations (as pybaselines)
_LOG_MAX = float(np.log(np.finfo(float).max) - np.spacing(np.log(np.finfo(float).max)))


# --------------------------------------------------------------------------- kernels
@_jit
def _rel_diff(old, new):  # pragma: no cover - compiled
    """``||new - old|| / max(||old||, eps)`` (2-norms)."""
    num = 0.0
    den = 0.0
    for i in range(old.shape[0]):
        num += (new[i] - old[i]) ** 2
        den += old[i] ** 2
    return np.sqrt(num) / max(np.sqrt(den), _EPS)


@_jit
def _negative_stats(y, z, resid):  # pragma: no cover - compiled
    """Residual ``y - z`` into ``resid``; count, mean and std (ddof=1) of its negatives."""
    count = 0
    total = 0.0
    for i in range(y.shape[0]):
        r = y[i] - z[i]
        resid[i] = r
        if r < 0:
            count += 1
            total += r
    if count < 2:
        return count, 0.0, _EPS
    mean = total / count
    ss = 0.0
    for i in range(y.shape[0]):
        if resid[i] < 0:
            ss += (resid[i] - mean) ** 2
    std = np.sqrt(ss / (count - 1))
    return count, mean, std if std > 0 else _EPS


@_jit
def _expit(x):  # pragma: no cover - compiled
    if x >= 0:
        return 1.0 / (1.0 + np.exp(-x))
    e = np.exp(x)
    return e / (1.0 + e)


@_jit
def _asls_rows(Y, lam_ab, p, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    d = lam_ab.shape[0] - 1
    w, w_new, rhs = np.empty(n), np.empty(n), np.empty(n)
    lfac, dfac = np.empty((n, d + 1)), np.empty(n)
    for s in range(Y.shape[0]):
        y, z = Y[s], out[s]
        w[:] = 1.0
        for _ in range(max_iter + 1):
            for i in range(n):
                rhs[i] = w[i] * y[i]
            solve_symmetric(lam_ab, w, rhs, lfac, dfac, z)
            for i in range(n):
                w_new[i] = p if y[i] > z[i] else 1.0 - p
            if _rel_diff(w, w_new) < tol:
                break
            w[:] = w_new


@_jit
def _arpls_rows(Y, lam_ab, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    d = lam_ab.shape[0] - 1
    w, w_new, rhs, resid = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    lfac, dfac = np.empty((n, d + 1)), np.empty(n)
    for s in range(Y.shape[0]):
        y, z = Y[s], out[s]
        w[:] = 1.0
        for _ in range(max_iter + 1):
            for i in range(n):
                rhs[i] = w[i] * y[i]
            solve_symmetric(lam_ab, w, rhs, lfac, dfac, z)
            count, mean, std = _negative_stats(y, z, resid)
            if count < 2:
                break
            for i in range(n):
                w_new[i] = _expit(-(2.0 / std) * (resid[i] - (2.0 * std - mean)))
            if _rel_diff(w, w_new) < tol:
                break
            w[:] = w_new


@_jit
def _airpls_rows(Y, lam_ab, max_iter, tol, normalize, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    d = lam_ab.shape[0] - 1
    w, rhs, resid = np.empty(n), np.empty(n), np.empty(n)
    lfac, dfac = np.empty((n, d + 1)), np.empty(n)
    for s in range(Y.shape[0]):
        y, z = Y[s], out[s]
        y_l1 = 0.0
        for i in range(n):
            y_l1 += abs(y[i])
        w[:] = 1.0
        for it in range(1, max_iter + 2):
            for i in range(n):
                rhs[i] = w[i] * y[i]
            solve_symmetric(lam_ab, w, rhs, lfac, dfac, z)
            count, _, _ = _negative_stats(y, z, resid)
            if count < 2:
                break
            neg_l1 = 0.0
            for i in range(n):
                if resid[i] < 0:
                    neg_l1 += resid[i]
            if abs(neg_l1) / max(y_l1, _EPS) < tol:
                break
            # exp(iteration * |r| / |sum r-|) on negative residuals, 0 elsewhere
            scale = min(it, 50) / neg_l1
            w_max = 0.0
            for i in range(n):
                if resid[i] < 0:
                    w[i] = np.exp(min(max(scale * resid[i], 0.0), _LOG_MAX))
                    w_max = max(w_max, w[i])
                else:
                    w[i] = 0.0
            if normalize:
                for i in range(n):
                    w[i] /= w_max


@_jit
def _aspls_rows(Y, lam_rows, asym, max_iter, tol, out):  # pragma: no cover - compiled
    n, width = lam_rows.shape
    d = (width - 1) // 2
    w, w_new, alpha = np.empty(n), np.empty(n), np.empty(n)
    rhs, resid, a = np.empty(n), np.empty(n), np.empty((n, width))
    for s in range(Y.shape[0]):
        y, z = Y[s], out[s]
        w[:] = 1.0
        alpha[:] = 1.0
        for _ in range(max_iter + 1):
            # W + diag(alpha) lam D'D: alpha scales the smoothness of each point
            for i in range(n):
                for c in range(width):
                    a[i, c] = lam_rows[i, c] * alpha[i]
                a[i, d] += w[i]
                rhs[i] = w[i] * y[i]
            solve_general(a, rhs, z)
            count, _, std = _negative_stats(y, z, resid)
            if count < 2:
                break
            for i in range(n):
                w_new[i] = _expit(-(asym / std) * (resid[i] - std))
            if _rel_diff(w, w_new) < tol:
                break
            w[:] = w_new
            r_max = 0.0
            for i in range(n):
                r_max = max(r_max, abs(resid[i]))
            for i in range(n):
                alpha[i] = abs(resid[i]) / r_max


@_jit
def _drpls_rows(Y, base_rows, weighted_rows, max_iter, tol, out):  # pragma: no cover - compiled
    n, width = base_rows.shape
    w, w_new, rhs = np.empty(n), np.empty(n), np.empty(n)
    resid, a = np.empty(n), np.empty((n, width))
    for s in range(Y.shape[0]):
        y, z = Y[s], out[s]
        w[:] = 1.0
        for it in range(1, max_iter + 2):
            # lam D'D + D1'D1 + W (I - eta lam D'D)
            for i in range(n):
                for c in range(width):
                    a[i, c] = base_rows[i, c] + weighted_rows[i, c] * w[i]
                rhs[i] = w[i] * y[i]
            solve_general(a, rhs, z)
            count, mean, std = _negative_stats(y, z, resid)
            if count < 2:
                break
            steep = np.exp(min(it, 100)) / std
            for i in range(n):
                inner = steep * (resid[i] - (2.0 * std - mean))
                w_new[i] = 0.5 * (1.0 - inner / (1.0 + abs(inner)))
            if _rel_diff(w, w_new) < tol:
                break
            w[:] = w_new


def _run(kernel, X: np.ndarray, *args) -> np.ndarray:
    """Run ``kernel(rows, *args, out)`` over row chunks of ``X`` in parallel threads."""

    def chunk(rows: np.ndarray) -> np.ndarray:
        out = np.empty_like(rows)
        kernel(np.ascontiguousarray(rows), *args, out)
        return out

    return map_rows(chunk, X)


# --------------------------------------------------------------------------- public steps
class _Whittaker(BaselineCorrection):
    """Shared parameter checks of the Whittaker family."""

    _min_diff_order = 1

    def _check_params(self, n_points: int | None = None) -> None:
        name = type(self).__name__
        check_real(name, "lam", self.lam, low=0.0, low_open=True)
        check_int(name, "diff_order", self.diff_order, low=self._min_diff_order, high=3)
        check_int(name, "max_iter", self.max_iter, low=0)
        check_real(name, "tol", self.tol, low=0.0)
        self._min_points = int(self.diff_order) + 1
        super()._check_params(n_points)

    def _lam_upper(self, n_points: int) -> np.ndarray:
        return float(self.lam) * penalty_upper(n_points, int(self.diff_order))


@register_step
class AsLS(_Whittaker):
    """Asymmetric least squares baseline (AsLS).

    Minimises ``sum_i w_i (y_i - z_i)^2 + lam * |D z|^2`` and reweights: points above the
    baseline get weight ``p``, points below ``1 - p``, until the weights change by less
    than ``tol`` (relative 2-norm). Matches :meth:`pybaselines.Baseline.asls`.

    Reference: P. H. C. Eilers, "A perfect smoother", Analytical Chemistry 75 (2003)
    3631-3636; P. H. C. Eilers and H. F. M. Boelens, "Baseline correction with asymmetric
    least squares smoothing", Leiden University Medical Centre report (2005).

    Parameters
    ----------
    lam : float, default=1e6
        Smoothness (> 0); larger gives stiffer baselines. Acts per point.
    p : float, default=1e-2
        Asymmetry, ``0 < p < 1``: weight of points above the baseline.
    diff_order : int, default=2
        Order of the differences penalised (1, 2 or 3).
    max_iter : int, default=50
        Maximum number of reweighting iterations.
    tol : float, default=1e-3
        Stop when the relative change of the weights is below ``tol``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(0, 1, 300)
    >>> y = 2 + x + np.exp(-((x - 0.5) / 0.02) ** 2)
    >>> base = AsLS(lam=1e5, p=0.01).baseline(y[None])
    >>> base.shape, bool(abs(base[0, 150] - 2.5) < 0.1)
    ((1, 300), True)
    """

    def __init__(
        self,
        lam: float = 1e6,
        p: float = 1e-2,
        diff_order: int = 2,
        max_iter: int = 50,
        tol: float = 1e-3,
    ) -> None:
        self.lam = lam
        self.p = p
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self, n_points: int | None = None) -> None:
        check_real("AsLS", "p", self.p, low=0.0, high=1.0, low_open=True, high_open=True)
        super()._check_params(n_points)

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        lam_ab = self._lam_upper(X.shape[1])
        return _run(_asls_rows, X, lam_ab, float(self.p), int(self.max_iter), float(self.tol))


@register_step
class ArPLS(_Whittaker):
    """Asymmetrically reweighted penalized least squares baseline (arPLS).

    Weights follow a logistic function of the residual, scaled by the mean and standard
    deviation of the negative residuals (the noise), so noise above the baseline still
    counts. Matches :meth:`pybaselines.Baseline.arpls`.

    Reference: S.-J. Baek, A. Park, Y.-J. Ahn and J. Choo, "Baseline correction using
    asymmetrically reweighted penalized least squares smoothing", Analyst 140 (2015) 250-257.

    Parameters
    ----------
    lam : float, default=1e5
        Smoothness (> 0). Acts per point.
    diff_order : int, default=2
        Order of the differences penalised (1, 2 or 3).
    max_iter : int, default=50
        Maximum number of reweighting iterations.
    tol : float, default=1e-3
        Stop when the relative change of the weights is below ``tol``.
    """

    def __init__(
        self, lam: float = 1e5, diff_order: int = 2, max_iter: int = 50, tol: float = 1e-3
    ) -> None:
        self.lam = lam
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        lam_ab = self._lam_upper(X.shape[1])
        return _run(_arpls_rows, X, lam_ab, int(self.max_iter), float(self.tol))


@register_step
class AirPLS(_Whittaker):
    """Adaptive iteratively reweighted penalized least squares baseline (airPLS).

    Points above the baseline get weight 0, points below ``exp(t |r_i| / |sum r-|)`` at
    iteration ``t``; stops when the L1 norm of the negative residuals falls below
    ``tol`` times the L1 norm of the spectrum. Matches :meth:`pybaselines.Baseline.airpls`.

    Reference: Z.-M. Zhang, S. Chen and Y.-Z. Liang, "Baseline correction using adaptive
    iteratively reweighted penalized least squares", Analyst 135 (2010) 1138-1146.

    Parameters
    ----------
    lam : float, default=1e6
        Smoothness (> 0). Acts per point.
    diff_order : int, default=2
        Order of the differences penalised (1, 2 or 3).
    max_iter : int, default=50
        Maximum number of reweighting iterations.
    tol : float, default=1e-3
        Stopping threshold on the relative L1 norm of the negative residuals.
    normalize_weights : bool, default=False
        Divide the weights by their maximum (more stable numerically; not in the paper).
    """

    def __init__(
        self,
        lam: float = 1e6,
        diff_order: int = 2,
        max_iter: int = 50,
        tol: float = 1e-3,
        normalize_weights: bool = False,
    ) -> None:
        self.lam = lam
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol
        self.normalize_weights = normalize_weights

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        lam_ab = self._lam_upper(X.shape[1])
        args = (int(self.max_iter), float(self.tol), bool(self.normalize_weights))
        return _run(_airpls_rows, X, lam_ab, *args)


@register_step
class AsPLS(_Whittaker):
    """Adaptive smoothness penalized least squares baseline (asPLS).

    Like arPLS, with a per-point smoothness ``alpha_i = |r_i| / max |r|`` that relaxes
    the penalty where the residual is small: solves ``(W + diag(alpha) lam D'D) z = W y``.
    Matches :meth:`pybaselines.Baseline.aspls` (``asymmetric_coef`` 0.5, as pybaselines).

    Reference: F. Zhang, X. Tang, A. Tong, B. Wang and J. Wang, "Baseline correction for
    infrared spectra using adaptive smoothness parameter penalized least squares method",
    Spectroscopy Letters 53 (2020) 222-233.

    Parameters
    ----------
    lam : float, default=1e5
        Smoothness (> 0). Acts per point.
    diff_order : int, default=2
        Order of the differences penalised (1, 2 or 3).
    max_iter : int, default=100
        Maximum number of reweighting iterations.
    tol : float, default=1e-3
        Stop when the relative change of the weights is below ``tol``.
    asymmetric_coef : float, default=0.5
        Steepness of the logistic weighting (> 0; ``k`` in the paper).
    """

    def __init__(
        self,
        lam: float = 1e5,
        diff_order: int = 2,
        max_iter: int = 100,
        tol: float = 1e-3,
        asymmetric_coef: float = 0.5,
    ) -> None:
        self.lam = lam
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol
        self.asymmetric_coef = asymmetric_coef

    def _check_params(self, n_points: int | None = None) -> None:
        check_real("AsPLS", "asymmetric_coef", self.asymmetric_coef, low=0.0, low_open=True)
        super()._check_params(n_points)

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        lam_rows = float(self.lam) * penalty_rows(X.shape[1], int(self.diff_order))
        args = (float(self.asymmetric_coef), int(self.max_iter), float(self.tol))
        return _run(_aspls_rows, X, lam_rows, *args)


@register_step
class DrPLS(_Whittaker):
    """Doubly reweighted penalized least squares baseline (drPLS).

    Solves ``(W + D1'D1 + (I - eta W) lam D'D) z = W y``: a first-difference term keeps
    the baseline from following noise, and ``eta`` lowers the smoothness where the weight
    is high. Weights sharpen from logistic to step-like as iterations go on. Matches
    :meth:`pybaselines.Baseline.drpls`.

    Reference: D. Xu, S. Liu, Y. Cai and C. Yang, "Baseline correction method based on
    doubly reweighted penalized least squares", Applied Optics 58 (2019) 3913-3920.

    Parameters
    ----------
    lam : float, default=1e5
        Smoothness (> 0). Acts per point.
    eta : float, default=0.5
        Roughness weighting, ``0 <= eta <= 1``.
    diff_order : int, default=2
        Order of the differences penalised (2 or 3).
    max_iter : int, default=50
        Maximum number of reweighting iterations.
    tol : float, default=1e-3
        Stop when the relative change of the weights is below ``tol``.
    """

    _min_diff_order = 2

    def __init__(
        self,
        lam: float = 1e5,
        eta: float = 0.5,
        diff_order: int = 2,
        max_iter: int = 50,
        tol: float = 1e-3,
    ) -> None:
        self.lam = lam
        self.eta = eta
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self, n_points: int | None = None) -> None:
        check_real("DrPLS", "eta", self.eta, low=0.0, high=1.0)
        super()._check_params(n_points)

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        n, d = X.shape[1], int(self.diff_order)
        lam_rows = float(self.lam) * penalty_rows(n, d)
        first = np.zeros_like(lam_rows)
        first[:, d - 1 : d + 2] = penalty_rows(n, 1)
        weighted = -float(self.eta) * lam_rows
        weighted[:, d] += 1.0
        return _run(_drpls_rows, X, lam_rows + first, weighted, int(self.max_iter), float(self.tol))
