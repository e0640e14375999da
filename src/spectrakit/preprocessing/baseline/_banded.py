"""Compiled banded solvers for the penalized least squares systems of Whittaker baselines.

Whittaker-type baselines solve ``(W + lam * D'D) z = W y`` (or a variant) many times per
spectrum, with ``D'D`` the same for every spectrum. LAPACK's banded routines spend most of
their time in per-column BLAS calls for such narrow bands, and calling them per spectrum
adds Python overhead. These kernels do the elimination in compiled loops (numba,
``nogil``), one spectrum at a time, for any half bandwidth; :mod:`._lanes` runs the
pentadiagonal case (``diff_order=2``) for many spectra at once and falls back on these
for other orders.

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
    "penalty_rows",
    "penalty_upper",
    "solve_general",
    "solve_symmetric",
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
