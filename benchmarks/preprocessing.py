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
The pipeline section measures the throughput of the whole ``raman-default`` pipeline and
of each of its steps (wall and CPU time: on a shared machine spectra per CPU second is the
steadier figure), beside a peer pipeline whose smoothing and asPLS are SciPy's and
pybaselines' (steady state: after a warm-up call, best of ``--repeat`` runs). The last
section runs ``spectrakit preprocess`` end to end on a ``--e2e-n`` x ``--points`` Parquet
file in a child process (read, pipeline and write overlapped in blocks) and reports its
wall and CPU time and peak memory.

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
    from numba.core import config

    name, wanted = config.CPU_NAME, config.CPU_FEATURES
    if name or wanted:  # NUMBA_CPU_NAME / NUMBA_CPU_FEATURES override the host
        avx512 = wanted is not None and "+avx512f" in wanted
        level = "AVX-512" if avx512 else ("AVX2" if wanted and "+avx2" in wanted else level)
        return f"{level} (NUMBA_CPU_NAME={name}; host cpu {llvm.get_host_cpu_name()})"
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


def cpu_timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(best wall s, CPU s of that run, last result) of ``repeat`` calls of ``fn``."""
    best, cpu, out = float("inf"), 0.0, None
    for _ in range(max(1, repeat)):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, out


def raman_block(n: int, points: int) -> Any:
    """``n`` realistic spectra on the 300-1942 cm-1 axis of ``raman-default``, as Spectra."""
    from spectrakit import Spectra

    _, Y = realistic_spectra(n, points, seed=1)
    axis = np.linspace(300.0, 1942.0, points)
    return Spectra(Y.astype(np.float32), axis, unit="cm-1", kind="raman_shift")


def peer_pipeline(spectra: Any, pipeline: Any) -> np.ndarray:
    """``raman-default`` with its smoothing and asPLS done by SciPy and pybaselines.

    Crop and despiking are spectrakit's (no peer does both); the Savitzky-Golay filter is
    :func:`scipy.signal.savgol_filter` and the baseline pybaselines' ``aspls`` called once
    per spectrum, with the preset's parameters.
    """
    from scipy.signal import savgol_filter

    crop, despike, smooth, base = (step for _, step in pipeline.steps[:4])
    X = despike.transform(crop.transform(np.asarray(spectra.values, dtype=np.float64)))
    x = crop.output_axis(spectra.axis).values
    X = savgol_filter(X, smooth.window, smooth.polyorder, axis=1, mode="interp")
    return X - pybaselines_loop("aspls", x, X, {"lam": base.lam})


def pipeline_throughput(n: int, points: int, repeat: int = 3, peer_n: int = 200) -> None:
    """Throughput of ``raman-default`` and of each step (wall and CPU), with its peer."""
    from spectrakit.preprocessing import get_pipeline

    print(f"\n## Pipeline `raman-default`: {n} spectra x {points} points\n")
    spectra = raman_block(n, points)
    pipeline = get_pipeline("raman-default")
    pipeline.fit(spectra[:16])
    pipeline.transform(spectra[:64])  # load the compiled kernels outside the timing
    total, total_cpu, _ = cpu_timed(lambda: pipeline.transform(spectra), repeat)
    peer_n = min(peer_n, n)
    peer, peer_cpu, _ = cpu_timed(lambda: peer_pipeline(spectra[:peer_n], pipeline), 1)
    print(f"best of {repeat} runs; CPU s counts every thread (the machine may be shared)\n")
    print("| step | wall s | CPU s | spectra/s | spectra per CPU s |")
    print("|---|---|---|---|---|")
    current = before = spectra
    for name, step in pipeline.steps:
        if isinstance(step, bl.BaselineCorrection):
            before = current
        step.fit(current)  # Whittaker fits compute the baselines too: not timed
        wall, cpu, current = cpu_timed(lambda s=step, c=current: s.transform(c), repeat)
        print(f"| {name} ({type(step).__name__}) | {wall:.2f} | {cpu:.2f} | {n / wall:,.0f} "
              f"| {n / cpu:,.0f} |")  # fmt: skip
    print(f"| **whole pipeline** | {total:.2f} | {total_cpu:.2f} | **{n / total:,.0f}** "
          f"| {n / total_cpu:,.0f} |")  # fmt: skip
    print(f"| peer: SciPy + pybaselines loop ({peer_n} spectra) | {peer:.2f} | {peer_cpu:.2f} "
          f"| {peer_n / peer:,.0f} | {peer_n / peer_cpu:,.0f} |")  # fmt: skip
    print(f"\nwhole pipeline vs peer: {(n / total) / (peer_n / peer):.1f}x (wall), "
          f"{(n / total_cpu) / (peer_n / peer_cpu):.1f}x (CPU)")  # fmt: skip
    print("\nOther baseline steps on the same spectra (before the baseline step):\n")
    print("| baseline step | wall s | CPU s | spectra/s |")
    print("|---|---|---|---|")
    others = (bl.AsPLS(method="reference"), bl.AsLS(), bl.ArPLS(), bl.AirPLS(), bl.SNIP())
    for alternative in (*others, bl.Rubberband()):
        alternative.baseline(before[:4])
        wall, cpu, _ = cpu_timed(lambda a=alternative: a.baseline(before), repeat)
        print(f"| {alternative!r} | {wall:.2f} | {cpu:.2f} | {n / wall:,.0f} |")


def end_to_end(n: int, points: int, block: int = 1024) -> None:
    """``spectrakit preprocess in.parquet --out out.parquet`` in a child process.

    The child streams (read, pipeline and write overlap, a few blocks in memory); its wall
    time, CPU time and peak memory are reported, beside the in-process pipeline on the
    same spectra in memory (the peer: no file reading or writing, no start-up).
    """
    import resource
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from spectrakit import write
    from spectrakit.preprocessing import get_pipeline

    print(f"\n## End to end: `spectrakit preprocess` Parquet to Parquet, {n} x {points}\n")
    spectra = raman_block(n, points)
    with tempfile.TemporaryDirectory(prefix="spectrakit-bench-") as tmp:
        src, out = Path(tmp) / "in.parquet", Path(tmp) / "out.parquet"
        write(spectra, src)
        tiny, tiny_out = Path(tmp) / "tiny.parquet", Path(tmp) / "tiny_out.parquet"
        write(spectra[:8], tiny)

        def run(path: Path, target: Path) -> tuple[float, float, Any]:
            cmd = [sys.executable, "-m", "spectrakit", "preprocess", str(path), "--out",
                   str(target), "--block-size", str(block)]  # fmt: skip
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            return wall, cpu, after

        start_wall, start_cpu, _ = run(tiny, tiny_out)  # start-up: imports, cached kernels
        wall, cpu, after = run(src, out)
    pipe = get_pipeline("raman-default").fit(spectra[:16])
    pipe.transform(spectra[:64])
    peer, peer_cpu, _ = cpu_timed(lambda: pipe.transform(spectra), 1)
    print("| run | wall s | CPU s | spectra/s | spectra per CPU s | peak memory MB |")
    print("|---|---|---|---|---|---|")
    print(f"| `spectrakit preprocess` (process start included) | {wall:.2f} | {cpu:.2f} "
          f"| {n / wall:,.0f} | {n / cpu:,.0f} | {after.ru_maxrss / 1024:.0f} |")  # fmt: skip
    print(f"| start-up alone (8 spectra) | {start_wall:.2f} | {start_cpu:.2f} | | | |")
    steady = max(wall - start_wall, 1e-9)
    print(f"| `spectrakit preprocess`, start-up subtracted | {steady:.2f} "
          f"| {cpu - start_cpu:.2f} | {n / steady:,.0f} | {n / max(cpu - start_cpu, 1e-9):,.0f} "
          "| |")  # fmt: skip
    print(f"| in-process pipeline, array in memory | {peer:.2f} | {peer_cpu:.2f} "
          f"| {n / peer:,.0f} | {n / peer_cpu:,.0f} | |")  # fmt: skip
    ref = get_pipeline("raman-default").fit(spectra[:16])
    ref.steps[-1][1].set_params(method="reference")
    ref.transform(spectra[:64])
    r_wall, r_cpu, _ = cpu_timed(lambda: ref.transform(spectra), 1)
    print(f"| in-process pipeline, AsPLS method='reference' | {r_wall:.2f} | {r_cpu:.2f} "
          f"| {n / r_wall:,.0f} | {n / r_cpu:,.0f} | |")  # fmt: skip
    peer_n = min(200, n)
    p_wall, p_cpu, _ = cpu_timed(lambda: peer_pipeline(spectra[:peer_n], pipe), 1)
    print(f"| peer: SciPy + pybaselines loop, in memory ({peer_n} spectra) | {p_wall:.2f} "
          f"| {p_cpu:.2f} | {peer_n / p_wall:,.0f} | {peer_n / p_cpu:,.0f} | |")  # fmt: skip


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
    parser.add_argument(
        "--e2e-n", type=int, default=10_000, help="spectra for the end-to-end CLI run (0: skip)"
    )
    parser.add_argument(
        "--sections", default="baselines,aspls,latency,pipeline,e2e", help="what to run"
    )
    args = parser.parse_args()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {sorted(METHODS)}")
    sections = {s.strip() for s in args.sections.split(",")}
    print(f"numba SIMD target: {simd_level()}")
    if "baselines" in sections:
        baseline_table(args.n, args.points, args.ref_n or args.n, methods, args.block)
    if args.aspls_n > 0 and "aspls" in sections:
        x, Y = realistic_spectra(args.aspls_n, args.points)
        aspls_objective.report(Y, x, show=12)
    if "latency" in sections:
        single_spectrum_latency(args.points)
    if "pipeline" in sections:
        pipeline_throughput(args.pipeline_n or args.n, args.points, args.repeat)
    if args.e2e_n > 0 and "e2e" in sections:
        end_to_end(args.e2e_n, args.points)


if __name__ == "__main__":
    main()
