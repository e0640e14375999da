"""Smoothing and derivatives: Savitzky-Golay and the Whittaker smoother."""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve_banded, cholesky_banded
from scipy.ndimage import convolve1d

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import AxisError, ConfigError
from spectrakit.preprocessing._base import SpectralTransformer, check_min_points, map_rows
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing._rowwise import apply_rows

__all__ = [
    "SavitzkyGolay",
    "WhittakerSmooth",
    "difference_penalty_banded",
    "savgol_operators",
]


@register_step
class SavitzkyGolay(SpectralTransformer):
    """Savitzky-Golay smoothing or derivative, scaled by the real axis spacing.

    Each point is replaced by the value (or ``deriv``-th derivative) of a polynomial of
    degree ``polyorder`` fitted by least squares over ``window`` points. Edges use
    ``mode="interp"`` (the polynomial fitted to the first/last window), so a polynomial of
    degree <= ``polyorder`` is returned exactly, edges included. Derivatives are in
    intensity per axis unit (``delta`` = the axis spacing), so they do not depend on how
    densely an instrument samples.

    Reference: A. Savitzky and M. J. E. Golay, "Smoothing and differentiation of data by
    simplified least squares procedures", Analytical Chemistry 36 (1964) 1627-1639.

    Parameters
    ----------
    window : int, default=9
        Odd number of points in the fitting window.
    polyorder : int, default=3
        Polynomial degree (< ``window``).
    deriv : int, default=0
        Derivative order (<= ``polyorder``). ``deriv > 0`` needs a uniform axis.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(0.0, 10.0, 0.5)  # spacing 0.5
    >>> d = SavitzkyGolay(5, 2, deriv=1).fit_transform((3 * x)[None], axis=x)
    >>> np.allclose(d, 3.0)  # slope per axis unit, not per point
    True
    """

    def __init__(self, window: int = 9, polyorder: int = 3, deriv: int = 0) -> None:
        self.window = window
        self.polyorder = polyorder
        self.deriv = deriv

    def _check_params(self, n_points: int | None = None) -> None:
        w, k, d = int(self.window), int(self.polyorder), int(self.deriv)
        if w < 1 or w % 2 == 0:
            raise ConfigError(
                "SavitzkyGolay: window must be odd",
                expected="an odd number of points (e.g. 9, 11, 15)",
                got=f"window={self.window}",
                fix=f"use window={w + 1 if w >= 1 else 9}",
            )
        if not 0 <= k < w or not 0 <= d <= k:
            raise ConfigError(
                "SavitzkyGolay: invalid polyorder/deriv",
                expected="0 <= deriv <= polyorder < window",
                got=f"window={w}, polyorder={k}, deriv={d}",
            )
        if n_points is not None:
            check_min_points("SavitzkyGolay", "window", w, n_points)

    def _check_axis(self, axis: SpectralAxis) -> None:
        if int(self.deriv) > 0 and not axis.is_uniform:
            raise AxisError(
                "SavitzkyGolay derivative needs a uniformly spaced axis",
                expected="constant spacing (within 0.1 %)",
                got=f"spacing from {np.diff(axis.values).min():.4g} "
                f"to {np.diff(axis.values).max():.4g} {axis.unit}",
                fix="Resample to a uniform grid first (preprocessing.Resample)",
            )

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        delta = float(np.median(np.diff(axis))) if axis.size > 1 else 1.0
        w, k, d = int(self.window), int(self.polyorder), int(self.deriv)
        centre, left, right = savgol_operators(w, k, d, delta)
        coeffs = centre[::-1]  # convolve1d flips its kernel
        half = w // 2

        def rows(block: np.ndarray) -> np.ndarray:
            out = convolve1d(block, coeffs, axis=1, mode="constant")
            out[:, :half] = apply_rows(block[:, :w], left)
            out[:, block.shape[1] - half :] = apply_rows(block[:, block.shape[1] - w :], right)
            return out

        return map_rows(rows, X), axis


def savgol_operators(
    window: int, polyorder: int, deriv: int, delta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Savitzky-Golay as linear maps of a window: the centre weights and both edges' maps.

    The ``deriv``-th derivative, per axis unit, of the degree-``polyorder`` least-squares
    polynomial through ``window`` points, evaluated at the window's centre (the filter's
    weights, as :func:`scipy.signal.savgol_coeffs` with ``use="dot"``) and at the first
    (last) ``window // 2`` points (the edge values of ``mode="interp"`` in
    :func:`scipy.signal.savgol_filter`). Built with NumPy alone, so the filter does not
    load :mod:`scipy.signal`.

    Returns
    -------
    centre : ndarray of shape (window,)
        ``value = centre @ x[i - window // 2 : i + window // 2 + 1]``.
    left, right : ndarray of shape (window // 2, window)
        ``edge = left @ x[:window]`` and ``edge = right @ x[-window:]``.
    """
    t = np.arange(window, dtype=np.float64) - (window - 1) / 2.0  # centred: well conditioned
    powers = np.arange(polyorder + 1)
    fit = np.linalg.pinv(t[:, None] ** powers)  # (polyorder + 1, window): the coefficients
    scale = np.ones(polyorder + 1)
    for i in range(deriv):  # d^deriv t^j / dt^deriv = j (j - 1) ... t^(j - deriv)
        scale = scale * np.maximum(powers - i, 0)
    shifted = np.maximum(powers - deriv, 0)
    half = window // 2

    def at(points: np.ndarray) -> np.ndarray:
        return ((scale * points[:, None] ** shifted) @ fit) / delta**deriv

    return at(np.zeros(1))[0], at(t[:half]), at(t[window - half :])


def difference_penalty_banded(n_points: int, lam: float, order: int) -> np.ndarray:
    """Upper banded form of ``I + lam * D.T @ D`` (``D``: ``order``-th differences).

    Returns
    -------
    ndarray of shape (order + 1, n_points)
        The matrix in the layout of :func:`scipy.linalg.cholesky_banded` (``lower=False``).
    """
    coef = np.array([1.0])
    for _ in range(order):
        coef = np.convolve(coef, [-1.0, 1.0])
    m = n_points - order
    ab = np.zeros((order + 1, n_points))
    # D.T @ D = sum over rows r of D of outer(coef, coef) placed at r..r+order
    for i in range(order + 1):
        for j in range(i, order + 1):
            band = order - (j - i)
            ab[band, j : j + m] += lam * coef[i] * coef[j]
    ab[order] += 1.0
    return ab


@register_step
class WhittakerSmooth(SpectralTransformer):
    """Whittaker smoother: minimise ``|x - z|^2 + lam * |D_d z|^2`` for every spectrum.

    The penalty matrix is the same for all spectra, so it is factorised once (banded
    Cholesky) and all spectra are solved together as multiple right-hand sides.
    ``lam`` acts per point: for the same smoothness on a twice as dense axis, multiply it by
    ``2 ** (2 * diff_order)``.

    Reference: P. H. C. Eilers, "A perfect smoother", Analytical Chemistry 75 (2003)
    3631-3636.

    Parameters
    ----------
    lam : float, default=100.0
        Smoothness (larger = smoother).
    diff_order : int, default=2
        Order of the differences penalised.

    Examples
    --------
    >>> import numpy as np
    >>> noisy = np.sin(np.linspace(0, 3, 200))[None] + np.random.default_rng(0).normal(0, 0.1, 200)
    >>> smooth = WhittakerSmooth(lam=1e3).fit_transform(noisy)
    >>> bool(np.abs(np.diff(smooth, 2)).max() < np.abs(np.diff(noisy, 2)).max() / 10)
    True
    """

    def __init__(self, lam: float = 100.0, diff_order: int = 2) -> None:
        self.lam = lam
        self.diff_order = diff_order

    def _check_params(self, n_points: int | None = None) -> None:
        if not float(self.lam) > 0 or int(self.diff_order) not in (1, 2, 3):
            raise ConfigError(
                "WhittakerSmooth: invalid parameters",
                expected="lam > 0 and diff_order 1, 2 or 3",
                got=f"lam={self.lam}, diff_order={self.diff_order}",
            )
        if n_points is not None:
            check_min_points(
                "WhittakerSmooth", "difference order", int(self.diff_order) + 1, n_points
            )

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ab = difference_penalty_banded(X.shape[1], float(self.lam), int(self.diff_order))
        chol = cholesky_banded(ab, lower=False)
        solved = map_rows(lambda b: cho_solve_banded((chol, False), b.T).T, X)
        return solved, axis
