"""Whittaker-smoothing baselines: AsLS, arPLS, airPLS, asPLS and drPLS.

Each method reweights ``(W + lam D'D) z = W y`` (or a variant) until the weights settle.
The kernels below run the reweighting loops in compiled code for all spectra of a block,
several spectra in flight at once; every spectrum follows the weighting and stopping
rules of a per-spectrum call of :mod:`pybaselines` and stops at its own convergence.
Row blocks run in parallel threads; ``D'D`` is built once per call.
"""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing._base import map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.baseline._banded import (
    LANES,
    penalty_rows,
    penalty_upper,
    solve_scaled_lanes,
    solve_symmetric_lanes,
)
from spectrakit.preprocessing.baseline._common import BaselineCorrection, check_int, check_real
from spectrakit.preprocessing.baseline._fastexp import exp, expit

__all__ = ["AirPLS", "ArPLS", "AsLS", "AsPLS", "DrPLS"]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_EPS = float(np.finfo(float).eps)  # floor of norms and standard deviations (as pybaselines)


# --------------------------------------------------------------------------- kernels
# Each kernel keeps LANES spectra in flight (arrays of shape (n_points, LANES)): one
# reweighting step advances every lane, and a lane whose spectrum has converged stores
# its baseline and takes the next spectrum. The arithmetic of each lane is exactly that
# of a single-spectrum loop, so results do not depend on batch size or order.


@_jit
def _load(Y, row, s, yl, w, lanes_row):  # pragma: no cover - compiled
    """Put spectrum ``row`` into lane ``s`` (an empty lane when ``row`` is past the end)."""
    w[:, s] = 1.0
    if row < Y.shape[0]:
        yl[:, s] = Y[row]
        lanes_row[s] = row
        return row + 1
    yl[:, s] = 0.0
    lanes_row[s] = -1
    return row


@_jit
def _start(Y, yl, w, lanes_row):  # pragma: no cover - compiled
    nxt = 0
    for s in range(yl.shape[1]):
        nxt = _load(Y, nxt, s, yl, w, lanes_row)
    return nxt


@_jit
def _rel_diff(old, new, out):  # pragma: no cover - compiled
    """Per lane ``||new - old|| / max(||old||, eps)`` (2-norms) into ``out`` (LANES,)."""
    lanes = old.shape[1]
    num, den = np.zeros(lanes), np.zeros(lanes)
    for j in range(old.shape[0]):
        for s in range(lanes):
            num[s] += (new[j, s] - old[j, s]) ** 2
            den[s] += old[j, s] ** 2
    for s in range(lanes):
        out[s] = np.sqrt(num[s]) / max(np.sqrt(den[s]), _EPS)


@_jit
def _negative_stats(yl, z, resid, count, mean, std):  # pragma: no cover - compiled
    """Residuals ``y - z``; per lane count, mean and std (ddof=1) of the negative ones."""
    n, lanes = yl.shape
    total = np.zeros(lanes)
    count[:] = 0
    for j in range(n):
        for s in range(lanes):
            r = yl[j, s] - z[j, s]
            resid[j, s] = r
            neg = r < 0
            count[s] += 1 if neg else 0
            total[s] += r if neg else 0.0
    for s in range(lanes):
        mean[s] = total[s] / max(count[s], 1)
    ss = np.zeros(lanes)
    for j in range(n):
        for s in range(lanes):
            r = resid[j, s]
            ss[s] += (r - mean[s]) ** 2 if r < 0 else 0.0
    for s in range(lanes):
        sd = np.sqrt(ss[s] / (count[s] - 1)) if count[s] >= 2 else 0.0
        std[s] = sd if sd > 0 else _EPS


@_jit
def _spread(values, out):  # pragma: no cover - compiled
    """``out[j, s] = values[s]``: per-lane constants laid out like the data.

    The weight loops then run over flat contiguous arrays, which the compiler vectorises
    (exponentials included); per-lane indexing inside them would keep them scalar.
    """
    for j in range(out.shape[0]):
        for s in range(LANES):
            out[j, s] = values[s]


@_jit
def _logistic_weights(resid, slope, shift, w_new, slope_full, shift_full):  # pragma: no cover
    """``w_new = expit(slope[s] * (resid - shift[s]))`` for every point of every lane."""
    _spread(slope, slope_full)
    _spread(shift, shift_full)
    r, a, b, out = resid.ravel(), slope_full.ravel(), shift_full.ravel(), w_new.ravel()
    for i in range(r.shape[0]):
        out[i] = expit(a[i] * (r[i] - b[i]))


@_jit
def _advance(Y, done, z, out, yl, w, w_new, lanes_row, iters, nxt):  # pragma: no cover
    """Finish a reweighting step: adopt new weights, or store and reload done lanes.

    Idle lanes count as done; a reloaded lane starts from unit weights.
    """
    n = z.shape[0]
    for j in range(n):
        for s in range(LANES):
            w[j, s] = 1.0 if done[s] else w_new[j, s]
    for s in range(LANES):
        if done[s] and lanes_row[s] >= 0:
            row = lanes_row[s]
            for j in range(n):
                out[row, j] = z[j, s]
            iters[s] = 0
            nxt = _load(Y, nxt, s, yl, w, lanes_row)
    return nxt


@_jit
def _asls_rows(Y, lam_ab, p, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    buf = np.empty((5, n, LANES))
    yl, w, w_new, rhs, z = buf[0], buf[1], buf[2], buf[3], buf[4]
    work = np.empty((4, n, LANES))
    lanes_row, iters, change = np.empty(LANES, np.int64), np.zeros(LANES, np.int64), np.empty(LANES)
    done = np.zeros(LANES, np.bool_)
    nxt = _start(Y, yl, w, lanes_row)
    while lanes_row.max() >= 0:
        for j in range(n):
            for s in range(LANES):
                rhs[j, s] = w[j, s] * yl[j, s]
        solve_symmetric_lanes(lam_ab, w, rhs, work, z)
        for j in range(n):
            for s in range(LANES):
                w_new[j, s] = p if yl[j, s] > z[j, s] else 1.0 - p
        _rel_diff(w, w_new, change)
        for s in range(LANES):
            iters[s] += 1
            done[s] = lanes_row[s] < 0 or change[s] < tol or iters[s] > max_iter
        nxt = _advance(Y, done, z, out, yl, w, w_new, lanes_row, iters, nxt)


@_jit
def _arpls_rows(Y, lam_ab, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    buf = np.empty((6, n, LANES))
    yl, w, w_new, rhs, z, resid = buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]
    work = np.empty((4, n, LANES))
    lanes_row, iters, change = np.empty(LANES, np.int64), np.zeros(LANES, np.int64), np.empty(LANES)
    done = np.zeros(LANES, np.bool_)
    count, mean, std = np.empty(LANES, np.int64), np.empty(LANES), np.empty(LANES)
    slope, shift = np.empty(LANES), np.empty(LANES)
    slope_full, shift_full = np.empty((n, LANES)), np.empty((n, LANES))
    nxt = _start(Y, yl, w, lanes_row)
    while lanes_row.max() >= 0:
        for j in range(n):
            for s in range(LANES):
                rhs[j, s] = w[j, s] * yl[j, s]
        solve_symmetric_lanes(lam_ab, w, rhs, work, z)
        _negative_stats(yl, z, resid, count, mean, std)
        for s in range(LANES):
            slope[s] = -(2.0 / std[s])
            shift[s] = 2.0 * std[s] - mean[s]
        _logistic_weights(resid, slope, shift, w_new, slope_full, shift_full)
        _rel_diff(w, w_new, change)
        for s in range(LANES):
            iters[s] += 1
            done[s] = lanes_row[s] < 0 or count[s] < 2 or change[s] < tol or iters[s] > max_iter
        nxt = _advance(Y, done, z, out, yl, w, w_new, lanes_row, iters, nxt)


@_jit
def _airpls_rows(Y, lam_ab, max_iter, tol, normalize, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    buf = np.empty((6, n, LANES))
    yl, w, w_new, rhs, z, resid = buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]
    work = np.empty((4, n, LANES))
    lanes_row, iters = np.empty(LANES, np.int64), np.zeros(LANES, np.int64)
    done = np.zeros(LANES, np.bool_)
    count, mean, std = np.empty(LANES, np.int64), np.empty(LANES), np.empty(LANES)
    neg_l1, y_l1, w_max = np.empty(LANES), np.empty(LANES), np.empty(LANES)
    slope, slope_full = np.empty(LANES), np.empty((n, LANES))
    nxt = _start(Y, yl, w, lanes_row)
    while lanes_row.max() >= 0:
        for j in range(n):
            for s in range(LANES):
                rhs[j, s] = w[j, s] * yl[j, s]
        solve_symmetric_lanes(lam_ab, w, rhs, work, z)
        _negative_stats(yl, z, resid, count, mean, std)
        neg_l1[:] = 0.0
        y_l1[:] = 0.0
        w_max[:] = 0.0
        for j in range(n):
            for s in range(LANES):
                r = resid[j, s]
                neg_l1[s] += r if r < 0 else 0.0
                y_l1[s] += abs(yl[j, s])
        # exp(t |r| / |sum r-|) on negative residuals at iteration t, 0 elsewhere
        for s in range(LANES):
            slope[s] = min(iters[s] + 1, 50) / neg_l1[s] if neg_l1[s] < 0 else 0.0
        _spread(slope, slope_full)
        r, a, out_w = resid.ravel(), slope_full.ravel(), w_new.ravel()
        for i in range(r.shape[0]):
            out_w[i] = exp(max(a[i] * r[i], 0.0)) if r[i] < 0 else 0.0  # saturates at e**709
        for j in range(n):
            for s in range(LANES):
                w_max[s] = max(w_max[s], w_new[j, s])
        if normalize:
            for j in range(n):
                for s in range(LANES):
                    w_new[j, s] /= w_max[s] if w_max[s] > 0 else 1.0
        for s in range(LANES):
            iters[s] += 1
            converged = abs(neg_l1[s]) / max(y_l1[s], _EPS) < tol
            done[s] = lanes_row[s] < 0 or count[s] < 2 or converged or iters[s] > max_iter
        nxt = _advance(Y, done, z, out, yl, w, w_new, lanes_row, iters, nxt)


@_jit
def _aspls_rows(Y, lam_ab, asym, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    buf = np.empty((8, n, LANES))
    yl, w, w_new, rhs = buf[0], buf[1], buf[2], buf[3]
    z, resid, alpha, diag = buf[4], buf[5], buf[6], buf[7]
    work = np.empty((4, n, LANES))
    lanes_row, iters, change = np.empty(LANES, np.int64), np.zeros(LANES, np.int64), np.empty(LANES)
    done = np.zeros(LANES, np.bool_)
    count, mean, std = np.empty(LANES, np.int64), np.empty(LANES), np.empty(LANES)
    r_max = np.empty(LANES)
    alpha[:] = 1.0
    slope = np.empty(LANES)
    slope_full, shift_full = np.empty((n, LANES)), np.empty((n, LANES))
    nxt = _start(Y, yl, w, lanes_row)
    while lanes_row.max() >= 0:
        # (W + diag(alpha) lam D'D) z = W y, divided row-wise by alpha: symmetric
        for j in range(n):
            for s in range(LANES):
                # alpha < eps only where the residual is at rounding level
                a = max(alpha[j, s], _EPS)
                diag[j, s] = w[j, s] / a
                rhs[j, s] = w[j, s] * yl[j, s] / a
        solve_symmetric_lanes(lam_ab, diag, rhs, work, z)
        _negative_stats(yl, z, resid, count, mean, std)
        for s in range(LANES):
            slope[s] = -(asym / std[s])
        _logistic_weights(resid, slope, std, w_new, slope_full, shift_full)
        _rel_diff(w, w_new, change)
        r_max[:] = 0.0
        for j in range(n):
            for s in range(LANES):
                r_max[s] = max(r_max[s], abs(resid[j, s]))
        for s in range(LANES):
            iters[s] += 1
            done[s] = lanes_row[s] < 0 or count[s] < 2 or change[s] < tol or iters[s] > max_iter
        # alpha = |r| / max |r| for the next step; 1 for a freshly loaded spectrum
        for j in range(n):
            for s in range(LANES):
                alpha[j, s] = 1.0 if done[s] else abs(resid[j, s]) / r_max[s]
        nxt = _advance(Y, done, z, out, yl, w, w_new, lanes_row, iters, nxt)


@_jit
def _drpls_rows(Y, base_rows, weighted_rows, max_iter, tol, out):  # pragma: no cover
    n = Y.shape[1]
    buf = np.empty((6, n, LANES))
    yl, w, w_new, rhs, z, resid = buf[0], buf[1], buf[2], buf[3], buf[4], buf[5]
    work = np.empty((4, n, LANES))
    lanes_row, iters, change = np.empty(LANES, np.int64), np.zeros(LANES, np.int64), np.empty(LANES)
    done = np.zeros(LANES, np.bool_)
    count, mean, std = np.empty(LANES, np.int64), np.empty(LANES), np.empty(LANES)
    steep = np.empty(LANES)
    nxt = _start(Y, yl, w, lanes_row)
    while lanes_row.max() >= 0:
        # (lam D'D + D1'D1) + W (I - eta lam D'D)
        for j in range(n):
            for s in range(LANES):
                rhs[j, s] = w[j, s] * yl[j, s]
        solve_scaled_lanes(base_rows, weighted_rows, w, rhs, work, z)
        _negative_stats(yl, z, resid, count, mean, std)
        for s in range(LANES):
            # exp(t) turns the logistic weighting into a step as iterations go on
            steep[s] = np.exp(min(iters[s] + 1, 100)) / std[s]
        for j in range(n):
            for s in range(LANES):
                inner = steep[s] * (resid[j, s] - (2.0 * std[s] - mean[s]))
                w_new[j, s] = 0.5 * (1.0 - inner / (1.0 + abs(inner)))
        _rel_diff(w, w_new, change)
        for s in range(LANES):
            iters[s] += 1
            done[s] = lanes_row[s] < 0 or count[s] < 2 or change[s] < tol or iters[s] > max_iter
        nxt = _advance(Y, done, z, out, yl, w, w_new, lanes_row, iters, nxt)


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
        super()._check_params(n_points)

    def _required_points(self) -> tuple[int, str]:
        return int(self.diff_order) + 1, "difference order"

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
        args = (float(self.asymmetric_coef), int(self.max_iter), float(self.tol))
        return _run(_aspls_rows, X, self._lam_upper(X.shape[1]), *args)


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
