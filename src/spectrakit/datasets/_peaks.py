"""Peak line shapes, all parametrized by position, full width at half maximum and height."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import voigt_profile

from spectrakit.core.errors import ConfigError
from spectrakit.datasets._validate import check_choice, check_finite_array, check_fraction

__all__ = ["SHAPES", "make_peaks", "peak_profiles", "voigt_widths"]

#: line shapes understood by :func:`make_peaks` and :class:`~spectrakit.datasets.Peak`.
SHAPES = ("gaussian", "lorentzian", "pseudo_voigt", "voigt")

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def voigt_widths(fwhm: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian sigma and Lorentzian gamma of a Voigt line with total width ``fwhm``.

    ``eta`` is the Lorentzian share of the width (``f_L = eta * fwhm``); the Gaussian width
    follows from the Olivero & Longbothum (1977) approximation
    ``f_V = 0.5346 f_L + sqrt(0.2166 f_L**2 + f_G**2)``, accurate to 0.02 %.

    Parameters
    ----------
    fwhm, eta : ndarray of the same shape
        Total widths (axis units) and Lorentzian fractions in [0, 1].

    Returns
    -------
    sigma, gamma : ndarray
        Arguments of :func:`scipy.special.voigt_profile`.
    """
    f_l = eta * fwhm
    f_g = np.sqrt(np.clip((fwhm - 0.5346 * f_l) ** 2 - 0.2166 * f_l**2, 0.0, None))
    return f_g * _FWHM_TO_SIGMA, f_l / 2.0


def peak_profiles(
    x: np.ndarray,
    position: np.ndarray,
    fwhm: np.ndarray,
    height: np.ndarray,
    shape: str | Sequence[str] = "gaussian",
    eta: float | np.ndarray = 0.5,
) -> np.ndarray:
    """One row per peak: each line shape evaluated on ``x`` with its maximum equal to ``height``.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Where to evaluate (axis units).
    position, fwhm, height : ndarray of shape (n_peaks,)
        Peak centres, full widths at half maximum (axis units, > 0) and heights.
    shape : str or sequence of str
        One of :data:`SHAPES` for all peaks, or one per peak.
    eta : float or ndarray of shape (n_peaks,)
        Lorentzian fraction for ``pseudo_voigt`` (mixing weight) and ``voigt`` (width share).

    Returns
    -------
    ndarray of shape (n_peaks, n_points), float64
    """
    x = np.asarray(x, dtype=np.float64)[None, :]
    pos = np.asarray(position, dtype=np.float64)[:, None]
    w = np.asarray(fwhm, dtype=np.float64)[:, None]
    h = np.asarray(height, dtype=np.float64)[:, None]
    n = pos.shape[0]
    shapes = [shape] * n if isinstance(shape, str) else list(shape)
    eta_arr = np.broadcast_to(np.asarray(eta, dtype=np.float64), (n,))[:, None]
    out = np.empty((n, x.shape[1]), dtype=np.float64)
    d = x - pos
    for name in set(shapes):
        rows = np.array([s == name for s in shapes])
        dr, wr, er = d[rows], w[rows], eta_arr[rows]
        if name == "gaussian":
            out[rows] = np.exp(-4.0 * np.log(2.0) * (dr / wr) ** 2)
        elif name == "lorentzian":
            out[rows] = 1.0 / (1.0 + 4.0 * (dr / wr) ** 2)
        elif name == "pseudo_voigt":
            g = np.exp(-4.0 * np.log(2.0) * (dr / wr) ** 2)
            lo = 1.0 / (1.0 + 4.0 * (dr / wr) ** 2)
            out[rows] = er * lo + (1.0 - er) * g
        else:  # voigt, scaled so that the maximum (at the centre) is 1
            sigma, gamma = voigt_widths(wr, er)
            sigma = np.maximum(sigma, 1e-12 * wr)  # a pure Lorentzian still needs sigma > 0
            out[rows] = voigt_profile(dr, sigma, gamma) / voigt_profile(0.0, sigma, gamma)
    return out * h


def make_peaks(
    axis: np.ndarray | Sequence[float],
    positions: float | Sequence[float],
    fwhm: float | Sequence[float] = 10.0,
    heights: float | Sequence[float] = 1.0,
    *,
    shape: str | Sequence[str] = "gaussian",
    eta: float | Sequence[float] = 0.5,
    sum_peaks: bool = True,
) -> np.ndarray:
    """Evaluate peaks of known position, width and height on an axis.

    Parameters
    ----------
    axis : array-like of shape (n_points,)
        Positions to evaluate at (e.g. ``SpectralAxis.values``).
    positions : float or array-like of shape (n_peaks,)
        Peak centres in axis units.
    fwhm : float or array-like of shape (n_peaks,), default=10.0
        Full widths at half maximum in axis units.
    heights : float or array-like of shape (n_peaks,), default=1.0
        Peak maxima.
    shape : str or sequence of str, default="gaussian"
        ``"gaussian"``, ``"lorentzian"``, ``"pseudo_voigt"`` or ``"voigt"`` (true Voigt,
        :func:`scipy.special.voigt_profile`), for all peaks or one per peak.
    eta : float or array-like, default=0.5
        Lorentzian fraction in [0, 1] (pseudo-Voigt mixing weight; Voigt width share).
    sum_peaks : bool, default=True
        Return the sum (one spectrum) instead of one row per peak.

    Returns
    -------
    ndarray of shape (n_points,) or (n_peaks, n_points), float64

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(400, 1800, 1401)
    >>> y = make_peaks(x, [1004, 1450], fwhm=[8, 20], heights=[2.0, 1.0], shape="voigt")
    >>> float(x[np.argmax(y)])
    1004.0
    """
    x = check_finite_array("axis", axis, ndim=1)
    pos = check_finite_array("positions", np.atleast_1d(positions), ndim=1)
    n = pos.size
    w = _per_peak("fwhm", fwhm, n)
    h = _per_peak("heights", heights, n)
    if np.any(w <= 0):
        raise ConfigError(
            "peak widths must be positive",
            expected="fwhm > 0 (axis units)",
            got=f"{w.min():g}",
            fix="pass the full width at half maximum, e.g. fwhm=10",
        )
    shapes = _shapes(shape, n)
    e = _per_peak("eta", eta, n)
    for v in e:
        check_fraction("eta", float(v))
    rows = peak_profiles(x, pos, w, h, shapes, e)
    return rows.sum(axis=0) if sum_peaks else rows


def _shapes(shape: str | Sequence[str], n: int) -> list[str]:
    """One checked shape name per peak (a single name serves all ``n``)."""
    shapes = [shape] * n if isinstance(shape, str) else list(shape)
    if len(shapes) != n:
        raise ConfigError(
            "one shape per peak is needed", expected=f"{n} shapes", got=f"{len(shapes)}"
        )
    for s in shapes:
        check_choice("shape", s, SHAPES)
    return shapes


def _per_peak(name: str, value, n: int) -> np.ndarray:
    arr = check_finite_array(name, np.atleast_1d(value), ndim=1)
    if arr.size == 1:
        return np.full(n, float(arr[0]))
    if arr.size != n:
        raise ConfigError(
            f"{name} must give one value or one per peak",
            expected=f"1 or {n} values",
            got=f"{arr.size}",
        )
    return arr
