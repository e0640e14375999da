"""Baseline-correction speed: spectrakit's batched methods vs pybaselines and chemotools.

Run: python benchmarks/preprocessing.py [--n 10000] [--points 1000] [--ref-n N]
     [--methods asls,arpls,...] [--block 1000] [--pipeline-n 20000]

Every method runs on the same realistic spectra (Gaussian/Lorentzian bands on a sloped,
fluorescent background with noise) in the same process; the libraries take turns block by
block (``--block`` spectra), so changes in machine load hit them alike. The reference is
pybaselines called once per spectrum (what a user writes); chemotools' transformers run
where an equivalent exists (their algorithms differ in details, so only their time is
compared). ``max |diff| / range`` is the largest difference from pybaselines relative to
the spectrum's intensity range. ``--ref-n`` times the references on part of the spectra
(spread over the blocks) and scales their time to ``--n`` (flagged with ``*``).

A second table times one spectrum at a time (interactive use, a prediction service).
The last section measures the throughput of the whole ``raman-default`` preprocessing
pipeline and of each of its steps, to show which step bounds it (steady state: after a
warm-up call, best of ``--repeat`` runs).

A further section scores asPLS where spectrakit and pybaselines differ, on the asPLS
objective itself (see ``aspls_objective.py``). The first line says which SIMD level numba
compiles for on this CPU.

The compiled kernels are built (or loaded from numba's disk cache) by a warm-up call
before any timing.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from pybaselines import Baseline

import aspls_objective
from spectrakit.preprocessing import baseline as bl

# method name -> (spectrakit step, pybaselines method + kwargs, chemotools factory or None)
CHEMOTOOLS: dict[str, Callable[[], Any]] = {}
try:  # optional: chemotools is in the `datasets` extra
    from chemotools.baseline import AirPls, ArPls, AsLs, RubberbandCorrection

    CHEMOTOOLS = {
        "asls": lambda: AsLs(lam=1e6, penalty=1e-2, nr_iterations=50),
        "arpls": lambda: ArPls(lam=1e5, nr_iterations=50),
        "airpls": lambda: AirPls(lam=1e6, nr_iterations=50),
        "rubberband": lambda: RubberbandCorrection(),
    }
except ImportError:  # pragma: no cover - optional dependency
    pass

METHODS: dict[str, tuple[Any, str | None, dict]] = {
    "asls": (bl.AsLS(), "asls", {}),
    "arpls": (bl.ArPLS(), "arpls", {}),
    "airpls": (bl.AirPLS(), "airpls", {}),
    "aspls": (bl.AsPLS(), "aspls", {}),
    "drpls": (bl.DrPLS(), "drpls", {}),
    "modpoly": (bl.ModPoly(poly_order=3), "modpoly", {"poly_order": 3}),
    "imodpoly": (bl.IModPoly(poly_order=3), "imodpoly", {"poly_order": 3}),
    "snip": (bl.SNIP(max_half_window=40), "snip", {"max_half_window": 40}),
    "rubberband": (bl.Rubberband(), None, {}),
}


def realistic_spectra(n: int, points: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(axis (points,), spectra (n, points)): 8 bands each on a fluorescent background."""
    rng = np.random.default_rng(seed)
    x = np.linspace(400.0, 1800.0, points)
    t = (x - x[0]) / (x[-1] - x[0])
    Y = np.empty((n, points))
    for start in range(0, n, 2000):
        m = min(2000, n - start)
        center = rng.uniform(450.0, 1750.0, (m, 8, 1))
        width = rng.uniform(4.0, 15.0, (m, 8, 1))
        height = rng.uniform(0.5, 3.0, (m, 8, 1))
        u = (x - center) / width
        gauss = rng.random((m, 8, 1)) < 0.5
        bands = (height * np.where(gauss, np.exp(-0.5 * u**2), 1.0 / (1.0 + u**2))).sum(axis=1)
        background = (
            5.0
            + rng.uniform(1.0, 6.0, (m, 1)) * t
            + rng.uniform(1.0, 4.0, (m, 1)) * np.exp(-(((t - 0.2) / 0.6) ** 2))
        )
        Y[start : start + m] = background + bands + rng.normal(0.0, 0.02, (m, points))
    return x, Y


def simd_level() -> str:
    """The widest vector instruction set numba compiles for on this CPU (and the CPU name)."""
    import llvmlite.binding as llvm

    features = llvm.get_host_cpu_features()
    level = next(
        (
            name
            for key, name in (
                ("avx512f", "AVX-512"),
                ("avx2", "AVX2"),
                ("avx", "AVX"),
                ("sse4.2", "SSE4.2"),
            )
            if features.get(key)
        ),
        "SSE2 or none",
    )
    return f"{level} (cpu {llvm.get_host_cpu_name()})"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def pybaselines_loop(name: str, x: np.ndarray, Y: np.ndarray, kwargs: dict) -> np.ndarray:
    fitter = Baseline(x)
    method = getattr(fitter, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.stack([method(y, **kwargs)[0] for y in Y])


def baseline_table(n: int, points: int, ref_n: int, methods: list[str], block: int) -> None:
    """Time every method on the same spectra, block by block.

    spectrakit, pybaselines and chemotools take turns on each block of ``block`` spectra,
    so a change in machine load during the run affects all three alike.
    """
    x, Y = realistic_spectra(n, points)
    ref_n = min(ref_n, n)
    n_blocks = max(1, -(-n // block))
    ref_per_block = max(1, ref_n // n_blocks)
    timed_ref = 0
    flag = "*" if ref_n < n else ""
    print(f"\n## Baselines: {n} spectra x {points} points (cores: {os.cpu_count()})\n")
    print(
        "| method | n_spectra x n_points | spectrakit s | pybaselines loop s | ratio "
        "| chemotools s | ratio | max abs diff | max |diff| / range |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in methods:
        step, ref_name, ref_kwargs = METHODS[name]
        step.baseline(Y[:4], axis=x)  # compile kernels / warm caches outside the timing
        chemo = CHEMOTOOLS[name]() if name in CHEMOTOOLS else None
        if chemo is not None:
            chemo.fit(Y[:4])
        t_ours = t_ref = t_chemo = 0.0
        diff_max = rel_max = 0.0
        timed_ref = 0
        for start in range(0, n, block):
            rows = Y[start : start + block]
            dt, ours = timed(lambda s=step, r=rows: s.baseline(r, axis=x))
            t_ours += dt
            sub = rows[:ref_per_block]
            timed_ref += len(sub)
            if ref_name is not None:
                dt, ref = timed(
                    lambda r=ref_name, k=ref_kwargs, s=sub: pybaselines_loop(r, x, s, k)
                )
                t_ref += dt
                diff = np.abs(ours[: len(sub)] - ref)
                diff_max = max(diff_max, float(diff.max()))
                rel_max = max(rel_max, float((diff.max(axis=1) / np.ptp(sub, axis=1)).max()))
            if chemo is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    dt, _ = timed(lambda c=chemo, s=sub: c.transform(s))
                t_chemo += dt
        scale = n / timed_ref
        cols = ["—"] * 6
        if ref_name is not None:
            t_ref *= scale
            cols[:2] = [f"{t_ref:.2f}{flag}", f"{t_ref / t_ours:.1f}x"]
            cols[4:] = [f"{diff_max:.1e}", f"{rel_max:.1e}"]
        if chemo is not None:
            t_chemo *= scale
            cols[2:4] = [f"{t_chemo:.2f}{flag}", f"{t_chemo / t_ours:.1f}x"]
        print(f"| {name} | {n} x {points} | {t_ours:.2f} | " + " | ".join(cols) + " |")
    if flag:
        print(f"\n`*` references timed on {timed_ref} of the {n} spectra and scaled to {n}.")


# ----------------------------------------------------------------------------------------
# raman-default pipeline throughput (spectra per second), per step and end to end
# ----------------------------------------------------------------------------------------
def single_spectrum_latency(points: int, repeat: int = 50) -> None:
    """Time to correct one spectrum (interactive use, serving): spectrakit vs pybaselines."""
    x, Y = realistic_spectra(1, points, seed=2)
    print(f"\n## One spectrum of {points} points (median of {repeat} calls)\n")
    print("| method | spectrakit ms | pybaselines ms | ratio |")
    print("|---|---|---|---|")
    for name in ("asls", "arpls", "airpls", "aspls", "drpls"):
        step, ref_name, ref_kwargs = METHODS[name]
        step.baseline(Y, axis=x)
        ours = np.median([timed(lambda s=step: s.baseline(Y, axis=x))[0] for _ in range(repeat)])
        ref = np.median(
            [
                timed(lambda r=ref_name, k=ref_kwargs: pybaselines_loop(r, x, Y, k))[0]
                for _ in range(repeat)
            ]
        )
        print(f"| {name} | {ours * 1e3:.2f} | {ref * 1e3:.2f} | {ref / ours:.1f}x |")


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Smallest wall time of ``repeat`` calls of ``fn`` (and the last result)."""
    best, out = float("inf"), None
    for _ in range(max(1, repeat)):
        dt, out = timed(fn)
        best = min(best, dt)
    return best, out


def pipeline_throughput(n: int, points: int, repeat: int = 3) -> None:
    """Throughput of ``get_pipeline("raman-default")`` and of each of its steps."""
    print(f"\n## Pipeline `raman-default`: {n} spectra x {points} points\n")
    try:
        from spectrakit import Spectra
        from spectrakit.preprocessing import get_pipeline
    except ImportError as exc:  # the pipeline module is optional for this benchmark
        print(f"skipped: {exc}")
        return
    _, Y = realistic_spectra(n, points, seed=1)
    axis = np.linspace(300.0, 1942.0, points)
    spectra = Spectra(Y.astype(np.float32), axis, unit="cm-1", kind="raman_shift")
    pipeline = get_pipeline("raman-default")
    pipeline.fit(spectra[:16])
    pipeline.transform(spectra[:64])  # load the compiled kernels outside the timing
    total, _ = best_time(lambda: pipeline.transform(spectra), repeat)
    print(f"best of {repeat} runs\n")
    print("| step | s | spectra/s |")
    print("|---|---|---|")
    current = spectra
    before_baseline = spectra
    for name, step in pipeline.steps:
        if isinstance(step, bl.BaselineCorrection):
            before_baseline = current
        step_time, current = best_time(lambda s=step, c=current: s.fit(c).transform(c), repeat)
        print(f"| {name} ({type(step).__name__}) | {step_time:.2f} | {n / step_time:,.0f} |")
    print(f"| **whole pipeline** | {total:.2f} | **{n / total:,.0f}** |")
    print("\nOther baseline steps on the same (smoothed) spectra:\n")
    print("| baseline step | s | spectra/s |")
    print("|---|---|---|")
    for alternative in (bl.AsLS(), bl.ArPLS(), bl.AirPLS(), bl.SNIP(), bl.Rubberband()):
        alternative.baseline(before_baseline[:4])
        step_time, _ = best_time(lambda a=alternative: a.baseline(before_baseline), repeat)
        print(f"| {alternative!r} | {step_time:.2f} | {n / step_time:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of spectra")
    parser.add_argument("--points", type=int, default=1000, help="points per spectrum")
    parser.add_argument(
        "--ref-n", type=int, default=None, help="spectra timed for the references (default: n)"
    )
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated names")
    parser.add_argument(
        "--block", type=int, default=1000, help="spectra per block (methods take turns)"
    )
    parser.add_argument(
        "--pipeline-n", type=int, default=None, help="spectra for the pipeline (default: n)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="pipeline timings: best of this many runs"
    )
    parser.add_argument(
        "--aspls-n", type=int, default=300, help="spectra for the asPLS objective comparison"
    )
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {sorted(METHODS)}")
    print(f"numba SIMD target: {simd_level()}")
    baseline_table(args.n, args.points, args.ref_n or args.n, methods, args.block)
    if args.aspls_n > 0:
        x, Y = realistic_spectra(args.aspls_n, args.points)
        aspls_objective.report(Y, x)
    single_spectrum_latency(args.points)
    pipeline_throughput(args.pipeline_n or args.n, args.points, args.repeat)


if __name__ == "__main__":
    main()
