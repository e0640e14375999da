"""The physical axis of a spectrum: values, unit, kind, and the conversions physics allows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spectrakit.core.errors import AxisError
from spectrakit.core.units import KINDS, UNITS, normalize_unit

__all__ = ["KINDS", "UNITS", "SpectralAxis", "normalize_unit"]

#: axis kinds as a plot label names them
_KIND_NAMES = {
    "raman_shift": "Raman shift",
    "wavenumber": "Wavenumber",
    "wavelength": "Wavelength",
    "energy": "Energy",
    "index": "Channel",
}
#: units in matplotlib's TeX notation
_TEX_UNITS = {"cm-1": "cm$^{-1}$", "um": "µm", "angstrom": "Å"}

# Physical wavelength units expressed in nanometres.
_NM_PER = {"nm": 1.0, "um": 1e3, "angstrom": 0.1}
_HC_EV_NM = 1239.8419843320026  # h * c in eV * nm (CODATA 2018)


def _summary(values: np.ndarray) -> str:
    if values.size <= 6:
        return np.array2string(values, precision=6, separator=", ")
    head = ", ".join(f"{v:.6g}" for v in values[:3])
    return f"[{head}, ...] ({values.size} values)"


@dataclass(frozen=True, eq=False)
class SpectralAxis:
    """A strictly increasing float64 axis with a physical unit.

    Parameters
    ----------
    values : array-like of shape (n_points,)
        Axis positions. Must be finite and strictly monotonic; descending input is rejected
        here (use :meth:`from_values` or :class:`~spectrakit.Spectra`, which reorder).
    unit : str, default="cm-1"
        One of :data:`UNITS` (common aliases such as ``"1/cm"`` are accepted).
    kind : str, optional
        One of :data:`KINDS`. Defaults to the kind implied by the unit. A ``cm-1`` axis with
        ``kind="raman_shift"`` is a shift relative to ``laser_wavelength``.
    laser_wavelength : float, optional
        Excitation wavelength in nm, for Raman-shift axes (needed to convert to absolute
        wavelength or wavenumber).

    Examples
    --------
    >>> ax = SpectralAxis([500.0, 1000.0, 1500.0], unit="cm-1", kind="raman_shift",
    ...                   laser_wavelength=785.0)
    >>> ax.n_points, ax.kind
    (3, 'raman_shift')
    """

    values: np.ndarray
    unit: str = "cm-1"
    kind: str | None = None
    laser_wavelength: float | None = None

    def __post_init__(self) -> None:
        unit = normalize_unit(self.unit)
        kind = self.kind if self.kind is not None else UNITS[unit]
        if kind not in KINDS:
            raise AxisError(
                "unknown axis kind", expected="one of " + ", ".join(KINDS), got=repr(kind)
            )
        if kind == "raman_shift" and unit != "cm-1":
            raise AxisError(
                "a Raman-shift axis must be in cm-1",
                got=f"unit={unit!r}",
                fix="convert the shift to cm-1 or use kind='wavelength'",
            )
        if kind not in ("raman_shift", UNITS[unit]) and UNITS[unit] != "unknown":
            raise AxisError(
                f"axis kind {kind!r} does not match unit {unit!r}",
                expected=f"kind {UNITS[unit]!r}" + (" or 'raman_shift'" if unit == "cm-1" else ""),
                got=repr(kind),
            )
        laser = self.laser_wavelength
        if laser is not None:
            laser = float(laser)
            if not np.isfinite(laser) or laser <= 0:
                raise AxisError(
                    "invalid laser wavelength", expected="a positive value in nm", got=str(laser)
                )
        values = _validate_values(self.values, allow_descending=False)
        values.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "laser_wavelength", laser)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_values(
        cls,
        values: Sequence[float] | np.ndarray,
        unit: str = "cm-1",
        kind: str | None = None,
        laser_wavelength: float | None = None,
    ) -> tuple[SpectralAxis, np.ndarray | None]:
        """Build an axis from possibly descending values.

        Returns
        -------
        axis : SpectralAxis
            The increasing axis.
        order : ndarray of shape (n_points,) or None
            Index that reorders data columns to match ``axis`` (``None`` when already increasing).
        """
        arr = _validate_values(values, allow_descending=True)
        order = None
        if arr.size > 1 and arr[1] < arr[0]:
            order = np.arange(arr.size)[::-1]
            arr = arr[::-1].copy()
        return cls(arr, unit=unit, kind=kind, laser_wavelength=laser_wavelength), order

    # ------------------------------------------------------------------ properties
    @property
    def n_points(self) -> int:
        """Number of axis points."""
        return int(self.values.size)

    def __len__(self) -> int:
        return self.n_points

    @property
    def min(self) -> float:
        """Lowest axis value."""
        return float(self.values[0])

    @property
    def max(self) -> float:
        """Highest axis value."""
        return float(self.values[-1])

    @property
    def spacing(self) -> float:
        """Median spacing between neighbouring points (axis units)."""
        if self.n_points < 2:
            return float("nan")
        return float(np.median(np.diff(self.values)))

    @property
    def is_uniform(self) -> bool:
        """Whether spacing is constant to within 0.1 % of the median spacing."""
        if self.n_points < 3:
            return True
        d = np.diff(self.values)
        return bool(np.all(np.abs(d - np.median(d)) <= 1e-3 * abs(np.median(d))))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpectralAxis):
            return NotImplemented
        return (
            self.unit == other.unit
            and self.kind == other.kind
            and self.n_points == other.n_points
            and bool(np.array_equal(self.values, other.values))
        )

    def __hash__(self) -> int:
        return hash((self.unit, self.kind, self.n_points, self.values.tobytes()))

    def allclose(self, other: SpectralAxis, rtol: float = 1e-9, atol: float = 1e-9) -> bool:
        """Same unit, kind and length, and values equal within tolerance."""
        return (
            self.unit == other.unit
            and self.kind == other.kind
            and self.n_points == other.n_points
            and bool(np.allclose(self.values, other.values, rtol=rtol, atol=atol))
        )

    def __repr__(self) -> str:
        extra = f", laser={self.laser_wavelength:g} nm" if self.laser_wavelength else ""
        if self.n_points == 0:
            return f"SpectralAxis(empty, unit={self.unit!r})"
        return (
            f"SpectralAxis({self.min:.6g}..{self.max:.6g} {self.unit}, "
            f"{self.n_points} points, kind={self.kind!r}{extra})"
        )

    def describe(self) -> str:
        """One line such as ``'428-1833 cm-1, 1047 points'``."""
        return f"{self.min:.6g}-{self.max:.6g} {self.unit}, {self.n_points} points"

    def label(self, *, tex: bool = False) -> str:
        """Plot label such as ``'Raman shift (cm-1)'``; ``tex=True`` writes ``cm$^{-1}$``."""
        name = _KIND_NAMES.get(self.kind, "Axis")
        unit = _TEX_UNITS.get(self.unit, self.unit) if tex else self.unit
        return f"{name} ({unit})"

    def to_dict(self) -> dict:
        """JSON-serializable description (values as a list)."""
        return {
            "values": self.values.tolist(),
            "unit": self.unit,
            "kind": self.kind,
            "laser_wavelength": self.laser_wavelength,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SpectralAxis:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                np.asarray(data["values"], dtype=np.float64),
                unit=data.get("unit", "cm-1"),
                kind=data.get("kind"),
                laser_wavelength=data.get("laser_wavelength"),
            )
        except (KeyError, TypeError) as exc:
            raise AxisError(
                "invalid axis description",
                expected="a mapping with 'values' and 'unit'",
                got=repr(type(data).__name__),
            ) from exc

    def to_torch(self, dtype=None, device=None):
        """Axis values as a 1D torch tensor (float32 by default)."""
        import torch

        return torch.as_tensor(np.array(self.values), dtype=dtype or torch.float32, device=device)

    # ------------------------------------------------------------------ operations
    def index_range(self, low: float | None, high: float | None) -> np.ndarray:
        """Boolean mask of points with ``low <= value <= high`` (``None`` = open end)."""
        lo = -np.inf if low is None else float(low)
        hi = np.inf if high is None else float(high)
        if lo > hi:
            raise AxisError(
                "empty axis range",
                expected="low <= high",
                got=f"low={lo:g}, high={hi:g}",
                fix="swap the two bounds",
            )
        return (self.values >= lo) & (self.values <= hi)

    def with_values(self, values: np.ndarray) -> SpectralAxis:
        """A new axis with the same unit/kind/laser but other values."""
        return SpectralAxis(
            np.asarray(values, dtype=np.float64),
            unit=self.unit,
            kind=self.kind,
            laser_wavelength=self.laser_wavelength,
        )

    def convert(
        self, unit: str, *, kind: str | None = None, laser_wavelength: float | None = None
    ) -> tuple[SpectralAxis, np.ndarray | None]:
        """Convert to another unit where physics allows.

        Supported: any wavelength unit <-> absolute wavenumber (cm-1) <-> photon energy
        (eV, keV); Raman shift <-> absolute wavelength or wavenumber given the laser
        wavelength (nm); Raman shift -> Raman shift is the identity. Intensities are not
        rescaled (values are treated as per-channel, not per unit interval).

        Parameters
        ----------
        unit : str
            Target unit.
        kind : str, optional
            Target kind; ``"raman_shift"`` asks for a shift axis (cm-1).
        laser_wavelength : float, optional
            Laser wavelength in nm; defaults to the axis' own.

        Returns
        -------
        axis : SpectralAxis
            The converted, increasing axis.
        order : ndarray or None
            Column order to apply to the data (``None`` when unchanged).
        """
        unit = normalize_unit(unit)
        target_kind = kind if kind is not None else UNITS[unit]
        laser = laser_wavelength if laser_wavelength is not None else self.laser_wavelength
        if unit == self.unit and target_kind == self.kind:
            return self, None
        if "unknown" in (self.kind, target_kind) or "index" in (self.kind, target_kind):
            raise AxisError(
                f"cannot convert a {self.kind} axis ({self.unit}) to {unit}",
                expected="a physical axis (wavenumber, wavelength, energy, Raman shift)",
                got=f"kind={self.kind!r}",
                fix="read the file with its real unit, e.g. unit='nm'",
            )
        new = self._positions_in(unit, target_kind, laser)
        return SpectralAxis.from_values(new, unit=unit, kind=target_kind, laser_wavelength=laser)

    def _positions_in(self, unit: str, target_kind: str, laser: float | None) -> np.ndarray:
        """The positions of this axis in ``unit`` (of ``target_kind``), checked physical."""
        absolute_cm = self._to_absolute_wavenumber(laser)
        if target_kind == "raman_shift":
            if laser is None:
                raise AxisError(
                    "a Raman shift needs the laser wavelength",
                    got="laser_wavelength=None",
                    fix="pass laser_wavelength=785 (nm) or the value of your instrument",
                )
            new = 1e7 / laser - absolute_cm
        elif unit == "cm-1":
            new = absolute_cm
        else:
            with np.errstate(divide="ignore"):
                nm = 1e7 / absolute_cm
            if UNITS[unit] == "wavelength":
                new = nm / _NM_PER[unit]
            else:  # energy
                new = _HC_EV_NM / nm / (1e3 if unit == "keV" else 1.0)
        if not np.all(np.isfinite(new)) or (UNITS.get(unit) != "wavenumber" and np.any(new <= 0)):
            raise AxisError(
                f"conversion to {unit} gives non-physical values",
                expected="positive finite positions",
                got=_summary(new),
                fix="crop away points at or beyond the laser line / zero wavenumber first",
            )
        return new

    def _to_absolute_wavenumber(self, laser: float | None) -> np.ndarray:
        v = self.values
        if self.kind == "raman_shift":
            if laser is None:
                raise AxisError(
                    "converting a Raman-shift axis needs the laser wavelength",
                    got="laser_wavelength=None",
                    fix="pass laser_wavelength=785 (nm) or set it on the axis",
                )
            return 1e7 / laser - v
        if self.kind == "wavenumber":
            return v
        if self.kind == "wavelength":
            nm = v * _NM_PER[self.unit]
            if np.any(nm <= 0):
                raise AxisError(
                    "wavelengths must be positive", got=_summary(v), fix="crop to positive values"
                )
            return 1e7 / nm
        # energy
        ev = v * (1e3 if self.unit == "keV" else 1.0)
        if np.any(ev <= 0):
            raise AxisError("energies must be positive", got=_summary(v))
        return 1e7 / (_HC_EV_NM / ev)


def _validate_values(values, *, allow_descending: bool) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise AxisError(
            "axis values are not numeric",
            expected="numbers",
            got=repr(values)[:80],
            fix="check the header row / axis array of the file",
        ) from exc
    if arr.ndim != 1:
        raise AxisError(
            "axis must be one-dimensional", expected="shape (n_points,)", got=f"shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr))
        raise AxisError(
            "axis contains NaN or infinite values",
            expected="finite numbers",
            got=f"{bad.size} bad value(s), first at index {int(bad[0])}",
            fix="remove or repair those axis points",
        )
    if arr.size > 1:
        d = np.diff(arr)
        if np.any(d == 0):
            i = int(np.flatnonzero(d == 0)[0])
            raise AxisError(
                "axis has duplicate values",
                expected="strictly monotonic values",
                got=f"{arr[i]:g} repeated at indices {i} and {i + 1}",
                fix="average or drop the duplicated points",
            )
        increasing = np.all(d > 0)
        decreasing = np.all(d < 0)
        if not (increasing or (decreasing and allow_descending)):
            i = int(np.flatnonzero(np.sign(d) != np.sign(d[0]))[0]) if not decreasing else 0
            raise AxisError(
                "axis is not monotonic",
                expected="strictly increasing values"
                + (" (or strictly decreasing)" if allow_descending else ""),
                got=f"{arr[i]:g} followed by {arr[i + 1]:g} at index {i}",
                fix="sort the axis together with the intensities",
            )
    return arr.copy()
