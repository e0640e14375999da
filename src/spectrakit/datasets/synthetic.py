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
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.common_grid import combine
from spectrakit.core.errors import ConfigError
from spectrakit.core.spectra import Spectra
from spectrakit.datasets._baseline import baseline_basis
from spectrakit.datasets._instrument import Instrument, instrument_matrices
from spectrakit.datasets._measure import MeasureResult, NoiseSettings, measure
from spectrakit.datasets._peaks import make_peaks
from spectrakit.datasets._samples import Samples, draw_samples
from spectrakit.datasets._settings import (
    DEFAULT_AXIS,
    Settings,
    entropy,
    instrument_list,
    random_instruments,
    seed_sequence,
    settings_from,
)
from spectrakit.datasets._validate import check_count
from spectrakit.datasets.groups import BackgroundSettings, MeasurementSettings, MixtureSettings

__all__ = [
    "DEFAULT_AXIS",
    "BackgroundSettings",
    "Instrument",
    "MeasurementSettings",
    "MixtureSettings",
    "make_multi_instrument",
    "make_peaks",
    "make_synthetic",
]


# --------------------------------------------------------------------------- public API
def make_synthetic(
    n_spectra: int = 1000,
    *,
    task: str = "regression",
    axis: SpectralAxis | Sequence[float] | np.ndarray | tuple | None = None,
    instruments: Sequence[Instrument] | Instrument | None = None,
    mixture: MixtureSettings | None = None,
    background: BackgroundSettings | None = None,
    measurement: MeasurementSettings | None = None,
    seed: int | np.random.Generator | None = 0,
    return_components: bool = False,
    **fields: Any,
) -> Spectra | tuple[Spectra, dict[str, Any]]:
    """Generate spectra of known composition, measured by one or several instruments.

    Parameters
    ----------
    n_spectra : int, default=1000
        Number of spectra (one sample each).
    task : {"regression", "classification"}
        Regression: concentrations in meta columns ``c_<component>``. Classification:
        every class is a characteristic mixture, in a ``label`` column.
    axis : SpectralAxis, array-like, (start, stop, n_points) or None
        Grid of instruments without their own; default :data:`DEFAULT_AXIS`.
    instruments : Instrument or sequence of Instrument, optional
        Each spectrum is measured on one drawn uniformly at random (meta ``instrument``);
        different grids are brought onto their overlap with :func:`spectrakit.combine`.
    mixture, background, measurement : settings, optional
        :class:`MixtureSettings`, :class:`BackgroundSettings`, :class:`MeasurementSettings`.
    seed : int or numpy.random.Generator, optional
        Seed; the same seed gives the same data.
    return_components : bool, default=False
        Also return the exact parts (all grids must then be equal).
    **fields
        Any field of the three settings by name (``read_noise=2.0``); it overrides the
        same field of a settings object.

    Returns
    -------
    spectra : Spectra
        Values (n_spectra, n_points) float32; meta ``sample_id``, ``instrument``,
        ``c_<component>``, ``label`` (classification), ``axis_shift`` (with shift jitter).
    components : dict, only with ``return_components=True``
        ``signal``, ``baseline``, ``noise``, ``spikes`` ((n, p), summing to the values),
        ``spike_positions`` ((m, 2) row, column), ``profiles`` ((k, p) counts per unit
        concentration), ``concentrations`` ((n, k)), ``names``, ``library``.

    Examples
    --------
    >>> s = make_synthetic(200, mixture=MixtureSettings(library="raman", n_components=3))
    >>> s.shape, list(s.meta.columns)
    ((200, 1000), ['sample_id', 'instrument', 'c_glucose', 'c_acetate', 'c_sulfate'])
    """
    n, seed = check_count("n_spectra", n_spectra), entropy(seed)
    groups = {"mixture": mixture, "background": background, "measurement": measurement}
    settings = settings_from(seed, {"task": task, "axis": axis, **groups, **fields})
    return _generate(n, settings, instrument_list(instruments), seed, return_components)


def _generate(
    n: int, settings: Settings, insts: list[Instrument], seed: int, return_components: bool
) -> Spectra | tuple[Spectra, dict[str, Any]]:
    """``n`` samples drawn from the seed, each measured on an instrument drawn at random."""
    seeds = seed_sequence(seed, extra=True).spawn(3)
    samples = draw_samples(n, settings, np.random.default_rng(seeds[0]))
    grids = _grids(insts, settings, need_one=return_components)
    blocks, assign = _measure_assigned(samples, insts, settings, seeds, return_components)
    meta = _meta(samples, settings, np.arange(n), [insts[a].name for a in assign])
    spectra = _assemble(blocks, grids, meta)
    if not return_components:
        return spectra
    return spectra, _components(blocks, n, samples, settings, insts[0])


def _grids(insts: list[Instrument], settings: Settings, *, need_one: bool) -> list[SpectralAxis]:
    """Each instrument's grid; ``need_one`` refuses instruments whose grids differ."""
    grids = [inst.grid(settings.axis) for inst in insts]
    if need_one and not all(g.allclose(grids[0]) for g in grids):
        raise ConfigError(
            "return_components needs instruments that share one grid",
            got="; ".join(f"{i.name}: {g.describe()}" for i, g in zip(insts, grids, strict=True)),
            fix="use make_multi_instrument(..., return_components=True) for separate grids",
        )
    return grids


def _assemble(
    blocks: list[tuple[np.ndarray, MeasureResult]], grids: list[SpectralAxis], meta: pd.DataFrame
) -> Spectra:
    """One Spectra from the per-instrument blocks, rows in sample order.

    Blocks on one grid fill one matrix; on different grids they are combined on their
    common overlap (:func:`spectrakit.combine`).
    """
    if len(blocks) == 1:
        return Spectra(blocks[0][1].values, grids[0], meta)
    if all(g.allclose(grids[0]) for g in grids):
        values = np.empty((len(meta), grids[0].n_points), dtype=np.float32)
        for rows, res in blocks:
            values[rows] = res.values
        return Spectra(values, grids[0], meta)
    pieces = [
        Spectra(res.values, grids[j], meta.iloc[rows])
        for j, (rows, res) in enumerate(blocks)
        if rows.size
    ]
    spectra = combine(pieces)
    return spectra.select(np.argsort(spectra.meta["sample_id"].to_numpy(), kind="stable"))


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
        ``task``, ``axis``, ``mixture``, ``background``, ``measurement`` or any settings
        field by name, as in :func:`make_synthetic`.

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
    seed = entropy(seed)
    settings = settings_from(seed, options)
    seeds = seed_sequence(seed, extra=True).spawn(3)
    insts = _instruments(instruments, settings, np.random.default_rng(seeds[1]))
    samples = draw_samples(n, settings, np.random.default_rng(seeds[0]))
    blocks, comps = _measure_every(samples, insts, settings, seeds, return_components)
    out: dict[str, Spectra] | Spectra = combine(list(blocks.values()), grid) if combined else blocks
    return (out, comps) if return_components else out


def _instruments(
    instruments: Sequence[Instrument] | int, settings: Settings, rng: np.random.Generator
) -> list[Instrument]:
    """The given instruments validated, or that many random ones on different grids."""
    if isinstance(instruments, int | np.integer) and not isinstance(instruments, bool):
        return random_instruments(check_count("instruments", instruments), settings.axis, rng)
    return instrument_list(instruments)


def _instrument_rngs(
    insts: list[Instrument], seeds: list[np.random.SeedSequence]
) -> list[tuple[Instrument, np.random.Generator]]:
    """Every instrument with its own noise generator (the third branch of the seed)."""
    return [
        (inst, np.random.default_rng(ss))
        for inst, ss in zip(insts, seeds[2].spawn(len(insts)), strict=True)
    ]


def _measure_assigned(
    samples: Samples,
    insts: list[Instrument],
    settings: Settings,
    seeds: list[np.random.SeedSequence],
    components: bool,
) -> tuple[list[tuple[np.ndarray, MeasureResult]], np.ndarray]:
    """Every sample measured once, on an instrument drawn uniformly at random.

    Returns
    -------
    blocks : list of (rows, MeasureResult)
        One block per instrument: the sample rows it measured, in order, and their result.
    assign : ndarray of shape (n,)
        Index of the instrument that measured each sample.
    """
    n = samples.conc.shape[0]
    assign = np.random.default_rng(seeds[1]).integers(0, len(insts), n)
    blocks = []
    for j, (inst, rng) in enumerate(_instrument_rngs(insts, seeds)):
        rows = np.flatnonzero(assign == j)
        blocks.append(
            (rows, _measure_on(samples, rows, inst, settings, rng, components=components))
        )
    return blocks, assign


def _measure_every(
    samples: Samples,
    insts: list[Instrument],
    settings: Settings,
    seeds: list[np.random.SeedSequence],
    components: bool,
) -> tuple[dict[str, Spectra], dict[str, dict[str, Any]]]:
    """Every sample measured on every instrument.

    Returns ``{name: Spectra}`` and, when ``components``, ``{name: components}`` (else empty).
    """
    n = samples.conc.shape[0]
    rows = np.arange(n)
    blocks: dict[str, Spectra] = {}
    comps: dict[str, dict[str, Any]] = {}
    for inst, rng in _instrument_rngs(insts, seeds):
        res = _measure_on(samples, rows, inst, settings, rng, components=components)
        meta = _meta(samples, settings, rows, [inst.name] * n)
        blocks[inst.name] = Spectra(res.values, inst.grid(settings.axis), meta)
        if components:
            comps[inst.name] = _components([(rows, res)], n, samples, settings, inst)
    return blocks, comps


# --------------------------------------------------------------------------- measuring
def _measure_on(
    samples: Samples,
    rows: np.ndarray,
    inst: Instrument,
    s: Settings,
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


def _meta(samples: Samples, s: Settings, rows: np.ndarray, inst_names: list[str]):
    data: dict[str, Any] = {"sample_id": rows.astype(np.int64), "instrument": inst_names}
    for j, name in enumerate(s.library.names):
        data[f"c_{name}"] = samples.conc[rows, j]
    if samples.class_index is not None:
        data["label"] = np.asarray(samples.class_names, dtype=object)[samples.class_index[rows]]
    if samples.jitter is not None:
        data["axis_shift"] = samples.jitter[rows]
    return pd.DataFrame(data)


def _components(blocks, n: int, samples: Samples, s: Settings, inst: Instrument) -> dict:
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
