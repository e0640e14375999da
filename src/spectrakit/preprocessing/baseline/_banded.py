"""Compiled banded solvers for penalized least squares, one spectrum per call.

Whittaker-type baselines solve ``(W + lam * D'D) z = W y`` (or a variant) many times per
spectrum, with ``D'D`` the same for every spectrum. LAPACK's banded routines spend most of
their time in per-column BLAS calls for such narrow bands, and calling them per spectrum
adds Python overhead; these small kernels do the same elimination in compiled loops
(numba, ``nogil`` so row chunks run in parallel threads). They are called from the
per-algorithm kernels in ``_whittaker.py``, which loop over spectra in compiled code.

Band layouts (``d`` = half bandwidth = difference order):

* symmetric, upper storage ``ab`` of shape (d + 1, n): ``ab[d - k, j] = A[j - k, j]``
  (the layout of :func:`scipy.linalg.cholesky_banded`);
* general, row storage ``a`` of shape (n, 2 d + 1): ``a[i, d + j - i] = A[i, j]``.
"""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing._smoothing import difference_penalty_banded

__all__ = ["penalty_rows", "penalty_upper", "solve_general", "solve_symmetric"]

_jit = numba.njit(cache=True, nogil=True, fastmath=False)


def penalty_upper(n_points: int, diff_order: int) -> np.ndarray:
    """``D'D`` for ``diff_order``-th differences, symmetric upper band storage.

    Returns
    -------
    ndarray of shape (diff_order + 1, n_points)
    """
    ab = difference_penalty_banded(n_points, 1.0, diff_order)
    ab[diff_order] -= 1.0  # integers: exact
    return ab


def penalty_rows(n_points: int, diff_order: int) -> np.ndarray:
    """``D'D`` in general row band storage (both triangles).

    Returns
    -------
    ndarray of shape (n_points, 2 * diff_order + 1)
    """
    d = diff_order
    upper = penalty_upper(n_points, d)
    rows = np.zeros((n_points, 2 * d + 1))
    for k in range(d + 1):
        diag = upper[d - k, k:]  # A[j - k, j] for j >= k
        rows[: n_points - k, d + k] = diag  # row i = j - k, column offset +k
        rows[k:, d - k] = diag  # symmetric entry A[j, j - k]
    return rows


@_jit
def _solve_symmetric_penta(ab, diag_add, rhs, lfac, dfac, out):  # pragma: no cover - compiled
    """:func:`solve_symmetric` for five bands, recurrences kept in registers.

    ``dfac`` holds ``1 / D``: one division per point on the dependency chain.
    """
    n = rhs.shape[0]
    # row j: l2 = L[j, j-2], l1 = L[j, j-1]; (d1, r1, l1p, y1) belong to row j-1, (d2, r2, y2)
    # to row j-2; r = 1 / d
    d2 = ab[2, 0] + diag_add[0]
    r2 = 1.0 / d2
    y2 = rhs[0]
    l1 = ab[1, 1] * r2
    d1 = ab[2, 1] + diag_add[1] - l1 * l1 * d2
    r1 = 1.0 / d1
    y1 = rhs[1] - l1 * y2
    dfac[0], dfac[1] = r2, r1
    lfac[1, 1] = l1
    out[0], out[1] = y2, y1
    l1p = l1
    for j in range(2, n):
        l2 = ab[0, j] * r2
        l1 = (ab[1, j] - l2 * l1p * d2) * r1
        dj = ab[2, j] + diag_add[j] - l2 * l2 * d2 - l1 * l1 * d1
        rj = 1.0 / dj
        yj = rhs[j] - l1 * y1 - l2 * y2
        lfac[j, 1], lfac[j, 2] = l1, l2
        dfac[j], out[j] = rj, yj
        d2, d1, r2, r1, l1p, y2, y1 = d1, dj, r1, rj, l1, y1, yj
    z1 = out[n - 1] * dfac[n - 1]
    z0 = out[n - 2] * dfac[n - 2] - lfac[n - 1, 1] * z1
    out[n - 1], out[n - 2] = z1, z0
    for j in range(n - 3, -1, -1):
        z = out[j] * dfac[j] - lfac[j + 1, 1] * z0 - lfac[j + 2, 2] * z1
        out[j] = z
        z1, z0 = z0, z


@_jit
def _solve_general_penta(a, rhs, out):  # pragma: no cover - compiled
    """:func:`solve_general` for five bands: row-wise elimination kept in registers."""
    n = rhs.shape[0]
    # U rows overwrite a[i, 2:5]; multipliers are not needed after the forward sweep
    u0p, u1p, y1 = a[0, 2], a[0, 3], rhs[0]  # row i-1: U[i-1, i-1], U[i-1, i]
    out[0] = y1
    m1 = a[1, 1] / u0p
    c0 = a[1, 2] - m1 * u1p
    e1 = a[1, 3] - m1 * a[0, 4]
    a[1, 2], a[1, 3] = c0, e1
    y0 = rhs[1] - m1 * y1
    out[1] = y0
    for i in range(2, n):
        # eliminate A[i, i-2] with row i-2, then A[i, i-1] with row i-1
        m2 = a[i, 0] / a[i - 2, 2]
        c1 = a[i, 1] - m2 * a[i - 2, 3]
        c0 = a[i, 2] - m2 * a[i - 2, 4]
        m1 = c1 / a[i - 1, 2]
        c0 -= m1 * a[i - 1, 3]
        a[i, 2] = c0
        if i + 1 < n:
            a[i, 3] -= m1 * a[i - 1, 4]
        yi = rhs[i] - m2 * out[i - 2] - m1 * out[i - 1]
        out[i] = yi
    out[n - 1] = out[n - 1] / a[n - 1, 2]
    out[n - 2] = (out[n - 2] - a[n - 2, 3] * out[n - 1]) / a[n - 2, 2]
    for i in range(n - 3, -1, -1):
        out[i] = (out[i] - a[i, 3] * out[i + 1] - a[i, 4] * out[i + 2]) / a[i, 2]


@_jit
def solve_symmetric(ab, diag_add, rhs, lfac, dfac, out):  # pragma: no cover - compiled
    """Solve ``(A + diag(diag_add)) z = rhs``, ``A`` symmetric banded (upper storage).

    Banded LDL' factorisation without pivoting (the matrix is symmetric positive definite
    for the penalized systems solved here); ``lfac`` (n, d + 1) and ``dfac`` (n,) are
    work arrays, ``out`` (n,) receives ``z``.
    """
    d = ab.shape[0] - 1
    n = rhs.shape[0]
    if d == 2 and n >= 3:
        _solve_symmetric_penta(ab, diag_add, rhs, lfac, dfac, out)
        return
    for j in range(n):
        lo = max(0, j - d)
        # L[j, i] for the band left of the diagonal, i = j - k
        for i in range(lo, j):
            s = ab[d - (j - i), j]
            for t in range(max(lo, i - d), i):
                s -= lfac[j, j - t] * lfac[i, i - t] * dfac[t]
            lfac[j, j - i] = s / dfac[i]
        s = ab[d, j] + diag_add[j]
        y = rhs[j]
        for i in range(lo, j):
            lji = lfac[j, j - i]
            s -= lji * lji * dfac[i]
            y -= lji * out[i]
        dfac[j] = s
        out[j] = y
    for j in range(n - 1, -1, -1):
        z = out[j] / dfac[j]
        for k in range(1, min(d, n - 1 - j) + 1):
            z -= lfac[j + k, k] * out[j + k]
        out[j] = z


@_jit
def solve_general(a, rhs, out):  # pragma: no cover - compiled
    """Solve ``A z = rhs`` for ``A`` in row band storage, overwriting ``a``.

    Banded LU without pivoting: used for systems ``diag(s) P + diag(w) (+ P1)`` with
    ``s > 0``, whose leading minors are those of a symmetric positive definite matrix
    scaled by ``prod(s)``, so no pivoting is needed. ``out`` (n,) receives ``z``.
    """
    n = rhs.shape[0]
    d = (a.shape[1] - 1) // 2
    if d == 2 and n >= 3:
        _solve_general_penta(a, rhs, out)
        return
    for i in range(n):
        out[i] = rhs[i]
    for k in range(n):
        piv = a[k, d]
        hi = min(k + d + 1, n)
        for i in range(k + 1, hi):
            f = a[i, d + k - i] / piv
            if f != 0.0:
                for j in range(k + 1, hi):
                    a[i, d + j - i] -= f * a[k, d + j - k]
                out[i] -= f * out[k]
    for i in range(n - 1, -1, -1):
        z = out[i]
        for j in range(i + 1, min(i + d + 1, n)):
            z -= a[i, d + j - i] * out[j]
        out[i] = z / a[i, d]


# --------------------------------------------------------------------------------------
# Lane solvers: LANES independent systems at once, arrays of shape (n, LANES).
# Interleaving spectra lets the CPU pipeline and vectorise the recurrences across lanes,
# whose dependency chain (one division per point) would otherwise leave it idle.
# --------------------------------------------------------------------------------------
LANES = 8


@_jit
def solve_symmetric_lanes(ab, diag_add, rhs, work, out):  # pragma: no cover - compiled
    """Solve ``(A + diag(diag_add[:, s])) z = rhs[:, s]`` for every lane ``s``.

    ``A`` is symmetric banded (upper storage, shared by all lanes); ``diag_add``, ``rhs``
    and ``out`` have shape (n, LANES); ``work`` has shape (4, n, LANES).
    """
    n, lanes = rhs.shape
    d = ab.shape[0] - 1
    if d != 2 or n < 3:
        lfac, dfac = np.empty((n, d + 1)), np.empty(n)
        col_w, col_r, col_z = np.empty(n), np.empty(n), np.empty(n)
        for s in range(lanes):
            for j in range(n):
                col_w[j], col_r[j] = diag_add[j, s], rhs[j, s]
            solve_symmetric(ab, col_w, col_r, lfac, dfac, col_z)
            for j in range(n):
                out[j, s] = col_z[j]
        return
    l1, l2, dd, rr = work[0], work[1], work[2], work[3]
    for s in range(lanes):
        d0 = ab[2, 0] + diag_add[0, s]
        a = ab[1, 1] / d0
        d1 = ab[2, 1] + diag_add[1, s] - a * a * d0
        dd[0, s], rr[0, s], l1[0, s], l2[0, s] = d0, 1.0 / d0, 0.0, 0.0
        dd[1, s], rr[1, s], l1[1, s], l2[1, s] = d1, 1.0 / d1, a, 0.0
        out[0, s] = rhs[0, s]
        out[1, s] = rhs[1, s] - a * rhs[0, s]
    for j in range(2, n):
        a0, a1, a2 = ab[0, j], ab[1, j], ab[2, j]
        for s in range(lanes):
            m2 = a0 * rr[j - 2, s]
            m1 = (a1 - m2 * l1[j - 1, s] * dd[j - 2, s]) * rr[j - 1, s]
            dj = a2 + diag_add[j, s] - m2 * m2 * dd[j - 2, s] - m1 * m1 * dd[j - 1, s]
            dd[j, s], rr[j, s], l1[j, s], l2[j, s] = dj, 1.0 / dj, m1, m2
            out[j, s] = rhs[j, s] - m1 * out[j - 1, s] - m2 * out[j - 2, s]
    for s in range(lanes):
        out[n - 1, s] = out[n - 1, s] * rr[n - 1, s]
        out[n - 2, s] = out[n - 2, s] * rr[n - 2, s] - l1[n - 1, s] * out[n - 1, s]
    for j in range(n - 3, -1, -1):
        for s in range(lanes):
            out[j, s] = (
                out[j, s] * rr[j, s] - l1[j + 1, s] * out[j + 1, s] - l2[j + 2, s] * out[j + 2, s]
            )


@_jit
def solve_scaled_lanes(rows, scaled_rows, scale, rhs, work, out):  # pragma: no cover - compiled
    """Solve ``(R + diag(scale[:, s]) S) z = rhs[:, s]`` for every lane ``s``.

    ``R`` (``rows``) and ``S`` (``scaled_rows``) are banded in row storage (n, 2 d + 1),
    shared by all lanes; banded LU without pivoting (see :func:`solve_general`).
    ``work`` has shape (4, n, LANES).
    """
    n, lanes = rhs.shape
    width = rows.shape[1]
    if width != 5 or n < 3:
        a, col_r, col_z = np.empty((n, width)), np.empty(n), np.empty(n)
        for s in range(lanes):
            for i in range(n):
                for c in range(width):
                    a[i, c] = rows[i, c] + scaled_rows[i, c] * scale[i, s]
                col_r[i] = rhs[i, s]
            solve_general(a, col_r, col_z)
            for i in range(n):
                out[i, s] = col_z[i]
        return
    # U rows: pivot reciprocal ru, U[i, i+1] = u1, U[i, i+2] = u2
    ru, u1, u2 = work[0], work[1], work[2]
    for i in range(n):
        for s in range(lanes):
            sc = scale[i, s]
            e0 = rows[i, 0] + scaled_rows[i, 0] * sc
            e1 = rows[i, 1] + scaled_rows[i, 1] * sc
            e2 = rows[i, 2] + scaled_rows[i, 2] * sc
            e3 = rows[i, 3] + scaled_rows[i, 3] * sc
            y = rhs[i, s]
            if i >= 2:
                m2 = e0 * ru[i - 2, s]
                e1 -= m2 * u1[i - 2, s]
                e2 -= m2 * u2[i - 2, s]
                y -= m2 * out[i - 2, s]
            if i >= 1:
                m1 = e1 * ru[i - 1, s]
                e2 -= m1 * u1[i - 1, s]
                e3 -= m1 * u2[i - 1, s]
                y -= m1 * out[i - 1, s]
            ru[i, s] = 1.0 / e2
            u1[i, s] = e3
            u2[i, s] = rows[i, 4] + scaled_rows[i, 4] * sc
            out[i, s] = y
    for s in range(lanes):
        out[n - 1, s] = out[n - 1, s] * ru[n - 1, s]
        out[n - 2, s] = (out[n - 2, s] - u1[n - 2, s] * out[n - 1, s]) * ru[n - 2, s]
    for i in range(n - 3, -1, -1):
        for s in range(lanes):
            out[i, s] = (out[i, s] - u1[i, s] * out[i + 1, s] - u2[i, s] * out[i + 2, s]) * ru[i, s]
