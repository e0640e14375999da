"""Iterative polynomial baselines on the real axis: ModPoly and IModPoly.

The pseudo-inverse of the Vandermonde matrix is computed once for all spectra; a compiled
kernel then iterates each spectrum to its own convergence (row chunks in parallel
threads). Masked fits solve each spectrum's weighted normal equations (a few unknowns).
"""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing._base import map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing.baseline._common import BaselineCorrection, check_int, check_real

__all__ = ["IModPoly", "ModPoly"]

_EPS = float(np.finfo(float).eps)


def _vandermonde(axis: np.ndarray, poly_order: int) -> np.ndarray:
    """Vandermonde matrix (n_points, poly_order + 1) of the axis mapped onto [-1, 1]."""
    lo, hi = float(axis[0]), float(axis[-1])
    mapped = np.polynomial.polyutils.mapdomain(axis, np.array([lo, hi]), np.array([-1.0, 1.0]))
    return np.polynomial.polynomial.polyvander(mapped, poly_order)


_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _matvec(matrix, v, out):  # pragma: no cover - compiled
    """``out = matrix @ v`` for a C-ordered (rows, len(v)) matrix: dot products, no BLAS threads."""
    for r in range(matrix.shape[0]):
        acc = 0.0
        for i in range(v.shape[0]):
            acc += matrix[r, i] * v[i]
        out[r] = acc


@_jit
def _poly_rows(X, vander, pinv, tol, max_iter, mask, use_original, num_std, out):  # compiled
    """ModPoly (``num_std < 0``) or IModPoly baselines of every row of ``X`` into ``out``.

    The same steps as a per-spectrum call of pybaselines, in compiled code: fits use the
    shared pseudo-inverse, or each spectrum's weighted normal equations once peaks are
    masked (weights 0 or 1).
    """
    n, k = vander.shape
    vt = np.ascontiguousarray(vander.T)
    clipped, base, new, wy = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    weights, coef, rhs = np.ones(n), np.empty(k), np.empty(k)
    gram = np.empty((k, k))
    for row in range(X.shape[0]):
        y = X[row]
        _matvec(pinv, y, coef)
        _matvec(vander, coef, base)
        dev = np.std(y - base)
        if mask:
            for i in range(n):
                weights[i] = 1.0 if base[i] + dev >= y[i] else 0.0
            for a in range(k):
                for b in range(k):
                    acc = 0.0
                    for i in range(n):
                        acc += vt[a, i] * weights[i] * vt[b, i]
                    gram[a, b] = acc
        clipped[:] = y
        for _ in range(max_iter):
            for i in range(n):
                src = y[i] if use_original else clipped[i]
                cap = base[i] if num_std < 0 else base[i] + num_std * dev
                clipped[i] = min(src, cap)
            if mask:
                for i in range(n):
                    wy[i] = weights[i] * clipped[i]
                _matvec(vt, wy, rhs)
                coef[:] = np.linalg.solve(gram, rhs)
            else:
                _matvec(pinv, clipped, coef)
            _matvec(vander, coef, new)
            if num_std < 0:
                num, den = 0.0, 0.0
                for i in range(n):  # x * x: numba lowers x ** 2 to a loop
                    step = new[i] - base[i]
                    num += step * step
                    den += base[i] * base[i]
                change = np.sqrt(num) / max(np.sqrt(den), _EPS)
            else:
                new_dev = np.std(clipped - new)
                change = abs(dev - new_dev) / max(abs(new_dev), _EPS)
                dev = new_dev
            base[:] = new
            if change < tol:
                break
        out[row] = base


def _polynomial_baselines(
    X: np.ndarray,
    axis: np.ndarray,
    poly_order: int,
    tol: float,
    max_iter: int,
    mask_initial_peaks: bool,
    use_original: bool,
    num_std: float | None,
) -> np.ndarray:
    """ModPoly (``num_std=None``) or IModPoly baselines of every row of ``X`` (n, p)."""
    vander = _vandermonde(axis, poly_order)
    pinv = np.linalg.pinv(vander)
    args = (float(tol), int(max_iter), bool(mask_initial_peaks), bool(use_original))
    args += (-1.0 if num_std is None else float(num_std),)

    def chunk(rows: np.ndarray) -> np.ndarray:
        out = np.empty_like(rows)
        _poly_rows(np.ascontiguousarray(rows), vander, pinv, *args, out)
        return out

    return map_rows(chunk, X)


class _Polynomial(BaselineCorrection):
    """Shared checks of the polynomial family."""

    def _check_params(self, n_points: int | None = None) -> None:
        name = type(self).__name__
        check_int(name, "poly_order", self.poly_order, low=0, high=20)
        check_real(name, "tol", self.tol, low=0.0)
        check_int(name, "max_iter", self.max_iter, low=0)
        super()._check_params(n_points)

    def _required_points(self) -> tuple[int, str]:
        return int(self.poly_order) + 1, "polynomial order"

    def _num_std(self) -> float | None:
        return None

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        return _polynomial_baselines(
            X,
            axis,
            int(self.poly_order),
            float(self.tol),
            int(self.max_iter),
            bool(self.mask_initial_peaks),
            bool(self.use_original),
            self._num_std(),
        )


@register_step
class ModPoly(_Polynomial):
    """Modified polynomial baseline (ModPoly), fitted on the real axis.

    Fits a polynomial, replaces the spectrum by ``min(spectrum, fit)`` and refits until the
    fit changes by less than ``tol`` (relative 2-norm). Works on non-uniform axes.
    Matches :meth:`pybaselines.Baseline.modpoly` with ``x_data`` = the axis.

    Reference: C. A. Lieber and A. Mahadevan-Jansen, "Automated method for subtraction of
    fluorescence from biological Raman spectra", Applied Spectroscopy 57 (2003) 1363-1367.

    Parameters
    ----------
    poly_order : int, default=2
        Polynomial degree.
    tol : float, default=1e-3
        Relative change of the fit below which iteration stops.
    max_iter : int, default=250
        Maximum number of iterations.
    mask_initial_peaks : bool, default=False
        Give zero weight to points more than one standard deviation above the first fit.
    use_original : bool, default=False
        Clip the original spectrum (instead of the previous clipped one) at each step.
    """

    def __init__(
        self,
        poly_order: int = 2,
        tol: float = 1e-3,
        max_iter: int = 250,
        mask_initial_peaks: bool = False,
        use_original: bool = False,
    ) -> None:
        self.poly_order = poly_order
        self.tol = tol
        self.max_iter = max_iter
        self.mask_initial_peaks = mask_initial_peaks
        self.use_original = use_original


@register_step
class IModPoly(_Polynomial):
    """Improved modified polynomial baseline (IModPoly), fitted on the real axis.

    Like :class:`ModPoly`, but clips at ``fit + num_std * std(residual)`` so noise does not
    pull the baseline down, masks the initial peaks, and stops when the residual standard
    deviation settles. Matches :meth:`pybaselines.Baseline.imodpoly`.

    Reference: J. Zhao, H. Lui, D. I. McLean and H. Zeng, "Automated autofluorescence
    background subtraction algorithm for biomedical Raman spectroscopy", Applied
    Spectroscopy 61 (2007) 1225-1232.

    Parameters
    ----------
    poly_order : int, default=2
        Polynomial degree.
    tol : float, default=1e-3
        Relative change of the residual standard deviation below which iteration stops.
    max_iter : int, default=250
        Maximum number of iterations.
    mask_initial_peaks : bool, default=True
        Give zero weight to points more than one standard deviation above the first fit.
    use_original : bool, default=False
        Clip the original spectrum (instead of the previous clipped one) at each step.
    num_std : float, default=1.0
        Number of residual standard deviations above the fit kept (>= 0).
    """

    def __init__(
        self,
        poly_order: int = 2,
        tol: float = 1e-3,
        max_iter: int = 250,
        mask_initial_peaks: bool = True,
        use_original: bool = False,
        num_std: float = 1.0,
    ) -> None:
        self.poly_order = poly_order
        self.tol = tol
        self.max_iter = max_iter
        self.mask_initial_peaks = mask_initial_peaks
        self.use_original = use_original
        self.num_std = num_std

    def _check_params(self, n_points: int | None = None) -> None:
        check_real("IModPoly", "num_std", self.num_std, low=0.0)
        super()._check_params(n_points)

    def _required_points(self) -> tuple[int, str]:
        # Masking the initial peaks removes points above the first fit; one spare point keeps
        # the least-squares fit determined (otherwise a singular system on tiny spectra).
        extra = 1 if self.mask_initial_peaks else 0
        return int(self.poly_order) + 1 + extra, "polynomial order (+1 with mask_initial_peaks)"

    def _num_std(self) -> float | None:
        return float(self.num_std)
