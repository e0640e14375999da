"""Dask scaling of ``spectrakit.distributed.preprocess``: 1 and 2 workers vs one process.

Run: python benchmarks/dask_scaling.py [--spectra 40000] [--points 1000] [--chunk 5000]
     [--pipeline raman-default] [--workers 1,2]

A Zarr corpus of ``--spectra`` synthetic Raman-like spectra is written once; the peer is
the in-process ``pipeline.fit_transform`` on the array in memory (this process, all its
threads); then the same pipeline runs through a ``local:N`` cluster of N single-threaded
worker processes, reading chunks from the store and writing a new Zarr store. Cluster
start-up is reported apart from the job. Printed: seconds, spectra/s, speed-up over one
worker, and whether every output equals the in-process result bit for bit.
"""

from __future__ import annotations

import argparse
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
        t = time.perf_counter()
        expected = get_pipeline(args.pipeline).fit_transform(spectra).values
        peer = time.perf_counter() - t
        n = args.spectra
        print(f"{n} x {args.points} spectra, pipeline {args.pipeline}, chunks of {args.chunk}")
        head = f"{'run':24s} {'start s':>8s} {'job s':>8s} {'spectra/s':>10s}"
        print(f"{head} {'vs 1 worker':>11s} equal")
        print(f"{'in-process (peer)':24s} {'':8s} {peer:8.2f} {n / peer:10.0f} {'':11s} -")
        base = None
        for w in (int(x) for x in args.workers.split(",")):
            t = time.perf_counter()
            with distributed.connect(f"local:{w}") as client:
                client.wait_for_workers(w)
                start = time.perf_counter() - t
                t = time.perf_counter()
                out = distributed.preprocess(corpus, args.pipeline, Path(tmp) / f"out{w}.zarr")
                job = time.perf_counter() - t
            base = base or job
            same = np.array_equal(zarr.open_group(str(out), mode="r")["values"][:], expected)
            print(f"{f'local:{w} (processes)':24s} {start:8.2f} {job:8.2f} {n / job:10.0f} "
                  f"{base / job:11.2f} {'yes' if same else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()
