"""The vocabulary of spectral axes: units, their aliases and the kinds of axis they measure.

Plain Python (no NumPy), so that the command line can offer ``--unit`` and ``--kind`` choices
without loading the numerical stack; :mod:`spectrakit.core.axis` builds on it.
"""

from __future__ import annotations

from spectrakit.core.errors import AxisError

__all__ = ["KINDS", "UNITS", "normalize_unit"]

#: unit -> kind of axis it measures.
UNITS: dict[str, str] = {
    "cm-1": "wavenumber",
    "nm": "wavelength",
    "um": "wavelength",
    "angstrom": "wavelength",
    "eV": "energy",
    "keV": "energy",
    "channel": "index",
    "arb": "unknown",
}
#: every kind an axis can have; ``raman_shift`` is a ``cm-1`` axis relative to a laser line.
KINDS = ("wavenumber", "raman_shift", "wavelength", "energy", "index", "unknown")

_ALIASES = {
    "cm^-1": "cm-1",
    "cm⁻¹": "cm-1",
    "1/cm": "cm-1",
    "wavenumber": "cm-1",
    "wavenumbers": "cm-1",
    "micrometer": "um",
    "micron": "um",
    "µm": "um",
    "μm": "um",
    "nanometer": "nm",
    "nanometers": "nm",
    "a": "angstrom",
    "å": "angstrom",
    "ev": "eV",
    "kev": "keV",
    "channels": "channel",
    "index": "channel",
    "pixel": "channel",
    "arbitrary": "arb",
    "unknown": "arb",
}


def normalize_unit(unit: str) -> str:
    """Return the canonical spelling of ``unit`` or raise :class:`AxisError`."""
    if unit in UNITS:
        return unit
    key = str(unit).strip()
    if key in UNITS:
        return key
    canon = _ALIASES.get(key.lower()) or _ALIASES.get(key)
    if canon is None:
        raise AxisError(
            "unknown axis unit",
            expected="one of " + ", ".join(UNITS),
            got=repr(unit),
            fix="pass unit='cm-1' (wavenumber or Raman shift), 'nm', 'um', 'eV', ... ",
        )
    return canon
