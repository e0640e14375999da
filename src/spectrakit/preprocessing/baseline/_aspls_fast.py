"""Fast asPLS: coarse-grid start, over-relaxed reweighting and an objective stopping rule.

asPLS (see :class:`._whittaker.AsPLS`) is a fixed-point iteration: from a baseline ``z``
take ``r = y - z``, the weights ``w = expit(-k (r - sigma) / sigma)`` and the local
smoothness ``alpha = max(|r| / max |r|, eps)``, then solve
``(diag(w / alpha) + lam D'D) z' = (w / alpha) y``. Each solve minimises the penalised
weighted residual ``Phi(z'; z) = sum (w / alpha) (y - z')^2 + lam |D z'|^2`` at the
weights of ``z``; the objective an answer is judged by is ``Phi(z; z)``, its own
penalised weighted residual at its own weights. Started from unit weights, the iteration
creeps towards its fixed point (IRLS on an L1-like fidelity: ~50 solves on Raman spectra).

Four changes reach a lower ``Phi(z; z)`` than pybaselines' answer in about 40 % of its
full-grid solves (about 60 % of its work with the coarse levels counted):

1. **Coarse-grid start (continuation).** The spectra are averaged over blocks of
   ``COARSE`` points and asPLS runs there with ``lam / COARSE ** (2 d)`` (the same
   continuous smoothness; each solve costs 1 / COARSE of a full one), itself started from
   a coarser level while that has ``MIN_LEVEL_POINTS`` points or more. The bottom level
   runs ``COARSE_ITER`` plain solves, the others at most ``LEVEL_ITER`` (a level only
   starts the next one: running it to convergence, 35 solves on average, bought nothing
   at the finest level); the coarse baseline, interpolated linearly, starts the next.
2. **Over-relaxation.** The next iterate is ``z + beta (z' - z)`` with ``beta`` = 1.7;
   a lane whose objective rises falls back to ``beta = 1`` (plain asPLS) for good.
3. **Objective stopping rule.** A spectrum stops when ``Phi`` of its iterate changes by
   less than ``tol`` (relative) from one iteration to the next, or when fewer than two
   residuals are negative; its answer is the solution of that last system.
4. **A second start where the basin is ambiguous.** asPLS is not convex: a start can lead
   to a fixed point of clearly higher ``Phi`` (from one start, about one Raman spectrum in
   a thousand ends more than 2 % above pybaselines' objective, up to 7 %), and the block
   averaging biases every start built on one grid alike. A second pyramid on
   ``SECOND_FACTOR``-point blocks, with ``SECOND_COARSE_ITER`` solves at its bottom,
   gives a start from another grid. Where it differs from the first by more than
   ``AMBIGUOUS`` of the spectrum's range (about half of the spectra), the full grid runs
   ``PROBE`` solves from it; only where its objective is then within ``PROBE_MARGIN`` of
   the first answer's (about a quarter of the spectra) does it run to convergence, and
   the answer with the lower ``Phi(z; z)`` (:func:`._aspls_objective.aspls_objective`)
   is kept. ``n_iter`` counts all runs.

Each spectrum's arithmetic is independent of the others in its lane block, so the
result does not depend on block size, order or thread count.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.linalg import solveh_banded

from spectrakit.preprocessing.baseline._aspls_objective import aspls_objective
from spectrakit.preprocessing.baseline._banded import penalty_upper
from spectrakit.preprocessing.baseline._fastexp import exp
from spectrakit.preprocessing.baseline._lanes import (
    ABSMAX,
    COUNT,
    G_DIAG,
    G_Y,
    G_Z,
    LANES,
    MEAN,
    N_STATS,
    STD,
    SUMSQ,
    TOTAL,
    at,
    new_block,
    solve_lanes,
    store_lane,
    u,
)

__all__ = [
    "AMBIGUOUS",
    "BETA",
    "COARSE",
    "COARSE_ITER",
    "LEVEL_ITER",
    "MIN_COARSE_POINTS",
    "PROBE",
    "PROBE_MARGIN",
    "SECOND_COARSE_ITER",
    "SECOND_FACTOR",
    "coarse_start",
    "fast_aspls",
    "plain_aspls",
]

#: points averaged per coarse point, and asPLS iterations on the coarse grid
COARSE, COARSE_ITER = 4, 40
#: solves of the second start's bottom level, and the start difference (relative to the
#: spectrum's range) above which the full grid is also run from it
SECOND_COARSE_ITER, AMBIGUOUS = 10, 0.01
#: points averaged per coarse point in the second start's levels
SECOND_FACTOR = 3
#: solves of the second start's full-grid run before it is judged, and the margin above the
#: first answer's objective within which it goes on
PROBE, PROBE_MARGIN = 4, 0.02
#: iterations of an intermediate level (it only starts the next, finer one)
LEVEL_ITER = 15
#: over-relaxation factor of the full-grid iterations
BETA = 1.7
#: shortest spectrum given a coarse start (shorter ones start from the spectrum's smooth)
MIN_COARSE_POINTS = 64
#: a coarse grid of at least this many points is itself started from a coarser one
MIN_LEVEL_POINTS = 128

#: growth of the relaxation factor per iteration after an overshoot (back to BETA)
RELAX_STEP = 0.1
#: consecutive iterations the objective must stay within ``tol`` before a spectrum stops
PATIENCE = 2

SLOPE, FID, PEN, OBJ, RELAX, DONE, CALM = ((N_STATS + k) * LANES for k in range(7))
N_SCALARS = N_STATS + 7
_EPS = float(np.finfo(float).eps)
# contract: multiply-adds fuse (one rounding instead of two); no other reassociation, so
# every lane still runs the arithmetic of a single-spectrum loop
_jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


@_jit
def _load(Y, Z0, row, s, buf, prev, lane, lanes_row, beta):  # pragma: no cover - compiled
    """Put spectrum ``row`` (start ``Z0[row]``) into lane ``s``; return the next row."""
    n = Y.shape[1]
    filled = row < Y.shape[0]
    for j in range(n):
        y = Y[row, j] if filled else 0.0
        buf[at(j, G_Y, s)] = y
        z0 = Z0[row, j] if filled else 0.0
        buf[at(j, G_Z, s)] = z0
        prev[u(j * LANES + s)] = z0  # the relaxation step then leaves z0 as it is
    lane[OBJ + s] = -1.0
    lane[RELAX + s] = beta
    lane[DONE + s] = 0.0
    lane[CALM + s] = 0.0
    lanes_row[s] = row if filled else -1
    return row + 1 if filled else row


@_jit
def _weights(params, coef, buf, prev, lane, n, m):  # pragma: no cover - compiled
    """The system of the iterate in ``G_Z``, and both parts of its ``Phi``.

    The diagonal ``c = w / alpha`` into ``G_DIAG`` and ``c y`` into ``G_Z``. With
    ``e = exp(-|x|)`` the weight ``w = expit(x)`` is ``1 / (1 + e)`` for ``x >= 0`` and
    ``e / (1 + e)`` below, so ``c`` takes one division. Keeps the iterate in ``prev``,
    accumulates ``sum c r^2`` into ``FID`` and ``|D z|^2`` into ``PEN`` (:func:`_penalty`).
    """
    for s in range(m):
        lane[SLOPE + s] = -(params[0] / lane[STD + s])
        lane[ABSMAX + s] = max(lane[ABSMAX + s], _EPS)
        lane[FID + s] = 0.0
        lane[PEN + s] = 0.0
    for j in range(n):
        for s in range(m):
            y, z = buf[at(j, G_Y, s)], buf[at(j, G_Z, s)]
            r = y - z
            alpha = max(abs(r) / lane[u(ABSMAX + s)], _EPS)
            x = lane[u(SLOPE + s)] * (r - lane[u(STD + s)])
            e = exp(-abs(x))
            c = (1.0 if x >= 0 else e) / ((1.0 + e) * alpha)
            lane[u(FID + s)] += c * r * r
            buf[at(j, G_DIAG, s)] = c
            buf[at(j, G_Z, s)] = c * y
            prev[u(j * LANES + s)] = z
    _penalty(prev, coef, lane, n, m)


@_jit
def _penalty(prev, coef, lane, n, m):  # pragma: no cover - compiled
    """``|D z|^2`` of the iterates in ``prev`` into ``PEN`` (``coef``: D's stencil)."""
    d = coef.size - 1
    for s in range(m):
        lane[PEN + s] = 0.0
    if d == 2:  # the common case, unrolled so that the lane loop vectorises
        c0, c1, c2 = coef[0], coef[1], coef[2]
        for j in range(2, n):
            for s in range(m):
                t = (
                    c0 * prev[u((j - 2) * LANES + s)]
                    + c1 * prev[u((j - 1) * LANES + s)]
                    + c2 * prev[u(j * LANES + s)]
                )
                lane[u(PEN + s)] += t * t
        return
    for j in range(d, n):
        for s in range(m):
            t = 0.0
            for i in range(d + 1):
                t += coef[i] * prev[u((j - d + i) * LANES + s)]
            lane[u(PEN + s)] += t * t


@_jit
def _decide(lane, m, lam, tol, beta, lanes_row):  # pragma: no cover - compiled
    """Per lane: objective of the iterate, the relaxation safeguard and the stopping rule.

    ``DONE``: 0 go on, 1 stop after this solve, 2 degenerate (fewer than two negative
    residuals: the iterate itself is the answer).
    """
    for s in range(m):
        obj = lane[FID + s] + lam * lane[PEN + s]
        last = lane[OBJ + s]
        if lanes_row[s] < 0:
            lane[DONE + s] = 1.0
        elif lane[COUNT + s] < 2:
            lane[DONE + s] = 2.0
        elif last >= 0 and abs(last - obj) <= tol * obj:
            lane[CALM + s] += 1.0
            if lane[CALM + s] >= PATIENCE:
                lane[DONE + s] = 1.0
        else:
            lane[CALM + s] = 0.0
        if last >= 0 and obj > last:  # overshoot: a plain step, then relax again
            lane[RELAX + s] = 1.0
        else:
            lane[RELAX + s] = min(lane[RELAX + s] + RELAX_STEP, beta)
        lane[OBJ + s] = obj


@_jit
def _relax_stats(buf, prev, lane, n, m):  # pragma: no cover - compiled
    """Next iterate ``z + beta (z' - z)`` into ``G_Z``, and its residual statistics.

    ``z`` is in ``prev`` and ``z'`` (the last solution) in ``G_Z``. Fills ``COUNT``,
    ``MEAN``, ``STD`` (ddof=1, from one pass of sums; machine epsilon when fewer than two
    residuals are negative or they do not spread) and ``ABSMAX`` of ``r = y - z_next``.
    """
    for s in range(m):
        lane[COUNT + s] = 0.0
        lane[TOTAL + s] = 0.0
        lane[ABSMAX + s] = 0.0
        lane[SUMSQ + s] = 0.0
    for j in range(n):
        for s in range(m):
            z = prev[u(j * LANES + s)]
            z = z + lane[u(RELAX + s)] * (buf[at(j, G_Z, s)] - z)
            buf[at(j, G_Z, s)] = z
            r = buf[at(j, G_Y, s)] - z
            neg = r < 0
            lane[u(COUNT + s)] += 1.0 if neg else 0.0
            lane[u(TOTAL + s)] += r if neg else 0.0
            lane[u(SUMSQ + s)] += r * r if neg else 0.0
            lane[u(ABSMAX + s)] = max(lane[u(ABSMAX + s)], abs(r))
    for s in range(m):
        count = lane[COUNT + s]
        mean = lane[TOTAL + s] / max(count, 1.0)
        var = (lane[SUMSQ + s] - count * mean * mean) / (count - 1.0) if count >= 2.0 else 0.0
        sd = np.sqrt(var) if var > 0 else 0.0
        lane[MEAN + s] = mean
        lane[STD + s] = sd if sd > 0 else _EPS


@_jit
def fast_rows(Y, Z0, ab, coef, params, lam, max_iter, tol, beta, out, info):  # pragma: no cover
    """Fast asPLS baselines of ``Y`` (n_spectra, n_points) from starts ``Z0`` into ``out``.

    ``ab``: ``lam D'D`` in upper banded storage; ``coef``: the difference stencil of ``D``;
    ``params[0]``: asymmetric_coef. ``info`` (n_spectra, 2): systems solved, and 1 where
    the objective rule (not ``max_iter`` or degenerate residuals) stopped the spectrum.
    """
    n = Y.shape[1]
    buf, prev, lane = new_block(n), np.zeros(n * LANES), np.zeros(N_SCALARS * LANES)
    m = min(LANES, Y.shape[0])
    lanes_row, iters = np.full(LANES, -1, np.int64), np.zeros(LANES, np.int64)
    nxt = 0
    for s in range(m):
        nxt = _load(Y, Z0, nxt, s, buf, prev, lane, lanes_row, beta)
    while lanes_row.max() >= 0:
        _relax_stats(buf, prev, lane, n, m)
        _weights(params, coef, buf, prev, lane, n, m)
        _decide(lane, m, lam, tol, beta, lanes_row)
        solve_lanes(ab, buf, n, m)
        for s in range(m):
            iters[s] += 1
            flag, row = lane[DONE + s], lanes_row[s]
            if row >= 0 and (flag > 0 or iters[s] > max_iter):
                if flag == 2.0:  # the iterate (kept in prev) is the answer
                    for j in range(n):
                        out[row, j] = prev[u(j * LANES + s)]
                else:
                    store_lane(buf, n, s, G_Z, out[row])
                info[row, 0] = iters[s]
                info[row, 1] = 1 if flag == 1.0 else 0
        for s in range(m):
            if lanes_row[s] >= 0 and (lane[DONE + s] > 0 or iters[s] > max_iter):
                iters[s] = 0
                nxt = _load(Y, Z0, nxt, s, buf, prev, lane, lanes_row, beta)


def coarse_start(
    X: np.ndarray, lam: float, diff_order: int, refine, factor: int = COARSE
) -> np.ndarray:
    """Starting baselines: asPLS on ``factor``-point means, interpolated to the full grid.

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_points)
    refine : callable
        ``refine(Xc, lam_c)`` -> coarse baselines (n_spectra, n_coarse): asPLS on the
        coarse grid (itself started from a coarser one while that has
        ``MIN_LEVEL_POINTS`` points or more).
    factor : int, default=COARSE
        Points averaged per coarse point.

    Returns
    -------
    ndarray of shape (n_spectra, n_points)
    """
    n = X.shape[1]
    nc = n // factor
    Xc = np.empty((X.shape[0], nc))
    _block_means(X, factor, Xc)
    Zc = refine(Xc, lam / float(factor) ** (2 * diff_order))
    centres = np.arange(nc) * factor + (factor - 1) / 2.0
    pos = np.clip(np.arange(n, dtype=float), centres[0], centres[-1])
    i0 = np.minimum(((pos - centres[0]) // factor).astype(np.intp), nc - 2)
    t = (pos - centres[i0]) / factor
    out = np.empty_like(X)
    _interpolate(np.ascontiguousarray(Zc), i0, t, out)
    return out


@_jit
def _block_means(X, factor, out):  # pragma: no cover - compiled
    """Means of consecutive ``factor``-point blocks of each row of ``X`` into ``out``."""
    for i in range(X.shape[0]):
        for c in range(out.shape[1]):
            total = 0.0
            for j in range(c * factor, (c + 1) * factor):
                total += X[i, j]
            out[i, c] = total / factor


@_jit
def _interpolate(Zc, i0, t, out):  # pragma: no cover - compiled
    """``out[:, j] = Zc[:, i0[j]] (1 - t[j]) + Zc[:, i0[j] + 1] t[j]`` (linear, per row)."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            k = i0[j]
            out[i, j] = Zc[i, k] * (1.0 - t[j]) + Zc[i, k + 1] * t[j]


def difference_stencil(diff_order: int) -> np.ndarray:
    """Coefficients of one row of the ``diff_order``-th difference matrix, shape (d + 1,)."""
    return np.diff(np.eye(diff_order + 1), diff_order, axis=0)[0].copy()


def fast_aspls(
    X: np.ndarray,
    lam: float,
    asymmetric_coef: float,
    diff_order: int,
    max_iter: int,
    tol: float,
    second_start: bool = True,
    n_coarsest: int = COARSE_ITER,
    factor: int = COARSE,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fast asPLS baselines of one row block (coarse starts, then :func:`fast_rows`).

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_points), n_points >= ``MIN_COARSE_POINTS``
    second_start : bool, default=True
        Also start from the ``SECOND_FACTOR``-point pyramid where the two starts differ by
        more than ``AMBIGUOUS`` of the range, keeping the lower objective (see
        :func:`_second_run`; the coarse levels themselves use one start).
    n_coarsest : int, default=COARSE_ITER
        Solves of the coarsest level of the (first) start.
    factor : int, default=COARSE
        Points averaged per coarse point in the (first) start's levels.

    Returns
    -------
    baselines : ndarray of shape (n_spectra, n_points)
    n_iter : ndarray of shape (n_spectra,)
        Full-grid systems solved per spectrum (both runs where there were two).
    converged : ndarray of shape (n_spectra,), bool
        Whether the objective rule stopped the spectrum (for the answer kept).
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    args = (lam, asymmetric_coef, diff_order, max_iter, tol)
    start = coarse_start(X, lam, diff_order, _refiner(args, n_coarsest, factor), factor)
    out, n_iter, converged = _full_grid(X, start, *args)
    if not second_start:
        return out, n_iter, converged
    refine = _refiner(args, SECOND_COARSE_ITER, SECOND_FACTOR)
    other = coarse_start(X, lam, diff_order, refine, SECOND_FACTOR)
    spread = np.maximum(np.ptp(X, axis=1), _EPS)
    redo = np.flatnonzero(np.abs(start - other).max(axis=1) > AMBIGUOUS * spread)
    if redo.size:
        _second_run(X, other, redo, args, out, n_iter, converged)
    return out, n_iter, converged


def _second_run(
    X: np.ndarray,
    other: np.ndarray,
    redo: np.ndarray,
    args: tuple,
    out: np.ndarray,
    n_iter: np.ndarray,
    converged: np.ndarray,
) -> None:
    """The full grid from the second start on the rows ``redo``, in place where it is lower.

    ``X``, ``other`` (the second start) and ``out`` (the first answers) are (n, p);
    ``redo`` holds row indices; ``args`` is ``(lam, asymmetric_coef, diff_order, max_iter,
    tol)``; ``n_iter`` and ``converged`` (n,) are updated with the answers.

    ``PROBE`` solves first; only the rows whose objective then is below ``1 + PROBE_MARGIN``
    times that of the first answer (``out``) go on to convergence.
    """
    lam, asymmetric_coef, diff_order, _, tol = args
    mine = aspls_objective(X[redo], out[redo], lam, asymmetric_coef, diff_order)
    probe, probe_iter, _ = _full_grid(X[redo], other[redo], *args[:3], PROBE - 1, tol)
    n_iter[redo] += probe_iter
    ahead = aspls_objective(X[redo], probe, lam, asymmetric_coef, diff_order)
    keep = ahead < (1.0 + PROBE_MARGIN) * mine
    go = redo[keep]
    if not go.size:
        return
    alt, alt_iter, alt_conv = _full_grid(X[go], probe[keep], *args)
    n_iter[go] += alt_iter
    theirs = aspls_objective(X[go], alt, lam, asymmetric_coef, diff_order)
    better = theirs < mine[keep]
    out[go[better]], converged[go[better]] = alt[better], alt_conv[better]


def _refiner(args: tuple, n_coarsest: int, factor: int):
    """``refine(Xc, lam_c)`` for :func:`coarse_start` (``factor``-point means per level).

    The bottom level runs ``n_coarsest`` plain solves (:func:`plain_aspls`); the others
    at most ``LEVEL_ITER``.
    """
    _, asymmetric_coef, diff_order, max_iter, tol = args

    def refine(Xc: np.ndarray, lam_c: float) -> np.ndarray:
        if Xc.shape[1] < MIN_LEVEL_POINTS:
            return plain_aspls(Xc, lam_c, asymmetric_coef, diff_order, n_coarsest)
        level = (lam_c, asymmetric_coef, diff_order, min(max_iter, LEVEL_ITER), tol)
        inner = fast_aspls(Xc, *level, second_start=False, n_coarsest=n_coarsest, factor=factor)
        return inner[0]

    return refine


def plain_aspls(
    X: np.ndarray, lam: float, asymmetric_coef: float, diff_order: int, n_iter: int
) -> np.ndarray:
    """Plain asPLS from unit weights, ``n_iter`` >= 2 solves (no stopping rule).

    The first solve, ``(I + lam D'D) z = y``, is one banded Cholesky for all rows
    (:func:`scipy.linalg.solveh_banded`); :func:`fast_rows` without over-relaxation
    (``beta`` = 1) and with ``tol`` = 0 then runs the other ``n_iter - 1``.

    Parameters
    ----------
    X : ndarray of shape (n_spectra, n_points)

    Returns
    -------
    ndarray of shape (n_spectra, n_points)
        The baseline of the last solve.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    ab = lam * penalty_upper(X.shape[1], diff_order)
    ab[-1] += 1.0
    start = np.ascontiguousarray(solveh_banded(ab, X.T, check_finite=False).T)
    args = (lam, asymmetric_coef, diff_order, n_iter - 2, 0.0)
    return _full_grid(X, start, *args, beta=1.0)[0]


def _full_grid(
    X: np.ndarray,
    start: np.ndarray,
    lam: float,
    asymmetric_coef: float,
    diff_order: int,
    max_iter: int,
    tol: float,
    beta: float = BETA,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fast_rows` of ``X`` (n, p) from ``start`` (n, p): baselines, solves, converged."""
    X, start = np.ascontiguousarray(X), np.ascontiguousarray(start)
    out = np.empty_like(X)
    info = np.zeros((X.shape[0], 2), np.int64)
    ab = lam * penalty_upper(X.shape[1], diff_order)
    params = np.array([asymmetric_coef])
    coef = difference_stencil(diff_order)
    fast_rows(X, start, ab, coef, params, lam, max_iter, tol, beta, out, info)
    return out, info[:, 0].copy(), info[:, 1] != 0
