"""Axis steps: crop, keep or drop regions, resample onto a grid (all in axis units)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from spectrakit.core.axis import SpectralAxis, normalize_unit
from spectrakit.core.errors import AxisError, ConfigError
from spectrakit.core.resample import resample_values
from spectrakit.preprocessing._base import SpectralTransformer
from spectrakit.preprocessing._registry import register_step

__all__ = ["Crop", "ExcludeRegions", "Resample", "SelectRegions"]


def _check_unit(step: SpectralTransformer, unit: str | None, axis: SpectralAxis) -> None:
    """Refuse axis-unit ranges applied to spectra on another unit."""
    if unit is None or normalize_unit(unit) == axis.unit:
        return
    raise AxisError(
        f"{type(step).__name__}: range is given in {unit} but the spectra axis is in {axis.unit}",
        expected=f"spectra on a {unit} axis",
        got=f"{axis.describe()}",
        fix=f"convert the spectra to {unit} (Spectra.convert) or pass an axis= in {unit} to fit",
    )


def _as_regions(step: str, regions: Sequence[Sequence[float]]) -> np.ndarray:
    try:
        arr = np.asarray(regions, dtype=np.float64).reshape(-1, 2)
        ok = arr.size > 0 and np.asarray(regions, dtype=np.float64).ndim == 2
    except (TypeError, ValueError):
        ok = False
    if not ok or not np.all(np.isfinite(arr)) or np.any(arr[:, 0] >= arr[:, 1]):
        raise ConfigError(
            f"{step}: invalid regions",
            expected="a list of (low, high) pairs in axis units with low < high",
            got=repr(regions),
            fix="write regions as [[400, 600], [1000, 1200]]",
        )
    return arr


def _region_mask(axis: np.ndarray, regions: np.ndarray) -> np.ndarray:
    inside = np.zeros(axis.size, dtype=bool)
    for low, high in regions:
        inside |= (axis >= low) & (axis <= high)
    return inside


def _empty_selection(step: str, axis: np.ndarray, what: str) -> AxisError:
    return AxisError(
        f"{step}: {what} selects no points of the axis",
        expected=f"a range overlapping {axis[0]:.6g}-{axis[-1]:.6g}",
        got=what,
        fix="choose bounds inside the axis range (check the axis unit)",
    )


@register_step
class Crop(SpectralTransformer):
    """Keep the points with ``low <= axis <= high`` (axis units).

    The range is intersected with the axis: a range wider than the measured axis keeps
    everything it overlaps; a range that overlaps nothing is an :class:`AxisError`.

    Parameters
    ----------
    low, high : float or None
        Bounds in axis units (``None`` leaves that end open).
    unit : str or None, default=None
        Unit the bounds are written in (e.g. ``"cm-1"``); when set, spectra on another unit
        are refused instead of being cropped at meaningless positions.

    Examples
    --------
    >>> import numpy as np
    >>> Crop(2.0, 4.0).fit_transform(np.arange(12.0).reshape(2, 6), axis=np.arange(6.0))
    array([[ 2.,  3.,  4.],
           [ 8.,  9., 10.]])
    """

    _keeps_axis = False
    _selects_points = True

    def __init__(
        self, low: float | None = None, high: float | None = None, unit: str | None = None
    ) -> None:
        self.low = low
        self.high = high
        self.unit = unit

    def _check_params(self, n_points: int | None = None) -> None:
        if self.low is not None and self.high is not None and float(self.low) > float(self.high):
            raise ConfigError(
                "Crop: low is above high",
                expected="low <= high",
                got=f"low={self.low}, high={self.high}",
                fix="swap the two bounds",
            )

    def _check_axis(self, axis: SpectralAxis) -> None:
        _check_unit(self, self.unit, axis)
        self._mask(axis.values)

    def _mask(self, axis: np.ndarray) -> np.ndarray:
        lo = -np.inf if self.low is None else float(self.low)
        hi = np.inf if self.high is None else float(self.high)
        mask = (axis >= lo) & (axis <= hi)
        if not mask.any():
            raise _empty_selection("Crop", axis, f"range {self.low}-{self.high}")
        return mask

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = self._mask(axis)
        return X[:, mask], axis[mask]


@register_step
class SelectRegions(SpectralTransformer):
    """Keep only the points inside any of ``regions`` (list of (low, high), axis units).

    Parameters
    ----------
    regions : list of (float, float)
        Regions to keep, e.g. ``[[400, 600], [1000, 1200]]``.
    unit : str or None, default=None
        Unit of the region bounds; spectra on another unit are refused when set.
    """

    _keeps_axis = False
    _selects_points = True

    def __init__(self, regions: Sequence[Sequence[float]] = (), unit: str | None = None) -> None:
        self.regions = regions
        self.unit = unit

    def _check_params(self, n_points: int | None = None) -> None:
        _as_regions(type(self).__name__, self.regions)

    def _mask(self, axis: np.ndarray) -> np.ndarray:
        return _region_mask(axis, _as_regions(type(self).__name__, self.regions))

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = self._mask(axis)
        if not mask.any():
            raise _empty_selection(type(self).__name__, axis, f"regions {self.regions}")
        return X[:, mask], axis[mask]

    def _check_axis(self, axis: SpectralAxis) -> None:
        _check_unit(self, self.unit, axis)
        self._transform(np.zeros((1, axis.n_points)), axis.values)


@register_step
class ExcludeRegions(SelectRegions):
    """Drop the points inside any of ``regions`` (e.g. a solvent or CO2 band).

    Parameters
    ----------
    regions : list of (float, float)
        Regions to remove, axis units.
    unit : str or None, default=None
        Unit of the region bounds; spectra on another unit are refused when set.
    """

    def _mask(self, axis: np.ndarray) -> np.ndarray:
        return ~super()._mask(axis)


@register_step
class Resample(SpectralTransformer):
    """Interpolate onto a fixed grid (axis units), so spectra from any instrument line up.

    Parameters
    ----------
    grid : list of float or None
        Target positions (strictly increasing). Alternatively give ``start``/``stop``/``step``.
    start, stop, step : float or None
        Uniform grid ``start, start + step, ..., <= stop`` when ``grid`` is None.
    method : {"linear", "cubic"}, default="linear"
    fill : None, "edge", "nan" or float, default=None
        Policy where the grid leaves the measured axis: ``None`` refuses (no silent
        extrapolation), ``"edge"`` repeats end values, a number pads.
    """

    _keeps_axis = False

    def __init__(
        self,
        grid: Sequence[float] | None = None,
        start: float | None = None,
        stop: float | None = None,
        step: float | None = None,
        method: str = "linear",
        fill: str | float | None = None,
    ) -> None:
        self.grid = grid
        self.start = start
        self.stop = stop
        self.step = step
        self.method = method
        self.fill = fill

    def target(self) -> np.ndarray:
        """The target grid as an array of shape (n_new,)."""
        if self.grid is not None:
            return np.asarray(self.grid, dtype=np.float64)
        if None in (self.start, self.stop, self.step) or float(self.step) <= 0:
            raise ConfigError(
                "Resample needs a grid",
                expected="grid=[...] or start, stop and a positive step",
                got=f"grid={self.grid}, start={self.start}, stop={self.stop}, step={self.step}",
            )
        n = int(np.floor((float(self.stop) - float(self.start)) / float(self.step) + 1e-9)) + 1
        return float(self.start) + float(self.step) * np.arange(max(n, 1))

    def _check_params(self, n_points: int | None = None) -> None:
        grid = self.target()
        if grid.ndim != 1 or grid.size == 0 or np.any(np.diff(grid) <= 0):
            raise ConfigError(
                "Resample: grid is not strictly increasing", got=f"{grid.size} values"
            )
        if self.method not in ("linear", "cubic"):
            raise ConfigError(
                "Resample: unknown method", expected="'linear' or 'cubic'", got=repr(self.method)
            )

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grid = self.target()
        out = resample_values(X, axis, grid, self.method, self.fill).astype(np.float64)
        if self.fill == "nan" and ((grid < axis[0]) | (grid > axis[-1])).any():
            warnings.warn(
                f"Resample: {int(((grid < axis[0]) | (grid > axis[-1])).sum())} grid points lie "
                "outside the measured axis and are NaN (fill='nan')",
                RuntimeWarning,
                stacklevel=3,
            )
        return out, grid

    @property
    def _allow_nan(self) -> bool:  # type: ignore[override]
        return self.fill == "nan"
