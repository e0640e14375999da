"""Synthetic generator speed: vectorized make_synthetic vs a naive per-spectrum loop.

Run: python benchmarks/synthetic.py [--n 100000] [--points 1000] [--naive 1000]

The naive loop is what a straightforward generator does for every spectrum: evaluate each
component's peaks on the grid, mix, add a background and noise. Both are timed in the same
run on the same machine; the table reports spectra per second and the speed-up.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from spectrakit.datasets import (
    ComponentLibrary,
    MeasurementSettings,
    MixtureSettings,
    make_synthetic,
)
from spectrakit.datasets._baseline import baseline_basis


def naive(n: int, axis: np.ndarray, library: ComponentLibrary, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, axis.size), dtype=np.float32)
    ref = (axis[0], axis[-1])
    for i in range(n):
        conc = rng.uniform(0.0, 1.0, len(library))
        signal = np.zeros(axis.size)
        for c, comp in zip(conc, library, strict=True):
            signal += c * comp.profile(axis)
        basis = baseline_basis("fluorescence", axis, ref)
        w = rng.gamma(0.6, 1.0, basis.shape[0])
        background = (w / w.sum() * rng.uniform(0.2, 2.0)) @ basis
        clean = 1000.0 * (signal + background)
        noisy = clean + rng.normal(0.0, 1.0, axis.size) * np.sqrt(np.maximum(clean, 0) + 25.0)
        out[i] = noisy
    return out


def timed(fn, *args, **kwargs) -> tuple[float, float]:
    """Wall-clock and CPU seconds (CPU shows the cost when other jobs share the cores)."""
    t, c = time.perf_counter(), time.process_time()
    fn(*args, **kwargs)
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="spectra for the vectorized run")
    parser.add_argument("--points", type=int, default=1000, help="points per spectrum")
    parser.add_argument("--naive", type=int, default=1000, help="spectra for the naive loop")
    args = parser.parse_args()
    axis = np.linspace(400.0, 1800.0, args.points)
    library = ComponentLibrary.random(4, (400.0, 1800.0), seed=0)
    mixture = MixtureSettings(library=library)
    make_synthetic(100, axis=axis, mixture=mixture, seed=0)  # warm-up (imports, BLAS)

    rows = []
    t_naive = timed(naive, args.naive, axis, library)
    rows.append(("naive per-spectrum loop", args.naive, *t_naive))
    configs = [
        ("make_synthetic (noise + fluorescence)", {}),
        (
            "make_synthetic (+ spikes, shift jitter)",
            {"measurement": MeasurementSettings(spike_rate=1.0, shift_jitter=0.5)},
        ),
        ("make_synthetic (+ 3 instruments, resolution)", {"_instruments": True}),
    ]
    for name, kw in configs:
        if kw.pop("_instruments", False):
            from spectrakit.datasets import Instrument

            kw["instruments"] = [
                Instrument("a"),
                Instrument("b", shift=2.0, resolution=6.0, response=(0.2,)),
                Instrument("c", stretch=0.002, resolution=3.0),
            ]
        t = timed(make_synthetic, args.n, mixture=mixture, axis=axis, seed=0, **kw)
        rows.append((name, args.n, *t))

    base_rate = args.naive / t_naive[0]
    base_cpu_rate = args.naive / t_naive[1]
    cpus = os.cpu_count()
    print(f"synthetic spectra, {args.points} points each, {cpus} CPU(s) visible")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    cols = ("method", "spectra", "wall s", "cpu s", "spectra/s", "ratio", "cpu ratio")
    print("{:<46} {:>8} {:>8} {:>8} {:>10} {:>7} {:>9}".format(*cols))
    for name, n, t, cpu in rows:
        rate = n / t
        cells = (name, n, f"{t:.2f}", f"{cpu:.2f}", f"{rate:.0f}", f"{rate / base_rate:.0f}x")
        cpu_ratio = f"{n / cpu / base_cpu_rate:.0f}x"
        print("{:<46} {:>8} {:>8} {:>8} {:>10} {:>7}".format(*cells), f"{cpu_ratio:>9}")


if __name__ == "__main__":
    main()
