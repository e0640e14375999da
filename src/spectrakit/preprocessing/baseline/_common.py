"""Shared front end of the baseline steps: parameter checks and the ``baseline()`` method."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import ConfigError
from spectrakit.preprocessing._base import SpectralTransformer, as_block, check_min_points

__all__ = ["BaselineCorrection", "check_int", "check_real"]


def check_real(
    step: str,
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float, or raise :class:`ConfigError` when outside the range."""
    ok = isinstance(value, Real) and not isinstance(value, bool) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{low} {'<' if low_open else '<='} "
        hi = "" if high is None else f" {'<' if high_open else '<='} {high}"
        raise ConfigError(
            f"{step}: invalid {name}",
            expected=f"a real number {lo}{name}{hi}",
            got=f"{name}={value!r}",
            fix=f"pass a {name} in that range",
        )
    return float(value)


def check_int(step: str, name: str, value: Any, *, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise :class:`ConfigError` when outside the range."""
    ok = isinstance(value, Integral) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        rng = f"{low} <= {name}" + ("" if high is None else f" <= {high}")
        raise ConfigError(
            f"{step}: invalid {name}",
            expected=f"an integer {rng}",
            got=f"{name}={value!r}",
            fix=f"pass an integer {name} in that range",
        )
    return int(value)


class BaselineCorrection(SpectralTransformer):
    """Base class of baseline steps: ``transform`` subtracts :meth:`baseline`.

    Subclasses implement ``_baseline(X, axis) -> (n_spectra, n_points)`` and
    ``_check_params``; they are stateless (``fit`` only records the axis).
    """

    def _baseline(self, X: np.ndarray, axis: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _required_points(self) -> tuple[int, str]:
        """Fewest points a spectrum needs, and the parameter that sets it."""
        return 3, "window"

    def _check_params(self, n_points: int | None = None) -> None:
        if n_points is not None:
            need, what = self._required_points()
            check_min_points(type(self).__name__, what, need, n_points)

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._check_params(X.shape[1])
        return X - self._baseline(X, axis), axis

    def baseline(self, X: Any, axis: Any = None) -> np.ndarray:
        """Estimate the baseline of every spectrum (no fit needed: the method is stateless).

        Parameters
        ----------
        X : Spectra or array-like of shape (n_spectra, n_points)
            Spectra; never modified.
        axis : array-like of shape (n_points,) or SpectralAxis, optional
            Axis of a plain array (increasing); default: the point index. Methods that
            work on the real axis (polynomials, rubberband) use it.

        Returns
        -------
        ndarray of shape (n_spectra, n_points)
            The baselines, float64.
        """
        arr, ax, _ = as_block(X, axis)
        self._check_values(arr)
        self._check_params(arr.shape[1])
        if ax is None:
            ax = SpectralAxis(np.arange(arr.shape[1], dtype=float), "channel")
        return self._baseline(arr, ax.values)
