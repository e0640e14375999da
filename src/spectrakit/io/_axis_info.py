"""Axis unit information carried alongside table-format files."""

from __future__ import annotations

from typing import Any

from spectrakit.core.axis import SpectralAxis
from spectrakit.io._limits import current_read

__all__ = ["axis_info", "merge_axis_options", "parse_axis_comment", "render_axis_comment"]

_PREFIX = "# spectrakit"


def axis_info(axis: SpectralAxis) -> dict[str, str]:
    """Unit, kind and laser wavelength as strings (for file headers and metadata)."""
    info = {"unit": axis.unit, "kind": str(axis.kind)}
    if axis.laser_wavelength is not None:
        info["laser_wavelength"] = repr(axis.laser_wavelength)
    return info


def render_axis_comment(axis: SpectralAxis) -> str:
    """First line of a table-format CSV: ``# spectrakit unit=cm-1 kind=wavenumber``."""
    return _PREFIX + " " + " ".join(f"{k}={v}" for k, v in axis_info(axis).items())


def parse_axis_comment(line: str) -> dict[str, str] | None:
    """Inverse of :func:`render_axis_comment`; ``None`` for any other line."""
    if not line.startswith(_PREFIX):
        return None
    out = {}
    for token in line[len(_PREFIX) :].split():
        key, _, value = token.partition("=")
        if key and value:
            out[key] = value
    return out


def merge_axis_options(stored: dict[str, Any] | None, options: dict[str, Any]) -> dict[str, Any]:
    """Axis keyword arguments for :class:`Spectra`: explicit options win over stored info.

    Without either, the unit is ``"arb"`` (unknown) so that no conversion is ever silently
    wrong; pass ``unit=`` to the reader to state it. ``allow_nan`` comes from the read in
    progress (``read(..., allow_nan=True)`` keeps NaN intensities instead of refusing them).
    """
    stored = dict(stored or {})
    unit = options.get("unit") or stored.get("unit") or "arb"
    kind = options.get("kind") or stored.get("kind")
    if kind in ("None", ""):
        kind = None
    laser = options.get("laser_wavelength") or stored.get("laser_wavelength")
    if options.get("unit") and not options.get("kind") and stored.get("unit") != unit:
        kind = None  # a user-given unit implies its own kind
    return {
        "unit": unit,
        "kind": kind,
        "laser_wavelength": None if laser in (None, "None") else float(laser),
        "allow_nan": current_read().allow_nan,
    }
