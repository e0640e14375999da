"""Whittaker-smoothing baselines: AsLS, arPLS, airPLS, asPLS and drPLS.

Each method reweights ``(W + lam D'D) z = W y`` (or a variant) until the weights settle.
The kernels below run the reweighting loops in compiled code for all spectra of a block,
several spectra in flight at once; every spectrum follows the weighting and stopping
rules of a per-spectrum call of :mod:`pybaselines` and stops at its own convergence
(asPLS's default fast solver, in :mod:`._aspls_fast`, reaches an objective no worse than
pybaselines' by its own route). Row blocks run in parallel threads; ``D'D`` is built once
per call.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from spectrakit.core.errors import ConfigError
from spectrakit.preprocessing._base import map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.baseline._aspls_fast import MIN_COARSE_POINTS, fast_aspls
from spectrakit.preprocessing.baseline._banded import penalty_rows, penalty_upper
from spectrakit.preprocessing.baseline._common import BaselineCorrection, check_int, check_real
from spectrakit.preprocessing.baseline._lanes import (
    COUNT,
    DEN,
    G_DIAG,
    G_LOWER,
    G_W,
    G_Y,
    G_Z,
    NUM,
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
from spectrakit.preprocessing.baseline._rules import (
    AIRPLS,
    ARPLS,
    ASLS,
    ASPLS,
    DRPLS,
    N_SCALARS,
    W_DIV,
    Y_L1,
    prepare,
    weight_airpls,
    weight_arpls,
    weight_asls,
    weight_aspls,
    weight_drpls,
)

__all__ = ["AirPLS", "ArPLS", "AsLS", "AsPLS", "DrPLS", "reweight"]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_EPS = float(np.finfo(float).eps)  # floor of norms and standard deviations (as pybaselines)


# --------------------------------------------------------------------------- engine
# The engine keeps LANES spectra in flight in a lane block (see ._lanes). One step solves
# every lane's system, computes the residual statistics, lets the method's rule (._rules)
# set its lane scalars, then one pass over the points computes the new weights, their
# change, and the next system, keeping the solution in G_LOWER; a lane whose spectrum is
# done stores that baseline, its iteration count and whether it converged, and takes the
# next spectrum. Each lane's arithmetic is exactly that of a single-spectrum loop, with
# pybaselines' weighting and stopping rules, so results do not depend on batch size or
# order. The rule is chosen once per step, outside the point loops, so every pass is
# compiled (and vectorised) for its own rule.
@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _weight_pass(weight, params, buf, lane, n, m):  # pragma: no cover - compiled
    """New weights of every point of lanes ``0..m-1`` by ``weight``; the next system."""
    for j in range(n):
        for s in range(m):
            y, z, w_old = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)], buf[at(j, G_W, s)]
            w_new, alpha = weight(params, lane, s, y, z)
            set_weights(buf, lane, j, s, y, z, w_old, w_new, alpha)


@_jit
def _airpls_pass(params, buf, lane, n, m):  # pragma: no cover - compiled
    """AirPLS weights, divided by their maximum when ``params[0]`` (normalize_weights)."""
    for j in range(n):
        for s in range(m):
            y, z = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)]
            w_new, _ = weight_airpls(params, lane, s, y, z)
            lane[u(Y_L1 + s)] += abs(y)
            lane[u(W_DIV + s)] = max(lane[u(W_DIV + s)], w_new)
            buf[at(j, G_W, s)] = w_new
            buf[at(j, G_LOWER, s)] = z
    for s in range(m):
        w_max = lane[W_DIV + s]
        lane[W_DIV + s] = w_max if params[0] != 0.0 and w_max > 0 else 1.0
    for j in range(n):
        for s in range(m):
            w = buf[at(j, G_W, s)] / lane[u(W_DIV + s)]
            buf[at(j, G_W, s)] = w
            buf[at(j, G_DIAG, s)] = w
            buf[at(j, G_Z, s)] = w * buf[at(j, G_Y, s)]


@_jit
def _airpls_end(
    Y, lane, m, lanes_row, iters, nxt, buf, out, info, max_iter, tol
):  # pragma: no cover
    """AirPLS stopping: |sum r-| below ``tol`` times the spectrum's L1 norm."""
    n = Y.shape[1]
    for s in range(m):
        iters[s] += 1
        converged = abs(lane[TOTAL + s]) / max(lane[Y_L1 + s], _EPS) < tol
        if lanes_row[s] < 0 or lane[COUNT + s] < 2 or converged or iters[s] > max_iter:
            nxt = next_spectrum(Y, buf, n, s, lanes_row, iters, nxt, out, info, converged)
    return nxt


@_jit
def _rule_pass(rule, params, buf, lane, n, m):  # pragma: no cover - compiled
    """The weight pass of ``rule`` (one compiled loop per rule)."""
    if rule == ASLS:
        _weight_pass(weight_asls, params, buf, lane, n, m)
    elif rule == ARPLS:
        _weight_pass(weight_arpls, params, buf, lane, n, m)
    elif rule == ASPLS:
        _weight_pass(weight_aspls, params, buf, lane, n, m)
    else:
        _weight_pass(weight_drpls, params, buf, lane, n, m)


@_jit
def _reweight_rows(Y, rows_a, rows_b, rule, params, max_iter, tol, out, info):  # pragma: no cover
    """Baselines of ``Y`` (n_spectra, n_points) into ``out``; per-spectrum ``info``.

    ``rows_a``: the penalty (upper banded storage); for drPLS, ``rows_a`` and ``rows_b``
    are the two band matrices in row storage (``R + diag(w) S``).
    """
    n = Y.shape[1]
    m, buf, lane, lanes_row, iters, nxt = open_block(Y, N_SCALARS)
    while lanes_row.max() >= 0:
        if rule == DRPLS:
            solve_scaled_lanes(rows_a, rows_b, buf, n, m)
        else:
            solve_lanes(rows_a, buf, n, m)
        if rule == ASLS:  # fixed weights: no residual statistics, only the change
            for s in range(m):
                lane[NUM + s] = 0.0
                lane[DEN + s] = 0.0
        else:
            negative_stats(buf, n, lane, m)
        for s in range(m):
            prepare(rule, params, lane, s, iters[s])
        if rule == AIRPLS:
            _airpls_pass(params, buf, lane, n, m)
            nxt = _airpls_end(Y, lane, m, lanes_row, iters, nxt, buf, out, info, max_iter, tol)
        else:
            _rule_pass(rule, params, buf, lane, n, m)
            need_negatives = rule != ASLS
            nxt = end_step(
                Y, buf, lane, m, lanes_row, iters, nxt, out, info, max_iter, tol, need_negatives
            )


def reweight(
    X: np.ndarray,
    rule: int,
    params: tuple[float, ...],
    rows: tuple[np.ndarray, ...],
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run weighting ``rule`` (._rules) on the spectra ``X``, row blocks in parallel threads.

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_points)
    rule : int
        ``ASLS``, ``ARPLS``, ``ASPLS``, ``DRPLS`` or ``AIRPLS``.
    params : tuple of float
        The rule's options (see ._rules).
    rows : tuple of ndarray
        The penalty in upper banded storage, or drPLS's two row-storage band matrices.

    Returns
    -------
    baselines : ndarray of shape (n_spectra, n_points)
    n_iter : ndarray of shape (n_spectra,)
        Systems solved per spectrum (pybaselines' ``len(tol_history)``).
    converged : ndarray of shape (n_spectra,), bool
        Whether the spectrum met its stopping rule before ``max_iter``.
    """
    p = np.asarray(params, dtype=np.float64).reshape(-1)
    p = p if p.size else np.zeros(1)
    rows_b = rows[1] if len(rows) > 1 else rows[0]

    def chunk(block: np.ndarray) -> np.ndarray:
        out = np.empty((block.shape[0], block.shape[1] + 2))
        info = np.zeros((block.shape[0], 2), np.int64)
        base = np.empty_like(block)
        _reweight_rows(
            np.ascontiguousarray(block), rows[0], rows_b, rule, p, max_iter, tol, base, info
        )
        out[:, :-2], out[:, -2:] = base, info
        return out

    res = map_rows(chunk, X)
    return res[:, :-2], res[:, -2].astype(np.int64), res[:, -1] != 0


def reweight_aspls_fast(
    X: np.ndarray, lam: float, asymmetric_coef: float, diff_order: int, max_iter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fast asPLS (:mod:`._aspls_fast`) on the spectra ``X``, row blocks in parallel threads.

    Returns ``(baselines, n_iter, converged)`` as :func:`reweight`.
    """

    def chunk(block: np.ndarray) -> np.ndarray:
        base, n_iter, converged = fast_aspls(block, lam, asymmetric_coef, diff_order, max_iter, tol)
        return np.column_stack([base, n_iter, converged])

    res = map_rows(chunk, X)
    return res[:, :-2], res[:, -2].astype(np.int64), res[:, -1] != 0


# --------------------------------------------------------------------------- public steps
class _Whittaker(BaselineCorrection):
    """Shared parameter checks and diagnostics of the Whittaker family.

    After ``fit``, ``fit_transform`` or ``baseline``, ``spectrum_n_iter_`` (int array of
    shape (n_spectra,)) holds the systems solved for each spectrum of that call (the
    length of pybaselines' ``tol_history``), ``n_iter_`` their maximum (scikit-learn's
    convention: the iterations the fit ran) and ``converged_`` (bool array, (n_spectra,))
    whether each spectrum met the stopping rule within ``max_iter`` (False: it ran out of
    iterations, or too few negative residuals were left to go on). ``transform`` leaves
    them unchanged.
    """

    _min_diff_order = 1

    def _reweight(
        self, X: np.ndarray, rule: int, params: tuple, rows: tuple[np.ndarray, ...]
    ) -> np.ndarray:
        base, n_iter, converged = reweight(
            X, rule, params, rows, int(self.max_iter), float(self.tol)
        )
        return self._keep(base, n_iter, converged)

    def _keep(self, base: np.ndarray, n_iter: np.ndarray, converged: np.ndarray) -> np.ndarray:
        """Record the diagnostics of a fit (inside fit, fit_transform or baseline)."""
        sink = self.__dict__.get("_sink")
        if sink is not None:  # inside fit, fit_transform or baseline: keep the diagnostics
            sink.append((n_iter, converged))
        return base

    def _collecting(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)``, recording ``n_iter_`` and ``converged_`` of its fits."""
        self._sink: list = []
        try:
            result = call(*args, **kwargs)
            if self._sink:
                self.spectrum_n_iter_, self.converged_ = self._sink[-1]
                self.n_iter_ = int(self.spectrum_n_iter_.max(initial=0))
        finally:
            del self._sink
        return result

    def fit(self, X: Any, y: Any = None, axis: Any = None) -> _Whittaker:
        """Record the axis, and each spectrum's ``n_iter_`` and ``converged_`` on ``X``."""
        super().fit(X, y, axis=axis)
        self._collecting(super().baseline, X, axis)
        return self

    def fit_transform(self, X: Any, y: Any = None, axis: Any = None, **kw: Any) -> Any:
        """``fit`` and ``transform`` in one pass (the baselines are computed once)."""
        super().fit(X, y, axis=axis)
        return self._collecting(self.transform, X)

    def baseline(self, X: Any, axis: Any = None) -> np.ndarray:
        """The baselines (:meth:`BaselineCorrection.baseline`); sets ``n_iter_``, ``converged_``."""
        return self._collecting(super().baseline, X, axis)

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
        return self._reweight(X, ASLS, (float(self.p),), (self._lam_upper(X.shape[1]),))


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
        return self._reweight(X, ARPLS, (), (self._lam_upper(X.shape[1]),))


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
        params = (1.0 if self.normalize_weights else 0.0,)
        return self._reweight(X, AIRPLS, params, (self._lam_upper(X.shape[1]),))


@register_step
class AsPLS(_Whittaker):
    """Adaptive smoothness penalized least squares baseline (asPLS).

    Like arPLS, with a per-point smoothness ``alpha_i = |r_i| / max |r|`` that relaxes
    the penalty where the residual is small: solves ``(W + diag(alpha) lam D'D) z = W y``
    (``asymmetric_coef`` 0.5, as pybaselines).

    Two solvers reach the same asPLS fixed point:

    ``method="fast"`` (default)
        Coarse-grid start, over-relaxed reweighting and an objective stopping rule (see
        :mod:`spectrakit.preprocessing.baseline._aspls_fast`); ``tol`` bounds the relative
        change of the asPLS objective (the penalised weighted residual at the iterate's
        own weights) between iterations. Its objective is no worse than that of
        :meth:`pybaselines.Baseline.aspls` (within a small relative slack; see
        ``docs/preprocessing.md``), with about 60 % of the full-grid solves.
    ``method="reference"``
        pybaselines' iteration (unit start, stop when the weights change by less than
        ``tol``): matches :meth:`pybaselines.Baseline.aspls` to 1e-3 of the range.

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
    method : {"fast", "reference"}, default="fast"
        The solver (above).
    """

    def __init__(
        self,
        lam: float = 1e5,
        diff_order: int = 2,
        max_iter: int = 100,
        tol: float = 1e-3,
        asymmetric_coef: float = 0.5,
        method: str = "fast",
    ) -> None:
        self.lam = lam
        self.diff_order = diff_order
        self.max_iter = max_iter
        self.tol = tol
        self.asymmetric_coef = asymmetric_coef
        self.method = method

    def _check_params(self, n_points: int | None = None) -> None:
        check_real("AsPLS", "asymmetric_coef", self.asymmetric_coef, low=0.0, low_open=True)
        if self.method not in ("fast", "reference"):
            raise ConfigError(
                "AsPLS: invalid method",
                expected='"fast" or "reference"',
                got=f"method={self.method!r}",
                fix='pass method="fast" (default) or method="reference" (pybaselines parity)',
            )
        super()._check_params(n_points)

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        k = float(self.asymmetric_coef)
        if self.method == "fast" and X.shape[1] >= MIN_COARSE_POINTS:
            lam, d = float(self.lam), int(self.diff_order)
            return self._keep(
                *reweight_aspls_fast(X, lam, k, d, int(self.max_iter), float(self.tol))
            )
        return self._reweight(X, ASPLS, (k,), (self._lam_upper(X.shape[1]),))


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
        return self._reweight(X, DRPLS, (), (lam_rows + first, weighted))
