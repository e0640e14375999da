"""The vectorized measurement loop: mixtures, backgrounds, noise and spikes in row chunks.

Per chunk of rows everything is a handful of float32 matrix products and element-wise
operations; there is no Python loop over spectra. The chunk size is fixed so the random
stream, hence the output, does not depend on memory settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CHUNK", "MeasureResult", "NoiseSettings", "measure"]

CHUNK = 4096


@dataclass(frozen=True)
class NoiseSettings:
    """Noise levels of one measurement run (counts)."""

    read_noise: float
    shot_noise: float
    spike_rate: float
    spike_height: tuple[float, float]
    offset: float


@dataclass
class MeasureResult:
    """Measured values and, on request, their exact parts."""

    values: np.ndarray
    signal: np.ndarray | None = None
    baseline: np.ndarray | None = None
    noise: np.ndarray | None = None
    spikes: np.ndarray | None = None
    spike_positions: np.ndarray | None = None  # (m, 2) rows, columns of the spike maxima


def measure(
    conc: np.ndarray,
    mats: list[np.ndarray],
    jitter: np.ndarray | None,
    base_weights: np.ndarray,
    base_matrix: np.ndarray,
    noise: NoiseSettings,
    rng: np.random.Generator,
    *,
    components: bool = False,
) -> MeasureResult:
    """Simulate ``conc.shape[0]`` measurements on one instrument.

    Parameters
    ----------
    conc : ndarray of shape (n, k)
        Concentrations (already scaled to counts).
    mats : list of ndarray of shape (k, p)
        Instrument profile matrix and, with jitter, its first/second shift derivatives.
    jitter : ndarray of shape (n,) or None
        Per-spectrum extra shifts (axis units).
    base_weights : ndarray of shape (n, m)
        Baseline weights (counts).
    base_matrix : ndarray of shape (m, p)
        Baseline basis as this instrument reports it.
    noise : NoiseSettings
    rng : numpy.random.Generator
    components : bool
        Keep signal, baseline, noise and spikes separately.

    Returns
    -------
    MeasureResult
    """
    n, p = conc.shape[0], mats[0].shape[1]
    values = np.empty((n, p), dtype=np.float32)
    parts = {k: np.empty((n, p), dtype=np.float32) for k in ("signal", "baseline", "noise")}
    spikes = np.zeros((n, p), dtype=np.float32) if components else None
    positions = []
    conc32 = conc.astype(np.float32)
    weights32 = base_weights.astype(np.float32)
    basis32 = base_matrix.astype(np.float32)
    read2 = np.float32(noise.read_noise**2)
    shot2 = np.float32(noise.shot_noise**2)
    for start in range(0, n, CHUNK):
        sl = slice(start, min(start + CHUNK, n))
        c = conc32[sl]
        signal = c @ mats[0]
        if jitter is not None and len(mats) == 3:
            d = jitter[sl, None].astype(np.float32)
            signal += (c * d) @ mats[1]
            signal += (c * (0.5 * d * d)) @ mats[2]
        baseline = weights32[sl] @ basis32 if basis32.shape[0] else np.zeros_like(signal)
        if noise.offset:
            baseline += np.float32(noise.offset)
        clean = signal + baseline
        # Poisson shot noise (variance = shot^2 * counts) plus Gaussian read noise, drawn as
        # one Gaussian with the summed variance.
        std = np.maximum(clean, 0.0)
        std *= shot2
        std += read2
        np.sqrt(std, out=std)
        eps = rng.standard_normal(clean.shape, dtype=np.float32)
        eps *= std
        out = values[sl]
        np.add(clean, eps, out=out)
        if noise.spike_rate > 0:
            rows, cols, amp, n_main = _spikes(sl.stop - sl.start, p, noise, rng)
            np.add.at(out, (rows, cols), amp)
            if spikes is not None:
                np.add.at(spikes[sl], (rows, cols), amp)
            positions.append(np.stack([rows[:n_main] + start, cols[:n_main]], axis=1))
        if components:
            parts["signal"][sl] = signal
            parts["baseline"][sl] = baseline
            parts["noise"][sl] = eps
    result = MeasureResult(values)
    if components:
        result.signal, result.baseline, result.noise = (parts[k] for k in parts)
        result.spikes = spikes
        result.spike_positions = (
            np.concatenate(positions) if positions else np.zeros((0, 2), dtype=np.int64)
        )
    return result


def _spikes(
    m: int, p: int, noise: NoiseSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Cosmic rays: Poisson count per spectrum; one or two points wide.

    Returns rows, columns and amplitudes; the first ``n_main`` entries are the spike
    maxima (``n_main``, one per spike), followed by the weaker neighbour points of two-point spikes.
    """
    counts = rng.poisson(noise.spike_rate, m)
    rows = np.repeat(np.arange(m), counts)
    cols = rng.integers(0, p, rows.size)
    amp = rng.uniform(noise.spike_height[0], noise.spike_height[1], rows.size).astype(np.float32)
    wide = (rng.random(rows.size) < 0.5) & (cols + 1 < p)
    side = (amp[wide] * rng.uniform(0.2, 0.6, int(wide.sum()))).astype(np.float32)
    return (
        np.concatenate([rows, rows[wide]]),
        np.concatenate([cols, cols[wide] + 1]),
        np.concatenate([amp, side]),
        int(rows.size),
    )
