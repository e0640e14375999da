"""Validated generator settings, seeds and instrument lists for the synthetic datasets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import ConfigError
from spectrakit.datasets._baseline import BASELINES
from spectrakit.datasets._components import RAMAN_COMPONENTS, ComponentLibrary
from spectrakit.datasets._instrument import Instrument, resolve_axis
from spectrakit.datasets._validate import (
    check_choice,
    check_count,
    check_nonnegative,
    check_range,
)
from spectrakit.datasets.groups import (
    GROUPS,
    BackgroundSettings,
    MeasurementSettings,
    MixtureSettings,
    group_options,
)

__all__ = [
    "DEFAULT_AXIS",
    "TASKS",
    "Settings",
    "build_settings",
    "entropy",
    "instrument_list",
    "random_instruments",
    "seed_sequence",
    "settings_from",
]

#: 400-1800 cm-1 Raman shift, 1000 points, 785 nm laser.
DEFAULT_AXIS = SpectralAxis(
    np.linspace(400.0, 1800.0, 1000), unit="cm-1", kind="raman_shift", laser_wavelength=785.0
)
TASKS = ("regression", "classification")


@dataclass(frozen=True)
class Settings:
    """Validated generator parameters, flat (see :mod:`spectrakit.datasets.groups`)."""

    task: str
    library: ComponentLibrary
    axis: SpectralAxis
    n_classes: int
    class_perturbation: float
    class_spread: float
    concentration_range: tuple[float, float]
    baseline: str
    baseline_strength: tuple[float, float]
    intensity: float
    read_noise: float
    shot_noise: float
    spike_rate: float
    spike_height: tuple[float, float]
    shift_jitter: float


#: keywords of the generators besides the settings groups and their fields.
_CALL = ("task", "axis", "instruments", "seed", "return_components")


def settings_from(seed: int, options: dict[str, Any]) -> Settings:
    """Validated settings from the generator keywords.

    ``options`` holds ``task``, ``axis``, the groups ``mixture``, ``background``,
    ``measurement`` and any group field given by name (see :mod:`spectrakit.datasets.groups`).
    An unknown name raises :class:`ConfigError` with the closest accepted ones.
    """
    opts = dict(options)
    task = opts.pop("task", "regression")
    axis = opts.pop("axis", None)
    groups = {name: opts.pop(name, None) for name in GROUPS}
    return build_settings(
        seed=seed, task=task, axis=axis, **group_options(opts, accepted=_CALL, **groups)
    )


def build_settings(
    *,
    seed: int,
    task: str,
    axis: Any,
    mixture: MixtureSettings,
    background: BackgroundSettings,
    measurement: MeasurementSettings,
) -> Settings:
    """Validate every generator parameter once (see :mod:`spectrakit.datasets.groups`)."""
    mix, ms = mixture, measurement
    check_choice("task", task, TASKS)
    ax = DEFAULT_AXIS if axis is None else resolve_axis(axis)
    lib = _library(mix.library, mix.n_components, ax, seed)
    k = len(lib)
    if task == "classification":
        n_cls = k if mix.n_classes is None else check_count("n_classes", mix.n_classes, minimum=2)
        if n_cls < 2:
            raise ConfigError(
                "classification needs at least two classes",
                got=f"n_classes={n_cls}",
                fix="pass n_classes=2 or more (or n_components >= 2)",
            )
    else:
        n_cls = 0
    baseline = background.baseline
    base = "none" if baseline is None else check_choice("baseline", baseline, BASELINES)
    intensity = check_nonnegative("intensity", ms.intensity)
    if intensity == 0:
        raise ConfigError("intensity must be positive", got="0", fix="e.g. intensity=1000")
    return Settings(
        task=task,
        library=lib,
        axis=ax,
        n_classes=n_cls,
        class_perturbation=check_nonnegative("class_perturbation", mix.class_perturbation),
        class_spread=check_nonnegative("class_spread", mix.class_spread),
        concentration_range=check_range("concentration_range", mix.concentration_range),
        baseline=base,
        baseline_strength=check_range("baseline_strength", background.baseline_strength),
        intensity=intensity,
        read_noise=check_nonnegative("read_noise", ms.read_noise),
        shot_noise=check_nonnegative("shot_noise", ms.shot_noise),
        spike_rate=check_nonnegative("spike_rate", ms.spike_rate),
        spike_height=check_range("spike_height", ms.spike_height),
        shift_jitter=check_nonnegative("shift_jitter", ms.shift_jitter),
    )


def _library(library, n_components, axis: SpectralAxis, seed) -> ComponentLibrary:
    if isinstance(library, ComponentLibrary):
        return library
    k = check_count("n_components", n_components)
    if library == "raman":
        names = list(RAMAN_COMPONENTS)
        if k > len(names):
            raise ConfigError(
                "not that many built-in Raman components",
                expected=f"n_components <= {len(names)}",
                got=str(k),
                fix="use library=None for a random library of any size",
            )
        return ComponentLibrary.named(*names[:k])
    if library is not None:
        raise ConfigError(
            "invalid library",
            expected="a ComponentLibrary, 'raman' or None",
            got=repr(library)[:60],
        )
    lib_seed = seed_sequence(seed, extra=False).spawn(1)[0]
    return ComponentLibrary.random(k, (axis.min, axis.max), seed=np.random.default_rng(lib_seed))


def entropy(seed) -> int | None:
    """An integer seed from an int, a Generator (consumed once) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)  # type: ignore[operator]
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        return int(seed)
    raise ConfigError("invalid seed", expected="an int, a numpy Generator or None", got=repr(seed))


def seed_sequence(seed: int, *, extra: bool) -> np.random.SeedSequence:
    """The seed's branch for the library (``extra=False``) or for everything else."""
    # The library uses one branch of the seed, samples/instruments/noise another, so a
    # random library does not change when other options (n_spectra, noise) change.
    return np.random.SeedSequence(seed, spawn_key=(1,) if extra else (0,))


def _not_instruments(got: str) -> ConfigError:
    return ConfigError(
        "instruments must be Instrument objects",
        expected="an Instrument or a sequence of Instrument",
        got=got,
        fix="spectrakit.datasets.Instrument('name', shift=..., ...)",
    )


def instrument_list(instruments: Any) -> list[Instrument]:
    """Validate ``instruments`` (None, one Instrument or a sequence) into a list."""
    if instruments is None:
        return [Instrument("default")]
    if isinstance(instruments, Instrument):
        return [instruments]
    if isinstance(instruments, str | bytes) or not hasattr(instruments, "__iter__"):
        raise _not_instruments(repr(instruments))
    insts = list(instruments)
    if not insts:
        raise ConfigError("no instruments given", expected="at least one Instrument", got="[]")
    for i in insts:
        if not isinstance(i, Instrument):
            raise _not_instruments(type(i).__name__)
    names = [i.name for i in insts]
    if len(set(names)) != len(names):
        raise ConfigError(
            "instrument names must be unique",
            got=", ".join(names),
            fix="give every Instrument its own name",
        )
    return insts


def random_instruments(n: int, axis: SpectralAxis, rng: np.random.Generator) -> list[Instrument]:
    """Instruments with different ranges and spacings inside and around ``axis``."""
    span = axis.max - axis.min
    out = []
    for i in range(n):
        lo = axis.min + rng.uniform(-0.05, 0.08) * span
        hi = axis.max - rng.uniform(-0.05, 0.08) * span
        points = int(rng.integers(max(16, axis.n_points // 2), axis.n_points * 3 // 2 + 1))
        out.append(Instrument.random(f"instrument{i}", seed=rng, axis=(lo, hi, points)))
    return out
