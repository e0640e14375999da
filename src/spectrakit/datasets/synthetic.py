"""Seeded synthetic spectra with known ground truth: mixtures, classes, instruments, noise.

A sample is a mixture of pure components (peaks) with known concentrations, plus a smooth
background; an :class:`Instrument` reports it on its own grid with its calibration error,
resolution, response curve and noise. Everything is drawn from one seed; the pure spectra
are evaluated once per instrument as a (k, p) matrix so a dataset is ``C @ P`` plus
vectorized noise (100,000 x 1,000 spectra take a few seconds).

The recipe (peak mixtures + baseline + shot/read noise + cosmic rays, instruments that
differ in calibration and resolution) follows the synthetic-pretraining idea of SpectraFM
(Koblischke & Bovy, NeurIPS 2024 FM4Science workshop) and the multi-instrument setting of
the Dig4Bio Raman transfer-learning challenge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.axis import SpectralAxis
from spectrakit.datasets._baseline import BASELINES, baseline_basis, baseline_weights
from spectrakit.datasets._components import ComponentLibrary
from spectrakit.datasets._instrument import Instrument, instrument_matrices, resolve_axis
from spectrakit.datasets._measure import MeasureResult, NoiseSettings, measure
from spectrakit.datasets._peaks import make_peaks
from spectrakit.datasets._validate import (
    check_choice,
    check_count,
    check_nonnegative,
    check_range,
)
from spectrakit.errors import ConfigError
from spectrakit.spectra import Spectra, combine

__all__ = [
    "DEFAULT_AXIS",
    "Instrument",
    "make_multi_instrument",
    "make_peaks",
    "make_synthetic",
]

#: 400-1800 cm-1 Raman shift, 1000 points, 785 nm laser.
DEFAULT_AXIS = SpectralAxis(
    np.linspace(400.0, 1800.0, 1000), unit="cm-1", kind="raman_shift", laser_wavelength=785.0
)
TASKS = ("regression", "classification")


@dataclass(frozen=True)
class _Settings:
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


@dataclass
class _Samples:
    conc: np.ndarray  # (n, k) concentrations (ground truth)
    class_index: np.ndarray | None  # (n,) class of each sample
    class_names: list[str]
    class_libraries: list[ComponentLibrary]  # one per class when perturbed, else [library]
    base_weights: np.ndarray  # (n, m) in units of `intensity`
    jitter: np.ndarray | None  # (n,) per-spectrum shifts, axis units


# --------------------------------------------------------------------------- public API
def make_synthetic(
    n_spectra: int = 1000,
    *,
    task: str = "regression",
    n_components: int = 4,
    library: ComponentLibrary | str | None = None,
    axis: SpectralAxis | Sequence[float] | np.ndarray | tuple | None = None,
    instruments: Sequence[Instrument] | Instrument | None = None,
    n_classes: int | None = None,
    class_perturbation: float = 0.0,
    class_spread: float = 0.25,
    concentration_range: tuple[float, float] = (0.0, 1.0),
    baseline: str | None = "fluorescence",
    baseline_strength: tuple[float, float] = (0.2, 2.0),
    intensity: float = 1000.0,
    read_noise: float = 5.0,
    shot_noise: float = 1.0,
    spike_rate: float = 0.0,
    spike_height: tuple[float, float] = (1.0, 5.0),
    shift_jitter: float = 0.0,
    seed: int | np.random.Generator | None = 0,
    return_components: bool = False,
) -> Spectra | tuple[Spectra, dict[str, Any]]:
    """Generate spectra of known composition, measured by one or several instruments.

    Parameters
    ----------
    n_spectra : int, default=1000
        Number of spectra (one sample each).
    task : {"regression", "classification"}
        Regression: concentrations uniform in ``concentration_range``, stored as meta
        columns ``c_<component>``. Classification: every class is a characteristic mixture
        (class ``j`` is dominated by component ``j`` while ``n_classes <= n_components``),
        stored in a ``label`` column; concentrations are kept too.
    n_components : int, default=4
        Number of pure components when ``library`` is not given.
    library : ComponentLibrary, "raman" or None
        Pure components. ``None`` draws a random library from ``seed``; ``"raman"`` uses
        the first ``n_components`` built-in Raman-like components (glucose, acetate,
        sulfate, ethanol, ...).
    axis : SpectralAxis, array-like, (start, stop, n_points) or None
        Grid of instruments without their own; default :data:`DEFAULT_AXIS`.
    instruments : Instrument or sequence of Instrument, optional
        Each spectrum is measured on one instrument drawn uniformly at random (meta column
        ``instrument``). Instruments with different grids are brought onto their common
        overlap with :func:`spectrakit.combine`.
    n_classes : int, optional
        Classes for ``task="classification"`` (default: ``n_components``).
    class_perturbation : float, default=0.0
        Standard deviation (axis units) of class-specific peak shifts; widths and heights
        are perturbed proportionally (5 % and 10 % per axis unit, capped).
    class_spread : float, default=0.25
        Log-normal spread of concentrations around the class mixture.
    concentration_range : (float, float), default=(0, 1)
        Range of regression concentrations.
    baseline : {"fluorescence", "polynomial", "mixed", "none", None}
        Background type: broad fluorescence-like shapes, a cubic drift, or both.
    baseline_strength : (float, float), default=(0.2, 2.0)
        Per-spectrum background height range, in units of ``intensity``.
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
        Standard deviation of a per-spectrum axis shift (axis units; keep it below about a
        fifth of the narrowest band width; second-order accurate).
    seed : int or numpy.random.Generator, optional
        Seed; the same seed gives the same data.
    return_components : bool, default=False
        Also return the exact parts (all grids must then be equal).

    Returns
    -------
    spectra : Spectra
        Values (n_spectra, n_points) float32; meta ``sample_id``, ``instrument``,
        ``c_<component>`` and, for classification, ``label``.
    components : dict, only with ``return_components=True``
        ``signal``, ``baseline``, ``noise``, ``spikes`` (each (n, p); they sum to the
        values), ``spike_positions`` ((m, 2) row, column of each spike maximum),
        ``profiles`` ((k, p) pure spectra as the first instrument reports them, counts per
        unit concentration), ``concentrations`` ((n, k)), ``names``, ``library``.

    Examples
    --------
    >>> s = make_synthetic(200, library="raman", n_components=3, seed=1)
    >>> s.shape, list(s.meta.columns)
    ((200, 1000), ['sample_id', 'instrument', 'c_glucose', 'c_acetate', 'c_sulfate'])
    """
    n = check_count("n_spectra", n_spectra)
    seed = _entropy(seed)
    settings = _settings(
        task, n_components, library, axis, n_classes, class_perturbation, class_spread,
        concentration_range, baseline, baseline_strength, intensity, read_noise, shot_noise,
        spike_rate, spike_height, shift_jitter, seed,
    )  # fmt: skip
    insts = _instruments(instruments)
    seeds = _seed_sequence(seed, extra=True).spawn(3)
    samples = _draw_samples(n, settings, np.random.default_rng(seeds[0]))
    assign = np.random.default_rng(seeds[1]).integers(0, len(insts), n)
    if len(insts) == 1:
        assign[:] = 0
    grids = [inst.grid(settings.axis) for inst in insts]
    same_grid = all(g.allclose(grids[0]) for g in grids)
    if return_components and not same_grid:
        raise ConfigError(
            "return_components needs instruments that share one grid",
            got="; ".join(f"{i.name}: {g.describe()}" for i, g in zip(insts, grids, strict=True)),
            fix="use make_multi_instrument(..., return_components=True) for separate grids",
        )
    meas_seeds = seeds[2].spawn(len(insts))
    blocks, parts = [], []
    for j, inst in enumerate(insts):
        rows = np.flatnonzero(assign == j)
        res = _measure_on(
            samples,
            rows,
            inst,
            settings,
            np.random.default_rng(meas_seeds[j]),
            components=return_components,
        )
        blocks.append((rows, res))
        parts.append(res)
    meta = _meta(samples, settings, np.arange(n), [insts[a].name for a in assign])
    if len(blocks) == 1:
        spectra = Spectra(blocks[0][1].values, grids[0], meta)
    elif same_grid:
        values = np.empty((n, grids[0].n_points), dtype=np.float32)
        for rows, res in blocks:
            values[rows] = res.values
        spectra = Spectra(values, grids[0], meta)
    else:
        pieces = [
            Spectra(res.values, grids[j], meta.iloc[rows])
            for j, (rows, res) in enumerate(blocks)
            if rows.size
        ]
        spectra = combine(pieces)
        spectra = spectra.select(np.argsort(spectra.meta["sample_id"].to_numpy(), kind="stable"))
    if not return_components:
        return spectra
    return spectra, _components(blocks, n, samples, settings, insts[0])


def make_multi_instrument(
    n_samples: int = 100,
    instruments: Sequence[Instrument] | int = 3,
    *,
    combined: bool = False,
    grid: SpectralAxis | Sequence[float] | np.ndarray | None = None,
    seed: int | np.random.Generator | None = 0,
    return_components: bool = False,
    **options: Any,
) -> dict[str, Spectra] | Spectra | tuple[Any, dict[str, dict[str, Any]]]:
    """The same samples measured on several instruments (transfer standards).

    Every sample (same concentrations, same background) is measured once on every
    instrument, each with its own grid, calibration, resolution, response and noise; the
    ``sample_id`` column pairs the measurements for calibration transfer.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples.
    instruments : sequence of Instrument or int, default=3
        The instruments, or how many random ones (:meth:`Instrument.random`) to create on
        grids of different range and spacing.
    combined : bool, default=False
        Return one Spectra on a common grid (meta ``instrument``) instead of a dict.
    grid : SpectralAxis or array-like, optional
        Common grid for ``combined=True`` (default: the overlap, see
        :func:`spectrakit.combine`).
    seed : int or numpy.random.Generator, optional
        Seed.
    return_components : bool, default=False
        Also return ``{instrument: components}`` as in :func:`make_synthetic`.
    **options
        Any other :func:`make_synthetic` parameter (task, library, n_components, noise...).

    Returns
    -------
    dict of str to Spectra, or Spectra
        One block per instrument (n_samples, n_points_i) or the combined block.

    Examples
    --------
    >>> blocks = make_multi_instrument(20, 2, seed=0)
    >>> sorted(blocks)
    ['instrument0', 'instrument1']
    """
    n = check_count("n_samples", n_samples)
    bad = set(options) & {"n_spectra", "instruments"}
    if bad:
        raise ConfigError("unexpected option", got=", ".join(sorted(bad)))
    seed = _entropy(seed)
    try:
        settings = _settings(seed=seed, **_with_defaults(options))
    except TypeError as exc:
        raise ConfigError("unknown option for make_multi_instrument", got=str(exc)) from None
    seeds = _seed_sequence(seed, extra=True).spawn(3)
    if isinstance(instruments, int | np.integer) and not isinstance(instruments, bool):
        insts = _random_instruments(
            check_count("instruments", instruments), settings.axis, np.random.default_rng(seeds[1])
        )
    else:
        insts = _instruments(instruments)
    names = [i.name for i in insts]
    if len(set(names)) != len(names):
        raise ConfigError("instrument names must be unique", got=", ".join(names))
    samples = _draw_samples(n, settings, np.random.default_rng(seeds[0]))
    rows = np.arange(n)
    blocks: dict[str, Spectra] = {}
    comps: dict[str, dict[str, Any]] = {}
    for inst, ss in zip(insts, seeds[2].spawn(len(insts)), strict=True):
        res = _measure_on(
            samples, rows, inst, settings, np.random.default_rng(ss), components=return_components
        )
        meta = _meta(samples, settings, rows, [inst.name] * n)
        blocks[inst.name] = Spectra(res.values, inst.grid(settings.axis), meta)
        if return_components:
            comps[inst.name] = _components([(rows, res)], n, samples, settings, inst)
    out: dict[str, Spectra] | Spectra = combine(list(blocks.values()), grid) if combined else blocks
    return (out, comps) if return_components else out


# --------------------------------------------------------------------------- settings
def _with_defaults(options: dict[str, Any]) -> dict[str, Any]:
    defaults = {
        "task": "regression", "n_components": 4, "library": None, "axis": None,
        "n_classes": None, "class_perturbation": 0.0, "class_spread": 0.25,
        "concentration_range": (0.0, 1.0), "baseline": "fluorescence",
        "baseline_strength": (0.2, 2.0), "intensity": 1000.0, "read_noise": 5.0,
        "shot_noise": 1.0, "spike_rate": 0.0, "spike_height": (1.0, 5.0), "shift_jitter": 0.0,
    }  # fmt: skip
    unknown = set(options) - set(defaults)
    if unknown:
        raise ConfigError(
            "unknown option",
            expected="one of " + ", ".join(sorted(defaults)),
            got=", ".join(sorted(unknown)),
        )
    return {**defaults, **options}


def _settings(
    task, n_components, library, axis, n_classes, class_perturbation, class_spread,
    concentration_range, baseline, baseline_strength, intensity, read_noise, shot_noise,
    spike_rate, spike_height, shift_jitter, seed,
) -> _Settings:  # fmt: skip
    check_choice("task", task, TASKS)
    ax = DEFAULT_AXIS if axis is None else resolve_axis(axis)
    lib = _library(library, n_components, ax, seed)
    k = len(lib)
    if task == "classification":
        n_cls = k if n_classes is None else check_count("n_classes", n_classes, minimum=2)
        if n_cls < 2:
            raise ConfigError(
                "classification needs at least two classes",
                got=f"n_classes={n_cls}",
                fix="pass n_classes=2 or more (or n_components >= 2)",
            )
    else:
        n_cls = 0
    base = "none" if baseline is None else check_choice("baseline", baseline, BASELINES)
    intensity = check_nonnegative("intensity", intensity)
    if intensity == 0:
        raise ConfigError("intensity must be positive", got="0", fix="e.g. intensity=1000")
    return _Settings(
        task=task,
        library=lib,
        axis=ax,
        n_classes=n_cls,
        class_perturbation=check_nonnegative("class_perturbation", class_perturbation),
        class_spread=check_nonnegative("class_spread", class_spread),
        concentration_range=check_range("concentration_range", concentration_range),
        baseline=base,
        baseline_strength=check_range("baseline_strength", baseline_strength),
        intensity=intensity,
        read_noise=check_nonnegative("read_noise", read_noise),
        shot_noise=check_nonnegative("shot_noise", shot_noise),
        spike_rate=check_nonnegative("spike_rate", spike_rate),
        spike_height=check_range("spike_height", spike_height),
        shift_jitter=check_nonnegative("shift_jitter", shift_jitter),
    )


def _library(library, n_components, axis: SpectralAxis, seed) -> ComponentLibrary:
    if isinstance(library, ComponentLibrary):
        return library
    k = check_count("n_components", n_components)
    if library == "raman":
        from spectrakit.datasets._components import RAMAN_COMPONENTS

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
    lib_seed = _seed_sequence(seed, extra=False).spawn(1)[0]
    return ComponentLibrary.random(k, (axis.min, axis.max), seed=np.random.default_rng(lib_seed))


def _entropy(seed) -> int | None:
    """An integer seed from an int, a Generator (consumed once) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if seed is None:
        return int(np.random.SeedSequence().entropy % 2**63)  # type: ignore[operator]
    if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
        return int(seed)
    raise ConfigError("invalid seed", expected="an int, a numpy Generator or None", got=repr(seed))


def _seed_sequence(seed: int, *, extra: bool) -> np.random.SeedSequence:
    # The library uses one branch of the seed, samples/instruments/noise another, so a
    # random library does not change when other options (n_spectra, noise) change.
    return np.random.SeedSequence(seed, spawn_key=(1,) if extra else (0,))


def _instruments(instruments) -> list[Instrument]:
    if instruments is None:
        return [Instrument("default")]
    if isinstance(instruments, Instrument):
        return [instruments]
    insts = list(instruments)
    if not insts:
        raise ConfigError("no instruments given", expected="at least one Instrument", got="[]")
    for i in insts:
        if not isinstance(i, Instrument):
            raise ConfigError(
                "instruments must be Instrument objects",
                got=type(i).__name__,
                fix="spectrakit.datasets.Instrument('name', shift=..., ...)",
            )
    return insts


def _random_instruments(n: int, axis: SpectralAxis, rng: np.random.Generator) -> list[Instrument]:
    """Instruments with different ranges and spacings inside and around ``axis``."""
    span = axis.max - axis.min
    out = []
    for i in range(n):
        lo = axis.min + rng.uniform(-0.05, 0.08) * span
        hi = axis.max - rng.uniform(-0.05, 0.08) * span
        points = int(rng.integers(max(16, axis.n_points // 2), axis.n_points * 3 // 2 + 1))
        out.append(Instrument.random(f"instrument{i}", seed=rng, axis=(lo, hi, points)))
    return out


# --------------------------------------------------------------------------- samples
def _draw_samples(n: int, s: _Settings, rng: np.random.Generator) -> _Samples:
    k = len(s.library)
    class_index = None
    names: list[str] = []
    libraries = [s.library]
    if s.task == "regression":
        lo, hi = s.concentration_range
        conc = rng.uniform(lo, hi, (n, k))
    else:
        protos, names = _class_mixtures(s, rng)
        class_index = rng.integers(0, s.n_classes, n)
        spread = rng.lognormal(0.0, s.class_spread, (n, k)) if s.class_spread else 1.0
        conc = protos[class_index] * spread
        if s.class_perturbation > 0:
            d = s.class_perturbation
            libraries = [
                s.library.perturbed(
                    rng, shift=d, width=min(0.05 * d, 0.3), height=min(0.1 * d, 0.5)
                )
                for _ in range(s.n_classes)
            ]
    weights = baseline_weights(s.baseline, n, s.baseline_strength, rng)
    jitter = rng.normal(0.0, s.shift_jitter, n) if s.shift_jitter > 0 else None
    return _Samples(conc, class_index, names, libraries, weights, jitter)


def _class_mixtures(s: _Settings, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    k = len(s.library)
    if s.n_classes <= k:
        protos = rng.uniform(0.0, 0.15, (s.n_classes, k))
        protos[np.arange(s.n_classes), np.arange(s.n_classes)] = 1.0
        return protos, s.library.names[: s.n_classes]
    protos = rng.dirichlet(np.full(k, 0.5), s.n_classes) * 1.5
    return protos, [f"class{j}" for j in range(s.n_classes)]


# --------------------------------------------------------------------------- measuring
def _measure_on(
    samples: _Samples,
    rows: np.ndarray,
    inst: Instrument,
    s: _Settings,
    rng: np.random.Generator,
    *,
    components: bool,
) -> MeasureResult:
    grid = inst.grid(s.axis).values
    centre = 0.5 * (grid[0] + grid[-1])
    widths = [pk.fwhm for lib in samples.class_libraries for c in lib for pk in c.peaks]
    jitter = samples.jitter is not None
    per_class = [
        instrument_matrices(
            lib.matrix, inst, grid, centre=centre, min_width=min(widths), jitter=jitter
        )
        for lib in samples.class_libraries
    ]
    conc = samples.conc[rows] * s.intensity
    if len(per_class) > 1:  # class-specific libraries: block matrix, block concentrations
        k = conc.shape[1]
        big = np.zeros((rows.size, k * len(per_class)))
        cls = samples.class_index[rows]  # type: ignore[index]
        for j in range(len(per_class)):
            sel = cls == j
            big[sel, j * k : (j + 1) * k] = conc[sel]
        conc = big
        mats = [np.concatenate([m[i] for m in per_class]) for i in range(len(per_class[0]))]
    else:
        mats = per_class[0]
    true = inst.true_positions(grid, centre)
    basis = baseline_basis(s.baseline, true, (s.axis.min, s.axis.max))
    basis = basis * inst.response_curve(grid)
    noise = NoiseSettings(
        read_noise=s.read_noise if inst.read_noise is None else inst.read_noise,
        shot_noise=s.shot_noise if inst.shot_noise is None else inst.shot_noise,
        spike_rate=s.spike_rate if inst.spike_rate is None else inst.spike_rate,
        spike_height=(s.spike_height[0] * s.intensity, s.spike_height[1] * s.intensity),
        offset=inst.offset,
    )
    return measure(
        conc,
        mats,
        samples.jitter[rows] if jitter else None,  # type: ignore[index]
        samples.base_weights[rows] * s.intensity,
        basis,
        noise,
        rng,
        components=components,
    )


def _meta(samples: _Samples, s: _Settings, rows: np.ndarray, inst_names: list[str]):
    data: dict[str, Any] = {"sample_id": rows.astype(np.int64), "instrument": inst_names}
    for j, name in enumerate(s.library.names):
        data[f"c_{name}"] = samples.conc[rows, j]
    if samples.class_index is not None:
        data["label"] = np.asarray(samples.class_names, dtype=object)[samples.class_index[rows]]
    return pd.DataFrame(data)


def _components(blocks, n: int, samples: _Samples, s: _Settings, inst: Instrument) -> dict:
    p = blocks[0][1].values.shape[1]
    out: dict[str, Any] = {}
    for key in ("signal", "baseline", "noise", "spikes"):
        arr = np.empty((n, p), dtype=np.float32)
        for rows, res in blocks:
            arr[rows] = getattr(res, key)
        out[key] = arr
    out["spike_positions"] = np.concatenate(
        [np.stack([rows[res.spike_positions[:, 0]], res.spike_positions[:, 1]], axis=1)
         for rows, res in blocks]
    ).astype(np.int64)  # fmt: skip
    grid = inst.grid(s.axis).values
    centre = 0.5 * (grid[0] + grid[-1])
    widths = [pk.fwhm for c in s.library for pk in c.peaks]
    out["profiles"] = (
        instrument_matrices(s.library.matrix, inst, grid, centre=centre, min_width=min(widths),
                            jitter=False)[0] * np.float32(s.intensity)
    )  # fmt: skip
    out["concentrations"] = samples.conc.copy()
    out["names"] = s.library.names
    out["library"] = s.library
    return out
