r"""Learn how a new instrument distorts spectra from unlabeled spectra alone, and simulate it.

Two spectrometers that measure comparable samples differ by a few physical effects: a
wavelength shift, a wider line shape (instrument broadening), a smooth response curve and a
baseline. :class:`InstrumentResponse` fits exactly that model to the two *mean* spectra,

.. math::

    \bar{x}_t(\lambda) \approx (g_0 + g_1 u)\,
    (G_\sigma * \bar{x}_s)(\lambda - \delta) + o_0 + o_1 u + o_2 u^2,

with :math:`u \in [-1, 1]` the position on the axis: the shift :math:`\delta` and the
Gaussian width :math:`\sigma` (both in points) by a grid search refined by Nelder-Mead, the
gain and baseline coefficients by linear least squares for every candidate. In absorbance a
different detector response (``-log10`` of a smooth response curve) is *additive*, hence the
quadratic baseline; the gain covers path length and photometric scale. Applied to
labelled source spectra it gives spectra "as the new instrument would have measured them",
on which a model is trained and then applied to real target spectra (with the remaining
mean difference removed by per-domain centering). Only unlabeled target spectra are used,
so the step is as honest as mean-centering; with two identical instruments it fits the
identity (zero shift and width).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import minimize

from spectrakit.core.errors import DataError

__all__ = ["InstrumentResponse", "fit_instrument_response"]

_SHIFTS = np.arange(-4.0, 4.01, 0.25)
_WIDTHS = np.arange(0.0, 8.01, 0.25)


def _distort(X: np.ndarray, shift: float, width: float) -> np.ndarray:
    """Broaden (Gaussian SD ``width`` points) and shift by ``shift`` points, (n, L)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if width > 1e-3:
        X = gaussian_filter1d(X, width, axis=1, mode="nearest")
    if abs(shift) < 1e-9:
        return X
    pos = np.arange(X.shape[1], dtype=np.float64)
    src = np.clip(pos - shift, 0.0, X.shape[1] - 1.0)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, X.shape[1] - 1)
    frac = src - lo
    return X[:, lo] * (1.0 - frac) + X[:, hi] * frac


def _bounded(theta: np.ndarray) -> tuple[float, float]:
    """Shift and width kept inside the searched grid."""
    shift = float(np.clip(theta[0], _SHIFTS[0], _SHIFTS[-1]))
    return shift, float(np.clip(abs(theta[1]), 0.0, _WIDTHS[-1]))


def _design(z: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.column_stack([z, z * u, np.ones_like(u), u, u**2])


def _linear_fit(
    z: np.ndarray, target: np.ndarray, u: np.ndarray, extra: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Least-squares response/baseline (and composition terms ``extra`` (L, K)) for ``z``."""
    A = _design(z, u) if extra is None else np.column_stack([_design(z, u), extra])
    coef, *_ = np.linalg.lstsq(A, target, rcond=None)
    return coef[:5], float(np.sum((A @ coef - target) ** 2))


@dataclass(frozen=True)
class InstrumentResponse:
    """A fitted source -> target instrument model (see the module docstring).

    Attributes
    ----------
    shift : float
        Wavelength shift, in points (positive: the target reads high).
    width : float
        Extra Gaussian broadening of the target, SD in points.
    coef : ndarray of shape (5,)
        Gain ``g0, g1`` (multiplying the broadened, shifted spectrum) and baseline
        ``o0, o1, o2`` (added).
    residual : float
        Relative residual of the fit of the target mean, ``||fit - x_t|| / ||x_t - mean||``:
        small (a few %) when the model explains the difference; see :attr:`explains`.
    """

    shift: float
    width: float
    coef: np.ndarray
    residual: float

    #: largest relative residual for which the model is taken to explain the difference
    TOLERANCE = 0.05

    @property
    def explains(self) -> bool:
        """Whether the model explains the two means: residual <= 5 % and a plausible gain.

        The gain ``g0`` must lie in [0.5, 2]: a composition difference of the two sample
        sets can trade off with the response, and a fit that inverts or halves the spectra
        is not an instrument.
        """
        return self.residual <= self.TOLERANCE and 0.5 <= float(self.coef[0]) <= 2.0

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Source spectra (n, L) as the target instrument would measure them, (n, L)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < 8:
            raise DataError("spectra (n, L >= 8) expected", got=str(X.shape))
        z = _distort(X, self.shift, self.width)
        u = np.linspace(-1.0, 1.0, X.shape[1])
        c = self.coef
        return z * (c[0] + c[1] * u) + c[2] + c[3] * u + c[4] * u**2


def fit_instrument_response(
    source: np.ndarray, target: np.ndarray, *, n_composition: int = 3
) -> InstrumentResponse:
    """Fit shift, broadening, response and baseline from unlabeled spectra of both instruments.

    Parameters
    ----------
    source : ndarray of shape (n_s, L)
        Spectra of the training instrument (labels not needed).
    target : ndarray of shape (n_t, L)
        Unlabeled spectra of the new instrument, on the same axis.
    n_composition : int, default=3
        Leading principal components of the source spectra allowed in the search of shift
        and width and in the response fit: the two sets are different samples, so their
        mean compositions differ.

    Returns
    -------
    InstrumentResponse
    """
    s = np.asarray(source, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if s.ndim != 2 or t.ndim != 2 or s.shape[1] != t.shape[1] or s.shape[1] < 8:
        raise DataError(
            "source and target spectra must share one axis of at least 8 points",
            got=f"{s.shape} and {t.shape}",
            fix="resample the target spectra onto the training axis first",
        )
    if len(s) < 2 or len(t) < 2:
        raise DataError("instrument matching needs at least 2 spectra per instrument")
    ms, mt = s.mean(axis=0), t.mean(axis=0)
    u = np.linspace(-1.0, 1.0, len(ms))
    k = min(n_composition, len(s) - 1)
    pcs = np.linalg.svd(s - ms, full_matrices=False)[2][:k] if k > 0 else None

    def sse(theta: np.ndarray) -> float:
        d, w = _bounded(theta)
        extra = None if pcs is None else _distort(pcs, d, w).T
        return _linear_fit(_distort(ms, d, w)[0], mt, u, extra)[1]

    grid = [(sse(np.array([d, w])), d, w) for d in _SHIFTS for w in _WIDTHS]
    _, d0, w0 = min(grid)
    best = minimize(sse, np.array([d0, w0]), method="Nelder-Mead",
                    options={"xatol": 1e-3, "fatol": 1e-14, "maxiter": 400})  # fmt: skip
    shift, width = _bounded(best.x)
    extra = None if pcs is None else _distort(pcs, shift, width).T
    coef, err = _linear_fit(_distort(ms, shift, width)[0], mt, u, extra)
    scale = float(np.sum((mt - mt.mean()) ** 2)) or 1.0
    return InstrumentResponse(shift, width, coef, float(np.sqrt(err / scale)))
