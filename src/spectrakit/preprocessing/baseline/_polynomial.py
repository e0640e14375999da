"""Iterative polynomial baselines on the real axis: ModPoly and IModPoly.

All spectra are fitted together: one pseudo-inverse serves every spectrum when no point
is masked; otherwise each spectrum's weighted normal equations (a few unknowns) are
solved in one batched call. Iterations run on the spectra that have not converged yet.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

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
    baseline = (X @ pinv.T) @ vander.T
    deviation = np.std(X - baseline, axis=1)
    gram = None
    weights = None
    if mask_initial_peaks:
        # points above baseline + one standard deviation are peaks: weight 0 from now on
        weights = (baseline + deviation[:, None] >= X).astype(float)
        gram = np.einsum("np,pk,pl->nkl", weights, vander, vander)

    def fit(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
        if weights is None:
            return (y @ pinv.T) @ vander.T
        rhs = (weights[rows] * y) @ vander
        return np.linalg.solve(gram[rows], rhs[..., None])[..., 0] @ vander.T

    y = X.copy()
    active = np.arange(X.shape[0])
    for _ in range(max_iter):
        if active.size == 0:
            break
        source = X[active] if use_original else y[active]
        old = baseline[active]
        if num_std is None:
            clipped = np.minimum(source, old)
        else:
            clipped = np.minimum(source, old + num_std * deviation[active, None])
        new = fit(active, clipped)
        y[active] = clipped
        baseline[active] = new
        if num_std is None:
            change = np.linalg.norm(new - old, axis=1) / np.maximum(
                np.linalg.norm(old, axis=1), _EPS
            )
        else:
            new_dev = np.std(clipped - new, axis=1)
            change = np.abs(deviation[active] - new_dev) / np.maximum(np.abs(new_dev), _EPS)
            deviation[active] = new_dev
        active = active[change >= tol]
    return baseline


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
        args = (
            axis,
            int(self.poly_order),
            float(self.tol),
            int(self.max_iter),
            bool(self.mask_initial_peaks),
            bool(self.use_original),
            self._num_std(),
        )
        # the products have 1-20 columns: BLAS threads only contend with the row chunks
        with threadpool_limits(limits=1, user_api="blas"):
            return map_rows(lambda rows: _polynomial_baselines(rows, *args), X)


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

    def _num_std(self) -> float | None:
        return float(self.num_std)
