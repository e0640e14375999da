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
