"""Compiled banded solvers for the penalized least squares systems of Whittaker baselines.

Whittaker-type baselines solve ``(W + lam * D'D) z = W y`` (or a variant) many times per
spectrum, with ``D'D`` the same for every spectrum. LAPACK's banded routines spend most of
their time in per-column BLAS calls for such narrow bands, and calling them per spectrum
adds Python overhead. These kernels do the elimination in compiled loops (numba,
``nogil`` so row chunks run in parallel threads) for ``LANES`` spectra at once: one
recurrence per spectrum has a division on its dependency chain at every point, so
interleaving independent spectra lets the CPU pipeline and vectorise them. Each lane's
arithmetic is that of a single-spectrum solve. Pentadiagonal systems (``diff_order=2``)
take the interleaved path; other orders solve lane by lane with the generic kernels.

Band layouts (``d`` = half bandwidth = difference order):

* symmetric, upper storage ``ab`` of shape (d + 1, n): ``ab[d - k, j] = A[j - k, j]``
  (the layout of :func:`scipy.linalg.cholesky_banded`);
* general, row storage ``a`` of shape (n, 2 d + 1): ``a[i, d + j - i] = A[i, j]``.
"""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing._smoothing import difference_penalty_banded

__all__ = [
    "LANES",
    "penalty_rows",
    "penalty_upper",
    "solve_general",
    "solve_scaled_lanes",
    "solve_symmetric",
    "solve_symmetric_lanes",
]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


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
def solve_symmetric(ab, diag_add, rhs, lfac, dfac, out):  # pragma: no cover - compiled
    """Solve ``(A + diag(diag_add)) z = rhs``, ``A`` symmetric banded (upper storage).

    Banded LDL' factorisation without pivoting (the matrix is symmetric positive definite
    for the penalized systems solved here); ``lfac`` (n, d + 1) and ``dfac`` (n,) are
    work arrays, ``out`` (n,) receives ``z``.
    """
    d = ab.shape[0] - 1
    n = rhs.shape[0]
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

    Banded LU without pivoting, for drPLS's ``lam D'D + D1'D1 + W (I - eta lam D'D)``: a
    positive row scaling of a symmetric positive definite matrix plus the small term
    ``D1'D1``, for which pivoting is not needed (the results match pybaselines' pivoting
    LAPACK solve to rounding in the tests). ``out`` (n,) receives ``z``.
    """
    n = rhs.shape[0]
    d = (a.shape[1] - 1) // 2
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


#: spectra solved together by the lane solvers (arrays of shape (n_points, LANES)).
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
