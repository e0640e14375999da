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
        Instrument profile matrix and, with jitter, its first three shift derivatives.
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
    (a_all, b_all), k_signal = _design(conc, mats, jitter, base_weights, base_matrix, noise.offset)
    values = np.empty((n, p), dtype=np.float32)
    names = ("signal", "baseline", "noise", "spikes") if components else ()
    parts = {k: (np.zeros if k == "spikes" else np.empty)((n, p), dtype=np.float32) for k in names}
    bufs = [np.empty((min(CHUNK, n), p), dtype=np.float32) for _ in range(3)]  # clean, std, eps
    positions = []
    for start in range(0, n, CHUNK):
        sl = slice(start, min(start + CHUNK, n))
        clean = _clean(a_all[sl], b_all, k_signal, parts, sl, bufs[0])
        eps = _add_noise(clean, values[sl], noise, rng, bufs[1], bufs[2])
        if components:
            parts["noise"][sl] = eps
        if noise.spike_rate > 0:
            rows, cols, amp, n_main = _spikes(sl.stop - start, p, noise, rng)
            np.add.at(values[sl], (rows, cols), amp)
            if components:
                np.add.at(parts["spikes"][sl], (rows, cols), amp)
            positions.append(np.stack([rows[:n_main] + start, cols[:n_main]], axis=1))
    result = MeasureResult(values)
    if components:
        vars(result).update(parts)  # signal, baseline, noise, spikes
        result.spike_positions = (
            np.concatenate(positions) if positions else np.zeros((0, 2), dtype=np.int64)
        )
    return result


def _clean(
    a: np.ndarray,
    b_all: np.ndarray,
    k_signal: int,
    parts: dict[str, np.ndarray],
    sl: slice,
    buf: np.ndarray,
) -> np.ndarray:
    """Noise-free counts of one chunk (m, p); signal and background kept in ``parts``."""
    if not parts:  # signal and background in one product, into a reused buffer
        return np.matmul(a, b_all, out=buf[: a.shape[0]])
    signal = a[:, :k_signal] @ b_all[:k_signal]
    baseline = a[:, k_signal:] @ b_all[k_signal:]
    parts["signal"][sl] = signal
    parts["baseline"][sl] = baseline
    return signal + baseline


def _add_noise(
    clean: np.ndarray,
    out: np.ndarray,
    noise: NoiseSettings,
    rng: np.random.Generator,
    std_buf: np.ndarray,
    eps_buf: np.ndarray,
) -> np.ndarray:
    """``out = clean + noise``; returns the noise (a view of ``eps_buf``).

    Poisson shot noise (variance = shot^2 * counts) plus Gaussian read noise, drawn as one
    Gaussian with the summed variance.
    """
    m = clean.shape[0]
    std, eps = std_buf[:m], eps_buf[:m]
    np.maximum(clean, 0.0, out=std)
    shot2, read2 = np.float32(noise.shot_noise**2), np.float32(noise.read_noise**2)
    if shot2 != 1:
        std *= shot2
    if read2:
        std += read2
    np.sqrt(std, out=std)
    rng.standard_normal(dtype=np.float32, out=eps)
    eps *= std
    np.add(clean, eps, out=out)
    return eps


def _design(
    conc: np.ndarray,
    mats: list[np.ndarray],
    jitter: np.ndarray | None,
    weights: np.ndarray,
    basis: np.ndarray,
    offset: float,
) -> tuple[tuple[np.ndarray, np.ndarray], int]:
    """``A (n, q)`` and ``B (q, p)`` with ``A @ B`` = clean spectra; the first columns are signal.

    Third-order Taylor expansion in the per-spectrum shift d:
    ``M(d) ~ M0 + d M1 + d^2 / 2 M2 + d^3 / 6 M3`` with M1..M3 the shift derivatives.
    """
    c = conc.astype(np.float32)
    cols, rows = [c], [mats[0]]
    if jitter is not None and len(mats) == 4:
        d = jitter[:, None].astype(np.float32)
        cols += [c * d, c * (d * d / 2), c * (d * d * d / 6)]
        rows += mats[1:]
    k_signal = sum(x.shape[1] for x in cols)
    if basis.shape[0]:
        cols.append(weights.astype(np.float32))
        rows.append(basis.astype(np.float32))
    if offset:
        cols.append(np.ones((c.shape[0], 1), dtype=np.float32))
        rows.append(np.full((1, basis.shape[1]), offset, dtype=np.float32))
    a = np.ascontiguousarray(np.concatenate(cols, axis=1))
    b = np.ascontiguousarray(np.concatenate(rows, axis=0), dtype=np.float32)
    return (a, b), k_signal


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
