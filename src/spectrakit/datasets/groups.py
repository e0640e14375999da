"""The synthetic generator's settings, in three small groups documented once each.

:func:`~spectrakit.datasets.make_synthetic` and
:func:`~spectrakit.datasets.make_multi_instrument` take ``mixture=``, ``background=`` and
``measurement=``. Every field can also be given by name (``read_noise=2.0``); such
keywords are placed into their group by :func:`group_options`, and a name that belongs to
no group is refused with the closest accepted names.

Examples
--------
>>> from spectrakit.datasets import MeasurementSettings, make_synthetic
>>> a = make_synthetic(5, measurement=MeasurementSettings(read_noise=2.0), seed=1)
>>> b = make_synthetic(5, read_noise=2.0, seed=1)
>>> bool((a.values == b.values).all())
True
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, replace
from typing import Any

from spectrakit.core.errors import ConfigError
from spectrakit.datasets._components import ComponentLibrary

__all__ = [
    "BackgroundSettings",
    "MeasurementSettings",
    "MixtureSettings",
    "group_options",
]


@dataclass(frozen=True)
class MixtureSettings:
    """What is in each sample: the pure components, their concentrations, the classes.

    Parameters
    ----------
    n_components : int, default=4
        Number of pure components when ``library`` is not a :class:`ComponentLibrary`.
    library : ComponentLibrary, "raman" or None
        Pure components. ``None`` draws a random library from the seed; ``"raman"`` uses
        the first ``n_components`` built-in Raman-like components (glucose, acetate,
        sulfate, ethanol, ...).
    n_classes : int, optional
        Classes for ``task="classification"`` (default: the number of components). Class
        ``j`` is dominated by component ``j`` while ``n_classes <= n_components``.
    class_perturbation : float, default=0.0
        Standard deviation (axis units) of class-specific peak shifts; widths and heights
        are perturbed proportionally (5 % and 10 % per axis unit, capped).
    class_spread : float, default=0.25
        Log-normal spread of concentrations around the class mixture.
    concentration_range : (float, float), default=(0, 1)
        Range of the uniform regression concentrations (meta ``c_<component>``).
    """

    n_components: int = 4
    library: ComponentLibrary | str | None = None
    n_classes: int | None = None
    class_perturbation: float = 0.0
    class_spread: float = 0.25
    concentration_range: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class BackgroundSettings:
    """The smooth background under the bands.

    Parameters
    ----------
    baseline : {"fluorescence", "polynomial", "mixed", "none", None}
        Background type: broad fluorescence-like shapes, a cubic drift, or both.
    baseline_strength : (float, float), default=(0.2, 2.0)
        Per-spectrum background height range, in units of the measurement ``intensity``.
    """

    baseline: str | None = "fluorescence"
    baseline_strength: tuple[float, float] = (0.2, 2.0)


@dataclass(frozen=True)
class MeasurementSettings:
    """How every instrument measures: signal level, noise, cosmic rays and axis jitter.

    An :class:`~spectrakit.datasets.Instrument` may override ``read_noise``,
    ``shot_noise`` and ``spike_rate`` with its own levels.

    Parameters
    ----------
    intensity : float, default=1000.0
        Counts of a unit-height band at unit concentration (sets the shot-noise level).
    read_noise : float, default=5.0
        Gaussian read-noise standard deviation in counts.
    shot_noise : float, default=1.0
        Shot-noise factor (1 = Poisson: variance equals the counts; 0 = off).
    spike_rate : float, default=0.0
        Mean number of cosmic-ray spikes per spectrum (Poisson).
    spike_height : (float, float), default=(1.0, 5.0)
        Spike height range in units of ``intensity``.
    shift_jitter : float, default=0.0
        Standard deviation of a per-spectrum axis shift (axis units, meta
        ``axis_shift``), applied by a third-order Taylor expansion: accurate to about
        0.1 % of the band height for shifts up to a tenth of the narrowest band FWHM
        (about 1 % at a fifth).
    """

    intensity: float = 1000.0
    read_noise: float = 5.0
    shot_noise: float = 1.0
    spike_rate: float = 0.0
    spike_height: tuple[float, float] = (1.0, 5.0)
    shift_jitter: float = 0.0


#: keyword of each group -> its settings class.
GROUPS: dict[str, type] = {
    "mixture": MixtureSettings,
    "background": BackgroundSettings,
    "measurement": MeasurementSettings,
}
#: every field given by name -> the group it belongs to.
_FIELD_GROUP = {f.name: group for group, cls in GROUPS.items() for f in fields(cls)}


def group_options(
    flat: dict[str, Any], *, accepted: tuple[str, ...] = (), **groups: Any
) -> dict[str, Any]:
    """The three settings objects, with the fields given by name placed into them.

    Parameters
    ----------
    flat : dict
        Fields given by name (``{"read_noise": 2.0}``); they override the same field of a
        settings object passed in ``groups``.
    accepted : tuple of str
        Other keyword names of the caller, offered in the "did you mean" hint.
    **groups
        ``mixture``, ``background``, ``measurement``: a settings object or None (defaults).

    Returns
    -------
    dict
        ``{"mixture": MixtureSettings, "background": ..., "measurement": ...}``.
    """
    unknown = sorted(set(flat) - set(_FIELD_GROUP))
    if unknown:
        raise _unknown(unknown[0], (*accepted, *GROUPS, *_FIELD_GROUP))
    out = {}
    for name, cls in GROUPS.items():
        given = groups.get(name)
        if given is not None and not isinstance(given, cls):
            raise ConfigError(
                f"invalid {name}",
                expected=f"a {cls.__name__} or None",
                got=type(given).__name__,
                fix=f"{name}={cls.__name__}(...)",
            )
        mine = {k: v for k, v in flat.items() if _FIELD_GROUP[k] == name}
        out[name] = replace(given or cls(), **mine)
    return out


def _unknown(name: str, names: tuple[str, ...]) -> ConfigError:
    close = difflib.get_close_matches(name, names, n=3)
    return ConfigError(
        "unknown option",
        expected="one of " + ", ".join(sorted(set(names))),
        got=name,
        fix=("did you mean " + " or ".join(close) + "?") if close else None,
    )
