"""The :class:`Spectra` container: values, physical axis and per-spectrum metadata together."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import AxisError, DataError
from spectrakit.core.resample import resample_values
from spectrakit.core.spectra_inputs import as_meta, as_values, check_finite
from spectrakit.core.table_columns import axis_column_names, split_table_columns

__all__ = ["LASER", "Spectra", "axis_column_names", "split_table_columns"]

#: metadata column holding each spectrum's laser when stacked blocks had different lasers
LASER = "laser_wavelength"


def __getattr__(name: str) -> Any:
    """``combine`` moved to :mod:`spectrakit.core.common_grid` (it builds on Spectra)."""
    if name == "combine":
        return importlib.import_module("spectrakit.core.common_grid").combine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Spectra:
    """A block of spectra sharing one physical axis, with per-spectrum metadata.

    Parameters
    ----------
    values : array-like of shape (n_spectra, n_points) or (n_points,)
        Intensities; stored as float32. A 1D array is one spectrum.
    axis : SpectralAxis or array-like of shape (n_points,)
        The axis. Descending axes are accepted; columns are reordered so the stored axis
        increases.
    meta : DataFrame or mapping, optional
        One row per spectrum (ids, instrument, targets, groups). Its index is reset.
    unit, kind, laser_wavelength
        Used when ``axis`` is given as plain values.
    allow_nan : bool, default=False
        Accept NaN intensities (e.g. masked detector pixels). Infinite values are never
        accepted.

    Examples
    --------
    >>> import numpy as np
    >>> s = Spectra(np.ones((2, 3)), [1000.0, 1001.0, 1002.0], meta={"id": ["a", "b"]})
    >>> s.shape, s.axis.unit
    ((2, 3), 'cm-1')
    """

    __slots__ = ("_axis", "_meta", "_values")

    def __init__(
        self,
        values: Any,
        axis: SpectralAxis | Sequence[float] | np.ndarray,
        meta: pd.DataFrame | dict | None = None,
        *,
        unit: str = "cm-1",
        kind: str | None = None,
        laser_wavelength: float | None = None,
        allow_nan: bool = False,
    ) -> None:
        vals = as_values(values)
        if isinstance(axis, SpectralAxis):
            ax, order = axis, None
        else:
            ax, order = SpectralAxis.from_values(
                axis, unit=unit, kind=kind, laser_wavelength=laser_wavelength
            )
        if vals.shape[1] != ax.n_points:
            raise DataError(
                "spectra and axis lengths differ",
                expected=f"{ax.n_points} intensity values per spectrum (axis length)",
                got=f"{vals.shape[1]}",
                fix="check that the axis belongs to these spectra",
            )
        if order is not None:
            vals = vals[:, order]
        check_finite(vals, allow_nan)
        vals.setflags(write=False)
        self._values = vals
        self._axis = ax
        self._meta = as_meta(meta, vals.shape[0])

    # ------------------------------------------------------------------ basic properties
    @property
    def values(self) -> np.ndarray:
        """Read-only float32 intensities of shape (n_spectra, n_points)."""
        return self._values

    @property
    def axis(self) -> SpectralAxis:
        """The increasing physical axis."""
        return self._axis

    @property
    def meta(self) -> pd.DataFrame:
        """Per-spectrum metadata (n_spectra rows)."""
        return self._meta

    @property
    def shape(self) -> tuple[int, int]:
        """(n_spectra, n_points)."""
        return self._values.shape  # type: ignore[return-value]

    @property
    def n_spectra(self) -> int:
        """Number of spectra."""
        return int(self._values.shape[0])

    @property
    def n_points(self) -> int:
        """Number of axis points."""
        return int(self._values.shape[1])

    def __len__(self) -> int:
        return self.n_spectra

    def __repr__(self) -> str:
        cols = list(self._meta.columns)
        shown = ", ".join(map(str, cols[:6])) + (", ..." if len(cols) > 6 else "")
        axis = self._axis.describe() if self.n_points else "empty axis"
        return f"Spectra({self.n_spectra} spectra, {axis}, meta=[{shown}])"

    # ------------------------------------------------------------------ derived objects
    def with_values(self, values: Any, *, allow_nan: bool = False) -> Spectra:
        """Same axis and metadata, new intensities of the same shape."""
        vals = as_values(values)
        if vals.shape != self.shape:
            raise DataError(
                "new values do not match the spectra",
                expected=f"shape {self.shape}",
                got=f"shape {vals.shape}",
            )
        return Spectra(vals, self._axis, self._meta, allow_nan=allow_nan)

    def with_meta(self, meta: pd.DataFrame | dict) -> Spectra:
        """Same values and axis, new metadata."""
        return Spectra(self._values, self._axis, meta, allow_nan=True)

    def assign(self, **columns: Any) -> Spectra:
        """Add or replace metadata columns (scalar or one value per spectrum)."""
        meta = self._meta.copy()
        for name, col in columns.items():
            meta[name] = col
        return self.with_meta(meta)

    def copy(self) -> Spectra:
        """A deep copy."""
        return Spectra(self._values.copy(), self._axis, self._meta.copy(), allow_nan=True)

    # ------------------------------------------------------------------ array protocol
    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(spectra)``: the intensities, shape (n_spectra, n_points).

        Without ``dtype`` or ``copy`` this is the read-only float32 block itself (no copy);
        ``np.array(spectra)`` and ``np.asarray(spectra, dtype=...)`` give a writable copy.
        """
        if copy is False and dtype is not None and np.dtype(dtype) != self._values.dtype:
            raise ValueError("a copy is needed to convert the intensities to another dtype")
        if dtype is None and not copy:
            return self._values
        return np.array(self._values, dtype=dtype or self._values.dtype)

    def __iter__(self) -> Iterator[Spectra]:
        """One single-spectrum :class:`Spectra` per row, axis and metadata kept."""
        for i in range(self.n_spectra):
            yield self.select(i)

    # ------------------------------------------------------------------ rows
    def __getitem__(self, key: Any) -> Spectra:
        """Select spectra, and optionally axis points, keeping the axis.

        ``spectra[rows]`` takes an integer, slice, boolean mask or index array (an integer
        gives a one-spectrum Spectra); ``spectra[rows, points]`` (NumPy style, as
        scikit-learn's ``X[idx, ...]``) also selects axis points by slice, boolean mask or
        increasing index array.
        """
        if not isinstance(key, tuple):
            return self.select(key)
        if len(key) == 2 and key[1] is Ellipsis:
            key = key[:1]
        if len(key) == 1:
            return self.select(key[0])
        if len(key) != 2:
            raise DataError(
                "too many indices for Spectra",
                expected="spectra[rows] or spectra[rows, points]",
                got=f"{len(key)} indices",
            )
        return self.select(key[0]).select_points(key[1])

    def select_points(self, points: Any) -> Spectra:
        """Keep axis points by slice, boolean mask or increasing integer index array."""
        n = self.n_points
        if isinstance(points, slice):
            idx = np.arange(n)[points]
        else:
            idx = np.atleast_1d(np.asarray(points))
            if idx.dtype == bool:
                if idx.shape != (n,):
                    raise DataError(
                        "boolean point mask has the wrong length",
                        expected=f"{n} entries",
                        got=f"{idx.size}",
                    )
                idx = np.flatnonzero(idx)
            elif not np.issubdtype(idx.dtype, np.integer):
                raise DataError(
                    "cannot select axis points",
                    expected="integers, a slice or a boolean mask",
                    got=f"dtype {idx.dtype}",
                )
            idx = np.where(idx.ravel() < 0, idx.ravel() + n, idx.ravel())
        if idx.size == 0 or idx.max() >= n or idx.min() < 0:
            raise DataError(
                "axis point selection is empty or out of range",
                expected=f"at least one index in [0, {n})",
                got=f"{idx.size} indices" if idx.size == 0 else f"{int(idx.max())}",
            )
        if idx.size > 1 and np.any(np.diff(idx) == 0):
            raise DataError(
                "axis points selected twice",
                expected="distinct points (the axis must stay strictly monotonic)",
                got="repeated indices",
            )
        axis_values = self._axis.values[idx]
        return Spectra(
            self._values[:, idx],
            axis_values,
            self._meta,
            unit=self._axis.unit,
            kind=self._axis.kind,
            laser_wavelength=self._axis.laser_wavelength,
            allow_nan=True,
        )

    def select(self, rows: Any) -> Spectra:
        """Select spectra (rows) by integer, slice, boolean mask or integer index array."""
        if isinstance(rows, int | np.integer):
            idx = np.array([int(rows)])
        elif isinstance(rows, slice):
            idx = np.arange(self.n_spectra)[rows]
        else:
            idx = np.asarray(rows)
            if idx.dtype == bool:
                if idx.shape != (self.n_spectra,):
                    raise DataError(
                        "boolean row mask has the wrong length",
                        expected=f"{self.n_spectra} entries",
                        got=f"{idx.size}",
                    )
                idx = np.flatnonzero(idx)
            elif idx.size and not np.issubdtype(idx.dtype, np.integer):
                raise DataError(
                    "cannot select rows",
                    expected="integers, a slice or a boolean mask",
                    got=f"dtype {idx.dtype}",
                )
            idx = idx.astype(np.int64).ravel()
        if idx.size and (idx.max() >= self.n_spectra or idx.min() < -self.n_spectra):
            raise DataError(
                "row index out of range",
                expected=f"indices in [0, {self.n_spectra})",
                got=f"{int(idx.max()) if idx.max() >= self.n_spectra else int(idx.min())}",
            )
        return Spectra(self._values[idx], self._axis, self._meta.iloc[idx], allow_nan=True)

    def where(self, **equals: Any) -> Spectra:
        """Spectra whose metadata columns equal the given values, e.g. ``where(instrument="a")``."""
        mask = np.ones(self.n_spectra, dtype=bool)
        for col, value in equals.items():
            self._require_column(col)
            mask &= (self._meta[col] == value).to_numpy()
        return self.select(mask)

    def _require_column(self, col: str) -> None:
        if col not in self._meta.columns:
            raise DataError(
                f"no metadata column {col!r}",
                expected="one of " + (", ".join(map(str, self._meta.columns)) or "(none)"),
                got=repr(col),
                fix="check the column name (case matters)",
            )

    def targets(self, columns: str | Sequence[str]) -> np.ndarray:
        """Target columns as float64 array of shape (n_spectra,) or (n_spectra, n_targets)."""
        cols = [columns] if isinstance(columns, str) else list(columns)
        for c in cols:
            self._require_column(c)
        try:
            arr = self._meta[cols].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(
                "target columns are not numeric",
                expected="numbers",
                got=", ".join(f"{c}: {self._meta[c].dtype}" for c in cols),
                fix="use --task classification for labels, or clean the column",
            ) from exc
        return arr[:, 0] if isinstance(columns, str) else arr

    # ------------------------------------------------------------------ axis operations
    def crop(self, low: float | None = None, high: float | None = None) -> Spectra:
        """Keep points with ``low <= axis <= high`` (axis units; ``None`` leaves an end open)."""
        mask = self._axis.index_range(low, high)
        if not mask.any():
            raise AxisError(
                "crop range selects no points",
                expected=f"a range overlapping {self._axis.min:g}-{self._axis.max:g} "
                f"{self._axis.unit}",
                got=f"{low}-{high}",
                fix="choose bounds inside the axis range",
            )
        return Spectra(
            self._values[:, mask],
            self._axis.with_values(self._axis.values[mask]),
            self._meta,
            allow_nan=True,
        )

    def resample(
        self,
        grid: SpectralAxis | Sequence[float] | np.ndarray,
        method: str = "linear",
        fill: str | float | None = None,
    ) -> Spectra:
        """Interpolate onto another grid of the same unit.

        Parameters
        ----------
        grid : SpectralAxis or array-like of shape (n_new,)
            Target positions (in this axis' unit if given as values).
        method : {"linear", "cubic"}
            Interpolation method (cubic: not-a-knot cubic spline).
        fill : None, "edge", "nan" or float
            What to do where the grid leaves this axis' range. ``None`` (default) refuses
            with :class:`AxisError`; ``"edge"`` repeats the end values; ``"nan"`` or a number
            pads with it.
        """
        if isinstance(grid, SpectralAxis):
            if grid.unit != self._axis.unit or grid.kind != self._axis.kind:
                raise AxisError(
                    "cannot resample across units",
                    expected=f"a {self._axis.unit} ({self._axis.kind}) grid",
                    got=f"{grid.unit} ({grid.kind})",
                    fix="convert first with spectra.convert(unit)",
                )
            target = grid
        else:
            target = self._axis.with_values(np.asarray(grid, dtype=np.float64))
        new = resample_values(self._values, self._axis.values, target.values, method, fill)
        return Spectra(new, target, self._meta, allow_nan=True)

    def convert(
        self, unit: str, *, kind: str | None = None, laser_wavelength: float | None = None
    ) -> Spectra:
        """Express the axis in another unit (see :meth:`SpectralAxis.convert`).

        Spectra stacked from several lasers (a ``laser_wavelength`` metadata column, see
        :func:`combine`) are refused when the conversion involves a Raman shift: each
        block must be converted with its own laser, before combining.
        """
        laser_wavelength = self._block_laser(kind, laser_wavelength)
        axis, order = self._axis.convert(unit, kind=kind, laser_wavelength=laser_wavelength)
        values = self._values if order is None else self._values[:, order]
        return Spectra(values, axis, self._meta, allow_nan=True)

    def _block_laser(self, kind: str | None, laser: float | None) -> float | None:
        """The laser for a conversion: the axis', or the one of a per-spectrum column."""
        if self._axis.laser_wavelength is not None or LASER not in self._meta.columns:
            return laser
        column = self._meta[LASER]
        lasers = sorted({float(v) for v in column.dropna()})
        unknown = int(column.isna().any())
        mixed = len(lasers) > 1 or (bool(lasers) and bool(unknown))
        if mixed and "raman_shift" in (kind, self._axis.kind):
            raise AxisError(
                "these spectra come from several lasers",
                expected="one laser wavelength for a Raman-shift conversion",
                got=", ".join([f"{v:g} nm" for v in lasers] + ["unknown"] * unknown),
                fix="convert each instrument's block before combining them",
            )
        return lasers[0] if lasers and laser is None else laser

    # ------------------------------------------------------------------ concat / conversion
    @staticmethod
    def concat(items: Sequence[Spectra]) -> Spectra:
        """Stack spectra that share exactly the same axis (use :func:`combine` otherwise).

        Blocks measured with different lasers keep theirs in a ``laser_wavelength``
        metadata column; the stacked axis then states none.
        """
        items, laser = _tag_lasers(list(items))
        if not items:
            raise DataError("nothing to concatenate", expected="at least one Spectra", got="0")
        first = items[0]
        for i, s in enumerate(items[1:], start=1):
            if not s.axis.allclose(first.axis, rtol=1e-9, atol=1e-9):
                raise AxisError(
                    f"spectra #{i} has a different axis",
                    expected=first.axis.describe(),
                    got=s.axis.describe(),
                    fix="use spectrakit.combine([...], grid=...) to bring them onto one grid",
                )
        values = np.concatenate([s.values for s in items], axis=0)
        meta = pd.concat([s.meta for s in items], axis=0, ignore_index=True)
        axis = replace(first.axis, laser_wavelength=laser)
        return Spectra(values, axis, meta, allow_nan=True)

    def to_pandas(self) -> pd.DataFrame:
        """Table format: metadata columns first, then one column per axis point."""
        spectral = pd.DataFrame(self._values, columns=axis_column_names(self._axis))
        overlap = set(map(str, self._meta.columns)) & set(spectral.columns)
        if overlap:
            raise DataError(
                "metadata column names look like axis values",
                expected="non-numeric metadata names",
                got=", ".join(sorted(overlap)),
                fix="rename those metadata columns",
            )
        return pd.concat([self._meta.reset_index(drop=True), spectral], axis=1)

    @classmethod
    def from_pandas(
        cls,
        df: pd.DataFrame,
        *,
        unit: str = "cm-1",
        kind: str | None = None,
        laser_wavelength: float | None = None,
        allow_nan: bool = False,
        source: str = "table",
    ) -> Spectra:
        """Read the table format: numeric column names are the axis, others are metadata."""
        spectral, meta_cols, axis = split_table_columns(df.columns)
        if not spectral:
            raise DataError(
                f"{source} has no spectral columns",
                expected="column names that are axis positions, e.g. '1000.5'",
                got="columns " + ", ".join(map(str, list(df.columns)[:8])),
                fix="name intensity columns by their wavenumber/wavelength",
            )
        if len(df) == 0:
            raise DataError(
                f"{source} has a header but no spectra",
                expected="at least one row",
                got="0 rows",
            )
        block = df[spectral]
        try:
            values = block.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            bad_col = next(c for c in spectral if not pd.api.types.is_numeric_dtype(block[c]))
            coerced = pd.to_numeric(block[bad_col], errors="coerce")
            row = int(np.flatnonzero(coerced.isna() & block[bad_col].notna())[0])
            raise DataError(
                f"{source}: non-numeric intensity",
                expected="numbers in every spectral column",
                got=f"{block[bad_col].iloc[row]!r} in column {bad_col!r}, row {row + 1}",
                fix="repair the value or remove that row",
            ) from None
        return cls(
            values,
            axis,
            df[meta_cols].reset_index(drop=True),
            unit=unit,
            kind=kind,
            laser_wavelength=laser_wavelength,
            allow_nan=allow_nan,
        )

    def to_torch(self, *, channels: bool = True, dtype=None, device=None):
        """Values as a torch tensor of shape (n, 1, p) (``channels=True``) or (n, p)."""
        import torch

        t = torch.as_tensor(np.array(self._values), dtype=dtype or torch.float32, device=device)
        return t.unsqueeze(1) if channels else t

    def equals(self, other: Spectra, *, rtol: float = 0.0, atol: float = 0.0) -> bool:
        """Whether values, axis and metadata agree (values within tolerance)."""
        return (
            self.axis == other.axis
            and self.shape == other.shape
            and bool(np.allclose(self.values, other.values, rtol=rtol, atol=atol, equal_nan=True))
            and self.meta.reset_index(drop=True).equals(other.meta.reset_index(drop=True))
        )


def _tag_lasers(items: list[Spectra]) -> tuple[list[Spectra], float | None]:
    """Blocks ready to stack, and the laser the stacked axis states.

    One laser for all (or none known): it is the axis'. Several: each spectrum keeps its
    own in the :data:`LASER` metadata column and the axis states none, so a conversion
    that needs the laser cannot silently use another block's.
    """
    lasers = {s.axis.laser_wavelength for s in items}
    tagged = any(LASER in s.meta.columns for s in items)
    if len(lasers) <= 1 and not tagged:
        return items, next(iter(lasers), None)
    out = []
    for s in items:
        known = s.axis.laser_wavelength
        if LASER not in s.meta.columns or known is not None:
            s = s.assign(**{LASER: np.nan if known is None else known})
        out.append(s)
    found = {float(v) for s in out for v in s.meta[LASER].dropna()}
    return out, (found.pop() if len(found) == 1 and len(lasers) == 1 else None)
