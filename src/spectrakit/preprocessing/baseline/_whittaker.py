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
from spectrakit.preprocessing.baseline._banded import penalty_rows, penalty_upper
from spectrakit.preprocessing.baseline._common import BaselineCorrection, check_int, check_real
from spectrakit.preprocessing.baseline._fastexp import exp, expit
from spectrakit.preprocessing.baseline._lanes import (
    ABSMAX,
    COUNT,
    DEN,
    G_DIAG,
    G_LOWER,
    G_W,
    G_Y,
    G_Z,
    LANES,
    MEAN,
    N_STATS,
    NUM,
    STD,
    TOTAL,
    at,
    end_step,
    negative_stats,
    next_spectrum,
    open_block,
    set_weights,
    solve_lanes,
    solve_scaled_lanes,
    u,
)

__all__ = ["AirPLS", "ArPLS", "AsLS", "AsPLS", "DrPLS"]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_EPS = float(np.finfo(float).eps)  # floor of norms and standard deviations (as pybaselines)


# --------------------------------------------------------------------------- kernels
# Each kernel keeps LANES spectra in flight in a lane block (see ._lanes). One step solves
# every lane's system, then one pass over the points computes the new weights, their
# change, and the next system, keeping the solution in G_LOWER; a lane whose spectrum has
# converged stores that baseline and takes the next spectrum. Each lane's arithmetic is
# exactly that of a single-spectrum loop, with pybaselines' weighting and stopping rules,
# so results do not depend on batch size or order. Kernel-specific lane scalars follow
# the shared ones (offsets from N_STATS).
_SLOPE, _SHIFT, _Y_L1, _W_DIV = ((N_STATS + k) * LANES for k in range(4))
_N_SCALARS = N_STATS + 4


@_jit
def _asls_rows(Y, lam_ab, p, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    m, buf, lane, lanes_row, iters, nxt = open_block(Y, _N_SCALARS)
    while lanes_row.max() >= 0:
        solve_lanes(lam_ab, buf, n, m)
        for s in range(m):
            lane[NUM + s] = 0.0
            lane[DEN + s] = 0.0
        for j in range(n):
            for s in range(m):
                y, z, w_old = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)], buf[at(j, G_W, s)]
                w_new = p if y > z else 1.0 - p
                set_weights(buf, lane, j, s, y, z, w_old, w_new, 1.0)
        nxt = end_step(Y, buf, lane, m, lanes_row, iters, nxt, out, max_iter, tol, False)


@_jit
def _arpls_rows(Y, lam_ab, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    m, buf, lane, lanes_row, iters, nxt = open_block(Y, _N_SCALARS)
    while lanes_row.max() >= 0:
        solve_lanes(lam_ab, buf, n, m)
        negative_stats(buf, n, lane, m)
        for s in range(m):
            lane[_SLOPE + s] = -(2.0 / lane[STD + s])
            lane[_SHIFT + s] = 2.0 * lane[STD + s] - lane[MEAN + s]
        for j in range(n):
            for s in range(m):
                y, z, w_old = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)], buf[at(j, G_W, s)]
                w_new = expit(lane[u(_SLOPE + s)] * ((y - z) - lane[u(_SHIFT + s)]))
                set_weights(buf, lane, j, s, y, z, w_old, w_new, 1.0)
        nxt = end_step(Y, buf, lane, m, lanes_row, iters, nxt, out, max_iter, tol, True)


@_jit
def _airpls_rows(Y, lam_ab, max_iter, tol, normalize, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    m, buf, lane, lanes_row, iters, nxt = open_block(Y, _N_SCALARS)
    while lanes_row.max() >= 0:
        solve_lanes(lam_ab, buf, n, m)
        negative_stats(buf, n, lane, m)
        # exp(t |r| / |sum r-|) on negative residuals at iteration t, 0 elsewhere
        for s in range(m):
            neg_l1 = lane[TOTAL + s]
            lane[_SLOPE + s] = min(iters[s] + 1, 50) / neg_l1 if neg_l1 < 0 else 0.0
            lane[_Y_L1 + s] = 0.0
            lane[_W_DIV + s] = 0.0
        for j in range(n):
            for s in range(m):
                y, z = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)]
                r = y - z
                w_new = exp(max(lane[u(_SLOPE + s)] * r, 0.0)) if r < 0 else 0.0  # <= e**709
                lane[u(_Y_L1 + s)] += abs(y)
                lane[u(_W_DIV + s)] = max(lane[u(_W_DIV + s)], w_new)
                buf[at(j, G_W, s)] = w_new
                buf[at(j, G_LOWER, s)] = z
        for s in range(m):
            w_max = lane[_W_DIV + s]
            lane[_W_DIV + s] = w_max if normalize and w_max > 0 else 1.0
        for j in range(n):
            for s in range(m):
                w = buf[at(j, G_W, s)] / lane[u(_W_DIV + s)]
                buf[at(j, G_W, s)] = w
                buf[at(j, G_DIAG, s)] = w
                buf[at(j, G_Z, s)] = w * buf[at(j, G_Y, s)]
        for s in range(m):
            iters[s] += 1
            converged = abs(lane[TOTAL + s]) / max(lane[_Y_L1 + s], _EPS) < tol
            if lanes_row[s] < 0 or lane[COUNT + s] < 2 or converged or iters[s] > max_iter:
                nxt = next_spectrum(Y, buf, n, s, lanes_row, iters, nxt, out)


@_jit
def _aspls_rows(Y, lam_ab, asym, max_iter, tol, out):  # pragma: no cover - compiled
    n = Y.shape[1]
    m, buf, lane, lanes_row, iters, nxt = open_block(Y, _N_SCALARS)
    while lanes_row.max() >= 0:
        solve_lanes(lam_ab, buf, n, m)
        negative_stats(buf, n, lane, m)
        for s in range(m):
            lane[_SLOPE + s] = -(asym / lane[STD + s])
        # the next system is (W + diag(alpha) lam D'D) z = W y divided row-wise by alpha
        # (symmetric), alpha = |r| / max |r|; alpha < eps only where r is at rounding level
        for j in range(n):
            for s in range(m):
                y, z, w_old = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)], buf[at(j, G_W, s)]
                r = y - z
                w_new = expit(lane[u(_SLOPE + s)] * (r - lane[u(STD + s)]))
                alpha = max(abs(r) / lane[u(ABSMAX + s)], _EPS)
                set_weights(buf, lane, j, s, y, z, w_old, w_new, alpha)
        nxt = end_step(Y, buf, lane, m, lanes_row, iters, nxt, out, max_iter, tol, True)


@_jit
def _drpls_rows(Y, base_rows, weighted_rows, max_iter, tol, out):  # pragma: no cover
    # (lam D'D + D1'D1) + W (I - eta lam D'D): the weights scale the second band matrix
    n = Y.shape[1]
    m, buf, lane, lanes_row, iters, nxt = open_block(Y, _N_SCALARS)
    while lanes_row.max() >= 0:
        solve_scaled_lanes(base_rows, weighted_rows, buf, n, m)
        negative_stats(buf, n, lane, m)
        for s in range(m):
            # exp(t) turns the logistic weighting into a step as iterations go on
            lane[_SLOPE + s] = np.exp(min(iters[s] + 1, 100)) / lane[STD + s]
            lane[_SHIFT + s] = 2.0 * lane[STD + s] - lane[MEAN + s]
        for j in range(n):
            for s in range(m):
                y, z, w_old = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)], buf[at(j, G_W, s)]
                inner = lane[u(_SLOPE + s)] * ((y - z) - lane[u(_SHIFT + s)])
                w_new = 0.5 * (1.0 - inner / (1.0 + abs(inner)))
                set_weights(buf, lane, j, s, y, z, w_old, w_new, 1.0)
        nxt = end_step(Y, buf, lane, m, lanes_row, iters, nxt, out, max_iter, tol, True)


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
