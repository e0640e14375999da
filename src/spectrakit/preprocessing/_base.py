"""Base class of every preprocessing step: Spectra or arrays in, the same kind out.

A step subclasses :class:`SpectralTransformer` and implements only the maths:

* ``_fit(self, X, axis, y)`` learns state (attributes ending in ``_``); optional.
* ``_transform(self, X, axis)`` returns ``(X_new, axis_new)`` for a float64 block
  ``X`` of shape (n_spectra, n_points) and the increasing ``axis`` of shape (n_points,).

The base class converts inputs (``Spectra``, or an array plus ``axis=`` given to ``fit``),
validates shapes and finiteness, never mutates the input, checks that ``transform`` sees
the axis ``fit`` saw, and wraps the result back (metadata and unit kept).
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import numpy as np

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import AxisError, ConfigError, DataError, PreprocessingError
from spectrakit.core.spectra import Spectra, axis_column_names
from spectrakit.core.threads import map_rows
from spectrakit.preprocessing._estimator import LightEstimator, check_fitted

__all__ = ["SpectralTransformer", "as_block", "check_min_points", "check_same_axis", "map_rows"]


def check_min_points(step: str, what: str, need: int, n_points: int) -> None:
    """Raise :class:`PreprocessingError` when spectra are too short for ``step``."""
    if n_points < need:
        raise PreprocessingError(
            f"{step}: {what} is longer than the spectra",
            expected=f"at least {need} points per spectrum",
            got=f"{n_points} points (n_features={n_points})",
            fix=f"use a smaller {what} or longer spectra",
        )


class NonNumericError(DataError, TypeError):
    """Input values that are not numbers (a :class:`DataError` that is also a TypeError)."""


def as_block(X: Any, axis: Any = None) -> tuple[np.ndarray, SpectralAxis | None, Spectra | None]:
    """Split input into (float64 copy of values, axis or None, original Spectra or None)."""
    if isinstance(X, Spectra):
        if axis is not None:
            raise AxisError(
                "axis given twice", got="a Spectra and axis=...", fix="drop the axis argument"
            )
        return np.array(X.values, dtype=np.float64), X.axis, X
    arr = _to_float64(X)
    _check_block_shape(arr)
    return arr, _axis_for(axis, arr.shape[1]), None


def _to_float64(X: Any) -> np.ndarray:
    """A float64 copy of array-like ``X``; sparse, complex or non-numeric input is refused."""
    sparse = sys.modules.get("scipy.sparse")  # not loaded: X cannot be a sparse matrix
    if sparse is not None and sparse.issparse(X):
        raise DataError(
            "sparse input is not supported",
            expected="a dense array of shape (n_spectra, n_points)",
            got=type(X).__name__,
            fix="convert with X.toarray()",
        )
    if not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise DataError(
                "preprocessing input is not an array",
                expected="Spectra or an array of numbers of shape (n_spectra, n_points)",
                got=f"{type(X).__name__}: {exc}",
            ) from exc
    if np.iscomplexobj(X):
        raise DataError(
            "Complex data not supported",
            expected="real intensities",
            got="complex values",
            fix="take the magnitude or the real part first",
        )
    try:
        arr = np.array(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        error = NonNumericError if isinstance(exc, TypeError) else DataError
        raise error(
            "preprocessing input is not numeric",
            expected="Spectra or an array of numbers of shape (n_spectra, n_points)",
            got=str(exc),
        ) from exc
    return arr


def _check_block_shape(arr: np.ndarray) -> None:
    """Refuse anything but a non-empty 2D block of shape (n_spectra, n_points)."""
    if arr.ndim != 2:
        raise DataError(
            "preprocessing input has the wrong shape",
            expected="Spectra or a 2D array (n_spectra, n_points)",
            got=f"shape {arr.shape}",
            fix="Reshape your data: a single spectrum as x.reshape(1, -1)",
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        what = "sample(s)" if arr.shape[0] == 0 else "feature(s)"
        raise DataError(  # wording shared with scikit-learn's validation
            "preprocessing input is empty",
            expected="at least one spectrum with at least one point",
            got=f"0 {what} (shape={arr.shape}) while a minimum of 1 is required.",
        )


def _axis_for(axis: Any, n_points: int) -> SpectralAxis | None:
    """``axis`` as a :class:`SpectralAxis` of ``n_points`` positions (``None`` stays ``None``)."""
    ax = None
    if axis is not None:
        ax = axis if isinstance(axis, SpectralAxis) else SpectralAxis(np.asarray(axis), unit="arb")
        if ax.n_points != n_points:
            raise AxisError(
                "axis length does not match the spectra",
                expected=f"{n_points} points",
                got=f"{ax.n_points}",
            )
    return ax


def check_same_axis(step: str, fitted: SpectralAxis, axis: SpectralAxis) -> None:
    """Raise :class:`AxisError` unless ``axis`` matches the axis seen in ``fit``."""
    if axis.allclose(fitted, rtol=1e-7, atol=1e-9):
        return
    if fitted.unit == "channel" and fitted.kind == "index":
        return  # fitted on a plain array without axis: positions were never known
    same_length = fitted.n_points == axis.n_points
    if fitted.unit == "arb" and same_length and np.allclose(fitted.values, axis.values, 1e-7, 1e-9):
        return  # fitted with plain axis values: the unit was never known
    raise AxisError(
        f"{step}: spectra are on another axis than in fit",
        expected=fitted.describe(),
        got=axis.describe(),
        fix="resample onto the training axis (preprocessing.Resample) first",
    )


class SpectralTransformer(LightEstimator):
    """Base class for axis-aware, batched preprocessing steps (see module docstring)."""

    #: whether NaN input is allowed (e.g. an imputation step); otherwise it is an error.
    _allow_nan: bool = False
    #: whether the output axis equals the input axis (lets ``output_axis`` skip a dry run).
    _keeps_axis: ClassVar[bool] = True
    #: whether the step only keeps some points, values untouched (crops, region selection):
    #: input outside what it keeps cannot influence the output.
    _selects_points: ClassVar[bool] = False
    #: names of the fitted array attributes that :meth:`_get_state` saves.
    _state_attrs: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------ hooks
    def _fit(self, X: np.ndarray, axis: np.ndarray, y: Any = None) -> None:
        """Learn state from ``X``; stateless steps keep this no-op."""

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _check_params(self, n_points: int | None = None) -> None:
        """Validate parameters (and their fit to ``n_points``); raise a clear error."""

    def _check_axis(self, axis: SpectralAxis) -> None:
        """Validate the axis seen in ``fit`` (unit, uniform spacing, ...); raise a clear error."""

    # ------------------------------------------------------------------ fitted state
    def _get_state(self) -> dict[str, np.ndarray]:
        """Fitted arrays of this step by attribute name (empty for stateless steps)."""
        check_fitted(self, "n_features_in_")
        return {name: np.asarray(getattr(self, name)) for name in self._state_attrs}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore the arrays saved by :meth:`_get_state`."""
        missing = [name for name in self._state_attrs if name not in state]
        if missing:
            raise ConfigError(
                f"{type(self).__name__}: fitted state is incomplete",
                expected=", ".join(self._state_attrs),
                got="missing " + ", ".join(missing),
                fix="save and load the pipeline together with its state arrays",
            )
        for name in self._state_attrs:
            setattr(self, name, np.asarray(state[name], dtype=np.float64))

    def _restore(self, axis: SpectralAxis, state: dict[str, np.ndarray]) -> None:
        """Make this step fitted on ``axis`` with saved ``state`` (no data needed)."""
        self._check_params(axis.n_points)
        self._check_axis(axis)
        self._set_state(state)
        self.n_features_in_ = axis.n_points
        self.axis_in_ = axis

    # ------------------------------------------------------------------ public API
    def fit(self, X: Any, y: Any = None, axis: Any = None) -> SpectralTransformer:
        """Learn from training spectra.

        Parameters
        ----------
        X : Spectra or array-like of shape (n_spectra, n_points)
        y : ignored or targets, optional
        axis : array-like of shape (n_points,) or SpectralAxis, optional
            Axis of a plain array (default: point index ``0..n_points-1``).

        Returns
        -------
        self
        """
        arr, ax, _ = as_block(X, axis)
        self._check_values(arr)
        ax = ax if ax is not None else SpectralAxis(np.arange(arr.shape[1], dtype=float), "channel")
        self._check_params(arr.shape[1])
        self._check_axis(ax)
        self._fit(arr, ax.values, y)
        self.n_features_in_ = arr.shape[1]
        self.axis_in_ = ax
        return self

    def transform(self, X: Any) -> Any:
        """Apply the step; returns Spectra for Spectra input, an ndarray otherwise.

        Parameters
        ----------
        X : Spectra or array-like of shape (n_spectra, n_points)

        Returns
        -------
        Spectra or ndarray of shape (n_spectra, n_points_out)
        """
        check_fitted(self, "n_features_in_")
        arr, ax, spectra = as_block(X)
        if arr.shape[1] != self.n_features_in_:
            raise DataError(  # sklearn's wording, so its conformance checks recognise it
                f"X has {arr.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input",
                expected=f"{self.n_features_in_} points per spectrum (as in fit)",
                got=f"{arr.shape[1]}",
                fix="resample the spectra onto the training axis first",
            )
        if ax is not None:
            check_same_axis(type(self).__name__, self.axis_in_, ax)
        self._check_values(arr)
        axis_vals = (ax or self.axis_in_).values
        out, new_axis = self._transform(arr, axis_vals)
        out = np.asarray(out, dtype=np.float64)
        if not self._allow_nan and not np.all(np.isfinite(out)):
            raise PreprocessingError(
                f"{type(self).__name__} produced NaN or infinite values",
                expected="finite output",
                got=f"{int((~np.isfinite(out)).any(axis=1).sum())} bad spectra",
                fix="check for constant or all-zero spectra, or change the step's parameters",
            )
        if spectra is None:
            return self._wrap_output(out, X)
        template = ax or self.axis_in_
        result = Spectra(
            out.astype(np.float32),
            template.with_values(np.asarray(new_axis, dtype=np.float64)),
            spectra.meta,
            allow_nan=self._allow_nan,
        )
        return self._wrap_output(result, X)

    def fit_transform(self, X: Any, y: Any = None, axis: Any = None, **kw: Any) -> Any:
        """Fit, then transform the same spectra."""
        return self.fit(X, y, axis=axis).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Axis positions of the output as strings (table-format column names)."""
        check_fitted(self, "n_features_in_")
        return np.asarray(axis_column_names(self.output_axis(self.axis_in_)), dtype=object)

    def output_axis(self, axis: SpectralAxis) -> SpectralAxis:
        """The axis this step produces from ``axis`` (e.g. after a crop)."""
        if self._keeps_axis:
            return axis
        _, new_axis = self._transform(np.zeros((1, axis.n_points)), axis.values)
        return axis.with_values(np.asarray(new_axis, dtype=np.float64))

    def _check_values(self, arr: np.ndarray) -> None:
        if not self._allow_nan and not np.all(np.isfinite(arr)):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise DataError(
                f"{type(self).__name__}: input contains NaN or infinite values",
                expected="finite intensities",
                got=f"first at spectrum {int(bad[0])}, point {int(bad[1])}",
                fix="interpolate or drop missing points before this step",
            )
