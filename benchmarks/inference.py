"""Inference speed per model family: PyTorch predictor vs onnxruntime, measured in one run.

Prints single-spectrum latency (median) and batch throughput (spectra/s) for both engines
and their ratio. Usage: python benchmarks/inference.py [--points 1000] [--batch 256]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch

import spectrakit as sk
from _bundles import make_bundle, make_spectra
from spectrakit.export import load_onnx
from spectrakit.export.onnx import export_onnx
from spectrakit.models import list_models


def _latency(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--models", default="*_tiny,*_small")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    one = make_spectra(1, args.points)
    batch = make_spectra(args.batch, args.points, seed=1)
    names = sorted({m for pat in args.models.split(",") for m in list_models(pat)})
    print(f"spectra of {args.points} points; batch {args.batch}; {torch.get_num_threads()} threads")
    header = (
        f"{'model':<20}{'torch 1 (ms)':>14}{'onnx 1 (ms)':>13}{'speedup':>9}"
        f"{'torch batch/s':>15}{'onnx batch/s':>14}{'speedup':>9}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            bundle = make_bundle(Path(tmp) / name, name, one)
            try:
                export_onnx(bundle, batch_sizes=(1, 4))
            except sk.SpectraError as exc:
                print(f"{name:<20} not exportable: {exc}")
                continue
            tp, op = sk.load(bundle), load_onnx(bundle, threads=2)
            tp.predict(one), op.predict(one)  # warm up
            t1 = _latency(lambda tp=tp: tp.predict(one), args.repeats)
            o1 = _latency(lambda op=op: op.predict(one), args.repeats)
            tb = _latency(lambda tp=tp: tp.predict(batch), 3)
            ob = _latency(lambda op=op: op.predict(batch), 3)
            print(
                f"{name:<20}{1e3 * t1:>14.2f}{1e3 * o1:>13.2f}{t1 / o1:>8.1f}x"
                f"{args.batch / tb:>15.0f}{args.batch / ob:>14.0f}{tb / ob:>8.1f}x"
            )


if __name__ == "__main__":
    main()
