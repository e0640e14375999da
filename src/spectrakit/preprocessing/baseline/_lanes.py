"""Lane blocks: many spectra in flight in one flat buffer, laid out for SIMD.

A reweighting kernel keeps ``LANES`` spectra in flight. Everything it needs per point and
spectrum lives in one flat float64 buffer of ``n_points`` rows; row ``j`` holds
``N_GROUPS`` groups of ``LANES`` values (one group per quantity, one value per lane), and
the loops run ``for j in points: for s in lanes``. The inner loop then reads and writes
contiguous memory at compile-time constant offsets from a single base pointer, so the
compiler can prove that its iterations are independent and turns it into vector
instructions; unsigned indices drop numba's negative-index wraparound branch, which would
otherwise block that. The banded solves keep their per-spectrum recurrences (a division on
the dependency chain at every point) and run them for all lanes at once; each lane's
arithmetic is exactly that of a single-spectrum solve, so results do not depend on which
spectra share a block.

Groups of a row (``buf[at(j, group, s)]``):

``G_DIAG``
    the weights on the system's diagonal (the symmetric solve overwrites them with its
    pivots);
``G_Z``
    right-hand side, overwritten by the solution ``z``;
``G_RECIP``, ``G_LOWER``
    solve scratch (reciprocal pivots, first off-diagonal factor). ``G_LOWER`` is free
    after a solve: the weight passes keep the last solution there while they write the
    next system into ``G_DIAG`` and ``G_Z``;
``G_Y``, ``G_W``
    the spectra and their current weights.

Per-lane scalars live in a second flat array, ``lane[k * LANES + s]``, also at constant
offsets: the first ``N_STATS`` slots are the shared statistics below, and kernels put
their own after them.

A block of fewer spectra than ``LANES`` uses only its first ``m`` lanes (every function
taking ``m`` loops over those), so one spectrum costs one lane's work.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import uint64

from spectrakit.preprocessing.baseline._banded import solve_general, solve_symmetric

__all__ = [
    "ABSMAX",
    "COUNT",
    "DEN",
    "G_DIAG",
    "G_LOWER",
    "G_RECIP",
    "G_W",
    "G_Y",
    "G_Z",
    "LANES",
    "MEAN",
    "NUM",
    "N_GROUPS",
    "N_STATS",
    "ROW",
    "STD",
    "TOTAL",
    "at",
    "end_step",
    "load_lane",
    "negative_stats",
    "new_block",
    "next_spectrum",
    "open_block",
    "set_weights",
    "solve_lanes",
    "solve_scaled_lanes",
    "start_lanes",
    "store_lane",
    "u",
    "weight_change",
]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")

#: spectra in flight per block: two AVX-512 (four AVX2) vectors of float64. Enough
#: independent recurrences to hide the solve's division latency; a 1,000-point block then
#: takes 0.75 MB, and every Whittaker method ran 5-18 % more spectra per CPU second than
#: with 32 lanes (AVX2, 512 KB L2 per core).
LANES = 16
G_DIAG, G_Z, G_RECIP, G_LOWER, G_Y, G_W = (g * LANES for g in range(6))
N_GROUPS = 6
ROW = N_GROUPS * LANES

# shared per-lane scalars: negative-residual statistics and the weights' change
COUNT, TOTAL, MEAN, ABSMAX, SUMSQ, STD, NUM, DEN = (k * LANES for k in range(8))
N_STATS = 8
_EPS = float(np.finfo(float).eps)


@numba.njit(cache=True, nogil=True, inline="always")
def at(j, group, s):  # pragma: no cover - compiled
    """Unsigned flat index of lane ``s`` of ``group`` at point ``j``."""
    return uint64(j * ROW + group + s)


@numba.njit(cache=True, nogil=True, inline="always")
def u(i):  # pragma: no cover - compiled
    """Unsigned index (no negative-index wraparound branch)."""
    return uint64(i)


@_jit
def new_block(n):  # pragma: no cover - compiled
    """Zeroed lane buffer for ``n`` points, shape (n * ROW,)."""
    return np.zeros(n * ROW)


@_jit
def load_lane(Y, row, s, buf, lanes_row):  # pragma: no cover - compiled
    """Put spectrum ``row`` of ``Y`` into lane ``s``; return the next row to load.

    The lane starts from unit weights and their system ``(I + A) z = y`` (``G_DIAG`` 1,
    ``G_Z`` the spectrum). Past the last spectrum the lane is emptied (zeros,
    ``lanes_row[s] = -1``).
    """
    n = Y.shape[1]
    filled = row < Y.shape[0]
    for j in range(n):
        y = Y[row, j] if filled else 0.0
        buf[at(j, G_Y, s)] = y
        buf[at(j, G_Z, s)] = y
        buf[at(j, G_W, s)] = 1.0
        buf[at(j, G_DIAG, s)] = 1.0
    lanes_row[s] = row if filled else -1
    return row + 1 if filled else row


@_jit
def start_lanes(Y, buf, lanes_row, m):  # pragma: no cover - compiled
    """Fill lanes ``0..m-1`` with the first spectra of ``Y``; return the next row to load."""
    nxt = 0
    for s in range(m):
        nxt = load_lane(Y, nxt, s, buf, lanes_row)
    return nxt


@_jit
def open_block(Y, n_scalars):  # pragma: no cover - compiled
    """Lane state for the spectra ``Y`` (n_spectra, n_points), first spectra loaded.

    Returns ``(m, buf, lane, lanes_row, iters, nxt)``: lanes in use, the lane buffer, the
    per-lane scalars (``n_scalars`` slots), each lane's spectrum (-1: empty), its
    iteration count, and the next spectrum to load.
    """
    buf, lane = new_block(Y.shape[1]), np.zeros(n_scalars * LANES)
    m = min(LANES, Y.shape[0])  # fewer lanes for small blocks
    lanes_row, iters = np.full(LANES, -1, np.int64), np.zeros(LANES, np.int64)
    nxt = start_lanes(Y, buf, lanes_row, m)
    return m, buf, lane, lanes_row, iters, nxt


@_jit
def store_lane(buf, n, s, group, out_row):  # pragma: no cover - compiled
    """Copy ``group`` of lane ``s`` (a baseline) into ``out_row`` (n,)."""
    for j in range(n):
        out_row[j] = buf[at(j, group, s)]


@_jit
def negative_stats(buf, n, lane, m):  # pragma: no cover - compiled
    """Lanes ``0..m-1``: statistics of the negative residuals ``r = Y - Z``; clear ``NUM``, ``DEN``.

    Fills ``COUNT``, ``TOTAL`` (their sum), ``MEAN``, ``STD`` (ddof=1; fewer than two
    negative residuals, or a zero spread, give machine epsilon, as in pybaselines),
    ``ABSMAX`` (max ``|r|`` over all points) and ``SUMSQ``; sets ``NUM`` and ``DEN`` to 0.
    """
    for s in range(m):
        lane[COUNT + s] = 0.0
        lane[TOTAL + s] = 0.0
        lane[ABSMAX + s] = 0.0
        lane[SUMSQ + s] = 0.0
        lane[NUM + s] = 0.0
        lane[DEN + s] = 0.0
    for j in range(n):
        for s in range(m):
            r = buf[at(j, G_Y, s)] - buf[at(j, G_Z, s)]
            neg = r < 0
            lane[u(COUNT + s)] += 1.0 if neg else 0.0
            lane[u(TOTAL + s)] += r if neg else 0.0
            lane[u(ABSMAX + s)] = max(lane[u(ABSMAX + s)], abs(r))
    for s in range(m):
        lane[MEAN + s] = lane[TOTAL + s] / max(lane[COUNT + s], 1.0)
    for j in range(n):
        for s in range(m):
            r = buf[at(j, G_Y, s)] - buf[at(j, G_Z, s)]
            d = r - lane[u(MEAN + s)]
            lane[u(SUMSQ + s)] += d * d if r < 0 else 0.0
    for s in range(m):
        count = lane[COUNT + s]
        sd = np.sqrt(lane[SUMSQ + s] / (count - 1.0)) if count >= 2.0 else 0.0
        lane[STD + s] = sd if sd > 0 else _EPS


@numba.njit(cache=True, nogil=True)
def set_weights(buf, lane, j, s, y, z, w_old, w_new, alpha):  # pragma: no cover - compiled
    """Adopt weight ``w_new`` at point ``j`` of lane ``s`` (``y``, ``z``: spectrum, solution).

    Tracks the change for :func:`weight_change`, sets up the next system
    ``(W + A) z = W y`` divided row-wise by ``alpha`` (1 for all but asPLS) and keeps the
    solution in ``G_LOWER``.
    """
    dw = w_new - w_old  # x * x: numba lowers x ** 2 to a loop, which stops vectorisation
    lane[u(NUM + s)] += dw * dw
    lane[u(DEN + s)] += w_old * w_old
    buf[at(j, G_W, s)] = w_new
    buf[at(j, G_DIAG, s)] = w_new / alpha
    buf[at(j, G_Z, s)] = w_new * y / alpha
    buf[at(j, G_LOWER, s)] = z


@numba.njit(cache=True, nogil=True, inline="always")
def weight_change(lane, s):  # pragma: no cover - compiled
    """``||w_new - w_old|| / max(||w_old||, eps)`` (2-norms) of lane ``s``.

    :func:`set_weights` accumulates ``(w_new - w_old) ** 2`` into ``NUM`` and ``w_old ** 2``
    into ``DEN``.
    """
    return np.sqrt(lane[NUM + s]) / max(np.sqrt(lane[DEN + s]), _EPS)


@_jit
def next_spectrum(Y, buf, n, s, lanes_row, iters, nxt, out, info, converged):  # pragma: no cover
    """Lane ``s`` is done: store its baseline (kept in ``G_LOWER``), load the next spectrum.

    ``info`` (n_spectra, 2) receives the spectrum's iteration count and whether it met its
    stopping rule (1) rather than running out of iterations or negative residuals (0).
    Returns the next row to load; the lane's iteration count restarts at 0.
    """
    row = lanes_row[s]
    if row >= 0:
        store_lane(buf, n, s, G_LOWER, out[row])
        info[row, 0] = iters[s]
        info[row, 1] = 1 if converged else 0
    iters[s] = 0
    return load_lane(Y, nxt, s, buf, lanes_row)


@_jit
def end_step(  # pragma: no cover - compiled
    Y, buf, lane, m, lanes_row, iters, nxt, out, info, max_iter, tol, need_negatives
):
    """Count the step; retire the lanes that are done and load their next spectra.

    A lane is done when its weights changed by less than ``tol`` (:func:`weight_change`:
    converged), when ``need_negatives`` and fewer than two residuals are negative (every
    weight would vanish: stopped, as pybaselines does), after ``max_iter`` steps, or when
    it is empty. Returns the next spectrum to load.
    """
    n = Y.shape[1]
    for s in range(m):
        iters[s] += 1
        degenerate = need_negatives and lane[COUNT + s] < 2
        converged = not degenerate and weight_change(lane, s) < tol
        if lanes_row[s] < 0 or degenerate or converged or iters[s] > max_iter:
            nxt = next_spectrum(Y, buf, n, s, lanes_row, iters, nxt, out, info, converged)
    return nxt


# --------------------------------------------------------------------------- solves
@_jit
def _solve_symmetric_generic(ab, buf, n, m):  # pragma: no cover - compiled
    """Lane-by-lane symmetric solve for half bandwidths other than 2 (column copies)."""
    d = ab.shape[0] - 1
    lfac, dfac = np.empty((n, d + 1)), np.empty(n)
    col_w, col_r, col_z = np.empty(n), np.empty(n), np.empty(n)
    for s in range(m):
        for j in range(n):
            col_w[j], col_r[j] = buf[at(j, G_DIAG, s)], buf[at(j, G_Z, s)]
        solve_symmetric(ab, col_w, col_r, lfac, dfac, col_z)
        for j in range(n):
            buf[at(j, G_Z, s)] = col_z[j]


@_jit
def solve_lanes(ab, buf, n, m):  # pragma: no cover - compiled
    """Solve ``(A + diag(G_DIAG)) z = G_Z`` in lanes ``0..m-1``; ``z`` replaces ``G_Z``.

    ``A`` (``ab``) is symmetric banded in upper storage (see :mod:`._banded`), shared by
    all lanes. For ``diff_order=2`` (pentadiagonal) this is the banded LDL' recurrence of
    :func:`._banded.solve_symmetric` evaluated lane-parallel: ``G_DIAG`` receives the
    pivots, ``G_RECIP`` their reciprocals, ``G_LOWER`` the first sub-diagonal of L (the
    second is ``A[j-2, j] / d_{j-2}``, recomputed where needed). Other orders solve lane
    by lane.
    """
    if ab.shape[0] != 3 or n < 3:
        _solve_symmetric_generic(ab, buf, n, m)
        return
    for s in range(m):
        d0 = ab[2, 0] + buf[at(0, G_DIAG, s)]
        a = ab[1, 1] / d0
        d1 = ab[2, 1] + buf[at(1, G_DIAG, s)] - a * a * d0
        buf[at(0, G_DIAG, s)] = d0
        buf[at(0, G_RECIP, s)] = 1.0 / d0
        buf[at(1, G_DIAG, s)] = d1
        buf[at(1, G_RECIP, s)] = 1.0 / d1
        buf[at(1, G_LOWER, s)] = a
        buf[at(1, G_Z, s)] = buf[at(1, G_Z, s)] - a * buf[at(0, G_Z, s)]
    for j in range(2, n):
        a0, a1, a2 = ab[0, j], ab[1, j], ab[2, j]
        for s in range(m):
            m2 = a0 * buf[at(j - 2, G_RECIP, s)]
            dd2 = buf[at(j - 2, G_DIAG, s)]
            m1 = (a1 - m2 * buf[at(j - 1, G_LOWER, s)] * dd2) * buf[at(j - 1, G_RECIP, s)]
            dj = a2 + buf[at(j, G_DIAG, s)] - m2 * m2 * dd2 - m1 * m1 * buf[at(j - 1, G_DIAG, s)]
            buf[at(j, G_DIAG, s)] = dj
            buf[at(j, G_RECIP, s)] = 1.0 / dj
            buf[at(j, G_LOWER, s)] = m1
            buf[at(j, G_Z, s)] = (
                buf[at(j, G_Z, s)] - m1 * buf[at(j - 1, G_Z, s)] - m2 * buf[at(j - 2, G_Z, s)]
            )
    for s in range(m):
        zl = buf[at(n - 1, G_Z, s)] * buf[at(n - 1, G_RECIP, s)]
        buf[at(n - 1, G_Z, s)] = zl
        buf[at(n - 2, G_Z, s)] = (
            buf[at(n - 2, G_Z, s)] * buf[at(n - 2, G_RECIP, s)] - buf[at(n - 1, G_LOWER, s)] * zl
        )
    for j in range(n - 3, -1, -1):
        a0 = ab[0, j + 2]
        for s in range(m):
            recip = buf[at(j, G_RECIP, s)]
            buf[at(j, G_Z, s)] = (
                buf[at(j, G_Z, s)] * recip
                - buf[at(j + 1, G_LOWER, s)] * buf[at(j + 1, G_Z, s)]
                - a0 * recip * buf[at(j + 2, G_Z, s)]
            )


@_jit
def _solve_scaled_generic(rows, scaled_rows, buf, n, m):  # pragma: no cover - compiled
    """Lane-by-lane general banded solve for widths other than 5 (column copies)."""
    width = rows.shape[1]
    a, col_r, col_z = np.empty((n, width)), np.empty(n), np.empty(n)
    for s in range(m):
        for i in range(n):
            sc = buf[at(i, G_DIAG, s)]
            for c in range(width):
                a[i, c] = rows[i, c] + scaled_rows[i, c] * sc
            col_r[i] = buf[at(i, G_Z, s)]
        solve_general(a, col_r, col_z)
        for i in range(n):
            buf[at(i, G_Z, s)] = col_z[i]


@_jit
def solve_scaled_lanes(rows, scaled_rows, buf, n, m):  # pragma: no cover - compiled
    """Solve ``(R + diag(G_DIAG) S) z = G_Z`` in lanes ``0..m-1``; ``z`` replaces ``G_Z``.

    ``R`` (``rows``) and ``S`` (``scaled_rows``) are banded in row storage (n, 2 d + 1),
    shared by all lanes. Banded LU without pivoting, as :func:`._banded.solve_general`:
    ``G_RECIP`` receives the reciprocal pivots, ``G_LOWER`` the first super-diagonal of U
    (the second is recomputed from ``G_DIAG``, which the solve leaves unchanged).
    """
    width = rows.shape[1]
    if width != 5 or n < 3:
        _solve_scaled_generic(rows, scaled_rows, buf, n, m)
        return
    for i in range(n):
        r0, r1, r2, r3 = rows[i, 0], rows[i, 1], rows[i, 2], rows[i, 3]
        s0, s1, s2, s3 = scaled_rows[i, 0], scaled_rows[i, 1], scaled_rows[i, 2], scaled_rows[i, 3]
        r4_2, s4_2 = rows[max(i - 2, 0), 4], scaled_rows[max(i - 2, 0), 4]
        r4_1, s4_1 = rows[max(i - 1, 0), 4], scaled_rows[max(i - 1, 0), 4]
        for s in range(m):
            sc = buf[at(i, G_DIAG, s)]
            e0 = r0 + s0 * sc
            e1 = r1 + s1 * sc
            e2 = r2 + s2 * sc
            e3 = r3 + s3 * sc
            y = buf[at(i, G_Z, s)]
            if i >= 2:
                m2 = e0 * buf[at(i - 2, G_RECIP, s)]
                e1 -= m2 * buf[at(i - 2, G_LOWER, s)]
                e2 -= m2 * (r4_2 + s4_2 * buf[at(i - 2, G_DIAG, s)])
                y -= m2 * buf[at(i - 2, G_Z, s)]
            if i >= 1:
                m1 = e1 * buf[at(i - 1, G_RECIP, s)]
                e2 -= m1 * buf[at(i - 1, G_LOWER, s)]
                e3 -= m1 * (r4_1 + s4_1 * buf[at(i - 1, G_DIAG, s)])
                y -= m1 * buf[at(i - 1, G_Z, s)]
            buf[at(i, G_RECIP, s)] = 1.0 / e2
            buf[at(i, G_LOWER, s)] = e3
            buf[at(i, G_Z, s)] = y
    for s in range(m):
        zl = buf[at(n - 1, G_Z, s)] * buf[at(n - 1, G_RECIP, s)]
        buf[at(n - 1, G_Z, s)] = zl
        buf[at(n - 2, G_Z, s)] = (buf[at(n - 2, G_Z, s)] - buf[at(n - 2, G_LOWER, s)] * zl) * buf[
            at(n - 2, G_RECIP, s)
        ]
    for i in range(n - 3, -1, -1):
        r4, s4 = rows[i, 4], scaled_rows[i, 4]
        for s in range(m):
            u2 = r4 + s4 * buf[at(i, G_DIAG, s)]
            buf[at(i, G_Z, s)] = (
                buf[at(i, G_Z, s)]
                - buf[at(i, G_LOWER, s)] * buf[at(i + 1, G_Z, s)]
                - u2 * buf[at(i + 2, G_Z, s)]
            ) * buf[at(i, G_RECIP, s)]
