"""Scatter correction and per-spectrum normalisation (SNV, MSC, EMSC, norms).

Spectra with nothing to normalise by (zero spread, zero area, zero norm) are handled by
``on_zero``: ``"raise"`` (default) stops with a :class:`PreprocessingError` naming the first
such spectrum; ``"keep"`` divides those spectra by 1 instead (they are only shifted where
the method subtracts something). Output never contains NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre

from spectrakit.core.errors import AxisError, ConfigError, PreprocessingError
from spectrakit.preprocessing._base import SpectralTransformer, check_min_points
from spectrakit.preprocessing._registry import register_step
from spectrakit.preprocessing._rowwise import apply_rows, dot_rows

__all__ = [
    "EMSC",
    "MSC",
    "SNV",
    "AreaNorm",
    "MaxNorm",
    "MinMax",
    "PeakNorm",
    "VectorNorm",
]

_ON_ZERO = ("raise", "keep")


def _safe_divisor(
    step: SpectralTransformer, divisor: np.ndarray, scale: np.ndarray, what: str
) -> np.ndarray:
    """``divisor`` (n,) with near-zero entries (relative to ``scale``) handled per ``on_zero``."""
    tiny = 1e-12 * np.maximum(scale, np.finfo(np.float64).tiny)
    zero = ~(np.abs(divisor) > tiny)
    if zero.any():
        if step.on_zero == "raise":
            first = int(np.flatnonzero(zero)[0])
            raise PreprocessingError(
                f"{type(step).__name__}: spectrum {first} has zero {what}",
                expected=f"spectra with non-zero {what}",
                got=f"{int(zero.sum())} such spectra (first at index {first})",
                fix="drop constant/empty spectra, or pass on_zero='keep' to leave them unscaled",
            )
        divisor = np.where(zero, 1.0, divisor)
    return divisor


class _Normalizer(SpectralTransformer):
    """Shared ``on_zero`` parameter check for the per-spectrum normalisers."""

    def _check_params(self, n_points: int | None = None) -> None:
        if self.on_zero not in _ON_ZERO:
            raise ConfigError(
                f"{type(self).__name__}: invalid on_zero",
                expected="'raise' or 'keep'",
                got=repr(self.on_zero),
            )


def _absmax(X: np.ndarray) -> np.ndarray:
    return np.max(np.abs(X), axis=1)


@register_step
class SNV(_Normalizer):
    """Standard normal variate: centre and scale every spectrum by its own mean and std.

    Reference: R. J. Barnes, M. S. Dhanoa and S. J. Lister, "Standard normal variate
    transformation and de-trending of near-infrared diffuse reflectance spectra",
    Applied Spectroscopy 43 (1989) 772-777.

    Parameters
    ----------
    on_zero : {"raise", "keep"}, default="raise"
        Constant spectra: raise, or return them centred (all zeros).

    Examples
    --------
    >>> import numpy as np
    >>> out = SNV().fit_transform(np.array([[1.0, 2.0, 3.0], [10.0, 30.0, 50.0]]))
    >>> np.round(out, 3)
    array([[-1.225,  0.   ,  1.225],
           [-1.225,  0.   ,  1.225]])
    """

    def __init__(self, on_zero: str = "raise") -> None:
        self.on_zero = on_zero

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        centred = X - X.mean(axis=1, keepdims=True)
        std = _safe_divisor(self, centred.std(axis=1), _absmax(X), "standard deviation")
        return centred / std[:, None], axis


def _reference(step: str, X: np.ndarray, reference: str) -> np.ndarray:
    if reference == "mean":
        return X.mean(axis=0)
    if reference == "median":
        return np.median(X, axis=0)
    raise ConfigError(
        f"{step}: invalid reference", expected="'mean' or 'median'", got=repr(reference)
    )


@register_step
class MSC(_Normalizer):
    """Multiplicative scatter correction against a reference learned in ``fit``.

    Every spectrum is regressed on the reference, ``x ~ a + b * ref``, and replaced by
    ``(x - a) / b``. The reference (``reference_``) is the mean (or median) of the
    *training* spectra only; ``transform`` never looks at the batch it corrects.

    Reference: P. Geladi, D. MacDougall and H. Martens, "Linearization and scatter-correction
    for near-infrared reflectance spectra of meat", Applied Spectroscopy 39 (1985) 491-500.

    Parameters
    ----------
    reference : {"mean", "median"}, default="mean"
        Statistic of the training spectra used as reference.
    on_zero : {"raise", "keep"}, default="raise"
        Spectra with a zero slope on the reference: raise, or return them centred.

    Attributes
    ----------
    reference_ : ndarray of shape (n_points,)

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([0.0, 1.0, 4.0, 1.0, 0.0])
    >>> msc = MSC().fit(np.vstack([ref, ref + 1.0]))  # reference_ = ref + 0.5
    >>> np.round(msc.transform((2.0 * ref + 3.0)[None]), 6)
    array([[0.5, 1.5, 4.5, 1.5, 0.5]])
    """

    _state_attrs = ("reference_",)

    def __init__(self, reference: str = "mean", on_zero: str = "raise") -> None:
        self.reference = reference
        self.on_zero = on_zero

    def _fit(self, X: np.ndarray, axis: np.ndarray, y: object = None) -> None:
        ref = _reference("MSC", X, self.reference)
        if not np.ptp(ref) > 0:
            raise PreprocessingError(
                "MSC: the reference spectrum is constant",
                expected="training spectra with some structure",
                got=f"a flat mean spectrum over {X.shape[1]} points (n_features={X.shape[1]})",
                fix="fit on real spectra (not constant or empty ones)",
            )
        self.reference_ = ref

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ref_c = self.reference_ - self.reference_.mean()
        xc = X - X.mean(axis=1, keepdims=True)
        slope = dot_rows(xc, ref_c[None])[:, 0] / (ref_c @ ref_c)
        slope = _safe_divisor(
            self, slope, _absmax(xc) / np.abs(ref_c).max(), "slope on the reference"
        )
        intercept = X.mean(axis=1) - slope * self.reference_.mean()
        return (X - intercept[:, None]) / slope[:, None], axis


@register_step
class EMSC(_Normalizer):
    """Extended multiplicative signal correction with a polynomial baseline.

    Model: ``x = b * ref + sum_k c_k P_k(t)`` with Legendre polynomials ``P_k`` of degree
    ``0..order`` on the axis scaled to [-1, 1]; output ``(x - sum_k c_k P_k) / b``. The
    reference (``reference_``) is learned from the training spectra in ``fit``.

    Reference: H. Martens and E. Stark, "Extended multiplicative signal correction and
    spectral interference subtraction", J. Pharm. Biomed. Anal. 9 (1991) 625-635.

    Parameters
    ----------
    order : int, default=2
        Degree of the polynomial baseline.
    reference : {"mean", "median"}, default="mean"
    on_zero : {"raise", "keep"}, default="raise"

    Attributes
    ----------
    reference_ : ndarray of shape (n_points,)
    """

    _state_attrs = ("reference_",)

    def __init__(self, order: int = 2, reference: str = "mean", on_zero: str = "raise") -> None:
        self.order = order
        self.reference = reference
        self.on_zero = on_zero

    def _check_params(self, n_points: int | None = None) -> None:
        super()._check_params(n_points)
        if int(self.order) < 0:
            raise ConfigError("EMSC: order must be >= 0", got=f"order={self.order}")
        if n_points is not None:
            check_min_points(
                "EMSC",
                f"model (reference + degree {int(self.order)})",
                int(self.order) + 2,
                n_points,
            )

    def _fit(self, X: np.ndarray, axis: np.ndarray, y: object = None) -> None:
        self.reference_ = _reference("EMSC", X, self.reference)
        design = self._design(axis)
        if np.linalg.matrix_rank(design) < design.shape[1]:
            raise PreprocessingError(
                "EMSC: the reference is a low-order polynomial",
                expected="a reference spectrum with bands",
                got=f"a reference explained by a degree-{int(self.order)} polynomial",
                fix="fit on real spectra or lower the order",
            )

    def _design(self, axis: np.ndarray) -> np.ndarray:
        t = (
            np.linspace(-1.0, 1.0, axis.size)
            if axis[-1] == axis[0]
            else (2.0 * (axis - axis[0]) / (axis[-1] - axis[0]) - 1.0)
        )
        poly = legendre.legvander(t, int(self.order))  # (p, order + 1)
        return np.column_stack([self.reference_, poly])

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        design = self._design(axis)
        coef = dot_rows(X, np.linalg.pinv(design))  # (n, 1 + order + 1); fit: full rank
        b = _safe_divisor(
            self, coef[:, 0], _absmax(X) / np.abs(self.reference_).max(), "reference weight"
        )
        baseline = apply_rows(coef[:, 1:], design[:, 1:])  # (n, p)
        return (X - baseline) / b[:, None], axis


@register_step
class MinMax(_Normalizer):
    """Scale every spectrum to [0, 1] (``(x - min) / (max - min)``).

    Parameters
    ----------
    on_zero : {"raise", "keep"}, default="raise"
        Constant spectra: raise, or return them shifted to 0.
    """

    def __init__(self, on_zero: str = "raise") -> None:
        self.on_zero = on_zero

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        low = X.min(axis=1, keepdims=True)
        span = _safe_divisor(self, X.max(axis=1) - low[:, 0], _absmax(X), "intensity range")
        return (X - low) / span[:, None], axis


@register_step
class AreaNorm(_Normalizer):
    """Divide every spectrum by the absolute value of its integral over the real axis.

    The integral is the trapezoid rule over the axis positions (so unevenly spaced axes are
    integrated correctly); dividing by its absolute value keeps the sign of the spectrum.

    Parameters
    ----------
    on_zero : {"raise", "keep"}, default="raise"
    """

    def __init__(self, on_zero: str = "raise") -> None:
        self.on_zero = on_zero

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if axis.size < 2:
            raise PreprocessingError("AreaNorm needs at least 2 points", got="1 point")
        area = np.abs(np.trapezoid(X, axis, axis=1))
        scale = _absmax(X) * (axis[-1] - axis[0])
        return X / _safe_divisor(self, area, scale, "area")[:, None], axis


@register_step
class VectorNorm(_Normalizer):
    """Divide every spectrum by its Euclidean (L2) norm.

    Parameters
    ----------
    on_zero : {"raise", "keep"}, default="raise"
    """

    def __init__(self, on_zero: str = "raise") -> None:
        self.on_zero = on_zero

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        norm = _safe_divisor(self, np.linalg.norm(X, axis=1), _absmax(X), "norm")
        return X / norm[:, None], axis


@register_step
class MaxNorm(_Normalizer):
    """Divide every spectrum by its largest absolute intensity.

    Parameters
    ----------
    on_zero : {"raise", "keep"}, default="raise"
    """

    def __init__(self, on_zero: str = "raise") -> None:
        self.on_zero = on_zero

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        peak = _absmax(X)
        return X / _safe_divisor(self, peak, np.ones_like(peak), "maximum")[:, None], axis


@register_step
class PeakNorm(_Normalizer):
    """Divide every spectrum by its intensity at a reference band (e.g. an internal standard).

    Parameters
    ----------
    position : float
        Band position in axis units.
    window : float, default=0.0
        Half-width in axis units: the largest intensity within ``position +- window`` is used;
        with 0, the intensity is linearly interpolated at ``position``.
    on_zero : {"raise", "keep"}, default="raise"
    """

    def __init__(self, position: float = 0.0, window: float = 0.0, on_zero: str = "raise") -> None:
        self.position = position
        self.window = window
        self.on_zero = on_zero

    def _check_params(self, n_points: int | None = None) -> None:
        super()._check_params(n_points)
        if not float(self.window) >= 0:
            raise ConfigError("PeakNorm: window must be >= 0", got=f"window={self.window}")
        if n_points is not None:
            check_min_points("PeakNorm", "interpolation (2 points)", 2, n_points)

    def _check_axis(self, axis) -> None:
        pos = float(self.position)
        if not axis.min <= pos <= axis.max:
            raise AxisError(
                "PeakNorm: reference position is outside the axis",
                expected=f"a position within {axis.min:.6g}-{axis.max:.6g} {axis.unit}",
                got=f"{pos:g}",
                fix="choose a band inside the measured range",
            )

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos, win = float(self.position), float(self.window)
        inside = np.abs(axis - pos) <= win
        if win > 0 and inside.any():
            ref = X[:, inside].max(axis=1)
        else:
            j = int(np.clip(np.searchsorted(axis, pos) - 1, 0, axis.size - 2))
            w = (pos - axis[j]) / (axis[j + 1] - axis[j])
            ref = X[:, j] + w * (X[:, j + 1] - X[:, j])
        return X / _safe_divisor(self, ref, _absmax(X), "reference intensity")[:, None], axis
