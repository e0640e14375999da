"""Spectra from several instruments on one grid: the overlap, at the coarsest spacing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import AxisError, DataError
from spectrakit.core.spectra import Spectra

__all__ = ["combine"]


def combine(
    items: Sequence[Spectra],
    grid: SpectralAxis | Sequence[float] | np.ndarray | None = None,
    *,
    names: Sequence[str] | None = None,
    method: str = "linear",
    spacing: float | None = None,
) -> Spectra:
    """Bring spectra from several instruments onto one grid and stack them.

    Rule when ``grid`` is not given: the common range is the *overlap* of all axes (no
    extrapolation ever happens), and the spacing is the *coarsest* median spacing among
    the inputs (``spacing`` overrides it) so no instrument is up-sampled beyond what it
    measured. All inputs must share a unit and kind (convert first otherwise).

    Parameters
    ----------
    items : sequence of Spectra
        One block per instrument.
    grid : SpectralAxis or array-like, optional
        Explicit target grid; must lie inside every input's range.
    names : sequence of str, optional
        Instrument names, stored in an ``instrument`` column (kept if already present).
    method : {"linear", "cubic"}
        Interpolation method.
    spacing : float, optional
        Grid spacing for the automatic rule.

    Returns
    -------
    Spectra
        All spectra on the common grid.
    """
    items = list(items)
    if not items:
        raise DataError("nothing to combine", expected="at least one Spectra", got="0")
    if names is not None and len(names) != len(items):
        raise DataError(
            "one name per Spectra is needed", expected=str(len(items)), got=str(len(names))
        )
    target = _target_grid(items, grid, spacing)
    out = []
    for i, s in enumerate(items):
        # each block keeps its own laser; concat records them per spectrum
        r = s.resample(replace(target, laser_wavelength=s.axis.laser_wavelength), method=method)
        if names is not None and "instrument" not in r.meta.columns:
            r = r.assign(instrument=names[i])
        out.append(r)
    return Spectra.concat(out)


def _target_grid(
    items: list[Spectra],
    grid: SpectralAxis | Sequence[float] | np.ndarray | None,
    spacing: float | None,
) -> SpectralAxis:
    """The grid to stack on: ``grid``, or the overlap at the coarsest spacing."""
    unit, kind = items[0].axis.unit, items[0].axis.kind
    for i, s in enumerate(items):
        if (s.axis.unit, s.axis.kind) != (unit, kind):
            raise AxisError(
                f"input #{i} is in another unit",
                expected=f"{unit} ({kind})",
                got=f"{s.axis.unit} ({s.axis.kind})",
                fix=f"convert it first: spectra.convert({unit!r})",
            )
    if grid is None:
        lo = max(s.axis.min for s in items)
        hi = min(s.axis.max for s in items)
        if lo >= hi:
            raise AxisError(
                "the axes do not overlap",
                expected="a shared axis range",
                got="; ".join(s.axis.describe() for s in items),
                fix="pass an explicit grid and fill='edge', or crop to compatible instruments",
            )
        step = spacing if spacing is not None else max(s.axis.spacing for s in items)
        n = int(np.floor((hi - lo) / step + 1e-9)) + 1
        target = items[0].axis.with_values(lo + step * np.arange(n))
    elif isinstance(grid, SpectralAxis):
        target = grid
    else:
        target = items[0].axis.with_values(np.asarray(grid, dtype=np.float64))
    return target
