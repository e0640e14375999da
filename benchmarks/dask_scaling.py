"""Dask scaling of ``spectrakit.distributed.preprocess``: 1 and 2 workers vs one process.

Run: python benchmarks/dask_scaling.py [--spectra 40000] [--points 1000] [--chunk 5000]
     [--pipeline raman-default] [--workers 1,2]

A Zarr corpus of ``--spectra`` synthetic Raman-like spectra is written once; the peer is
the in-process ``pipeline.fit_transform`` on the array in memory (this process, all its
threads); then the same pipeline runs through a ``local:N`` cluster of N single-threaded
worker processes, reading chunks from the store and writing a new Zarr store. Cluster
start-up (and loading the compiled kernels in every worker) is reported apart from the
job. Printed: wall seconds, CPU seconds (the workers'
and this process's; on a shared machine wall time also measures the other jobs, CPU time
does not), spectra/s, spectra per CPU second, the speed-up over one worker, and whether
every output equals the in-process result bit for bit.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np


def make_corpus(path: Path, n: int, p: int, chunk: int) -> np.ndarray:
    import zarr

    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, p)
    band = np.exp(-0.5 * ((axis - 1000.0) / 8.0) ** 2)
    values = 500 + 0.2 * axis + rng.uniform(50, 200, (n, 1)) * band
    values = values + rng.normal(0, 2.0, (n, p))
    group = zarr.open_group(str(path), mode="w")
    group.create_array("values", data=values, chunks=(chunk, p))
    group.create_array("axis", data=axis)
    group.attrs.update({"unit": "cm-1", "kind": "raman_shift"})
    return values


def cpu_seconds() -> float:
    """User + system CPU seconds of the calling process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cluster_cpu(client) -> float:
    """CPU seconds of every worker process plus this one."""
    return sum(client.run(cpu_seconds).values()) + cpu_seconds()


def warm_up(pipeline: str, values: np.ndarray, axis: np.ndarray) -> None:
    """Import and load the compiled kernels (numba cache) before anything is timed."""
    from spectrakit import Spectra
    from spectrakit.preprocessing import get_pipeline

    get_pipeline(pipeline).fit_transform(Spectra(values, axis, kind="raman_shift"))


def main() -> None:
    import zarr

    from spectrakit import Spectra, distributed
    from spectrakit.preprocessing import get_pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectra", type=int, default=40_000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=5_000)
    parser.add_argument("--pipeline", default="raman-default")
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spectrakit-bench-") as tmp:
        corpus = Path(tmp) / "corpus.zarr"
        values = make_corpus(corpus, args.spectra, args.points, args.chunk)
        spectra = Spectra(values, np.linspace(400.0, 1800.0, args.points), kind="raman_shift")
        head = (values[:8], np.linspace(400.0, 1800.0, args.points))
        warm_up(args.pipeline, *head)
        t, c = time.perf_counter(), cpu_seconds()
        expected = get_pipeline(args.pipeline).fit_transform(spectra).values
        peer, peer_cpu = time.perf_counter() - t, cpu_seconds() - c
        n = args.spectra
        print(f"{n} x {args.points} spectra, pipeline {args.pipeline}, chunks of {args.chunk}")
        print("| run | start s | job wall s | job CPU s | spectra/s | spectra per CPU s "
              "| vs 1 worker (wall) | equal |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        print(f"| in-process (peer) | | {peer:.2f} | {peer_cpu:.2f} | {n / peer:,.0f} "
              f"| {n / peer_cpu:,.0f} | | - |")  # fmt: skip
        base = None
        for w in (int(x) for x in args.workers.split(",")):
            t = time.perf_counter()
            with distributed.connect(f"local:{w}") as client:
                client.wait_for_workers(w)
                start = time.perf_counter() - t
                client.run(warm_up, args.pipeline, *head)
                t, c = time.perf_counter(), cluster_cpu(client)
                out = distributed.preprocess(corpus, args.pipeline, Path(tmp) / f"out{w}.zarr")
                job, job_cpu = time.perf_counter() - t, cluster_cpu(client) - c
            base = base or job
            same = np.array_equal(zarr.open_group(str(out), mode="r")["values"][:], expected)
            print(f"| local:{w} (processes) | {start:.2f} | {job:.2f} | {job_cpu:.2f} "
                  f"| {n / job:,.0f} | {n / job_cpu:,.0f} | {base / job:.2f} "
                  f"| {'yes' if same else 'NO'} |")  # fmt: skip


if __name__ == "__main__":
    main()
