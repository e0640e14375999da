"""Inference speed per model family: PyTorch predictor vs onnxruntime, measured in one run.

Two tables.

* Single spectrum (batch size 1), per family: p50/p99 latency of one call over ``--calls``
  calls after warm-up, for the PyTorch (eager) predictor, the ONNX runtime *before* (plain
  ``model.onnx``, a default onnxruntime session) and *after* (the offline-optimised
  ``model.opt.onnx``, the single-threaded sequential session the runtime uses for one
  spectrum), the plain graph on that session (the thread setting alone), the optimised graph
  with two intra-op threads, the lean path of both engines (``predict_values``: NumPy
  columns, no DataFrame; ONNX without a Spectra where the graph holds the preprocessing), and
  the graph alone (``session.run``), and the one-spectrum graph alone (``model.one.onnx``:
  fixed shapes, the axis folded in; "lean general" is the lean path without it), and, for
  the CLS-pooling transformers, the one-spectrum graph of an export that computes every
  row of the last block ("one all rows", ``export_onnx(..., cls_query=False)``; the
  exported graphs compute the CLS row only). The last column counts the nodes of the
  plain, optimised and one-spectrum graphs. The PyTorch/ONNX ratios compare like with like
  (table with table, lean with lean). The engines run in rotating blocks, so load on the
  machine hits them alike.
* Batches: throughput (spectra/s) of both engines and their ratio.

Usage: python benchmarks/inference.py [--points 1000] [--calls 200] [--batch 256] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

import spectrakit as sk
from _bundles import make_bundle, make_spectra
from spectrakit.export import load_onnx
from spectrakit.export.onnx import export_onnx
from spectrakit.models import list_models
from spectrakit.predict.runtime import _session

LATENCY_MODELS = "cnn1d,resnet1d,specbert_small,spectrafm_small"
GOALS_MS = {"cnn1d": 1.0, "resnet1d": 1.0, "specbert_small": 3.0, "spectrafm_small": 3.0}


def _interleaved(fns: dict, calls: int, rounds: int = 4, warmup: int = 10) -> dict:
    """Seconds per call of each function: ``calls`` calls each, in ``rounds`` rotating blocks.

    Each block starts with ``warmup`` untimed calls, so the thread pool a previous engine
    left spinning does not bill the next one; rotating blocks spread load changes evenly.
    """
    per = max(1, -(-calls // rounds))
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(rounds):
        keys = list(fns)[r % len(fns) :] + list(fns)[: r % len(fns)]
        for k in keys:
            for _ in range(warmup):
                fns[k]()
            for _ in range(per):
                t = time.perf_counter()
                fns[k]()
                times[k].append(time.perf_counter() - t)
    return {k: np.asarray(v) for k, v in times.items()}


def _engines(bundle: Path, one: sk.Spectra, all_rows: Path | None) -> dict:
    """The single-spectrum calls compared: PyTorch, ONNX before and after, graph only.

    ``all_rows``: the same model exported with every row of the last block (its
    one-spectrum graph is the "one all rows" peer).
    """
    tp = sk.load(bundle)
    before = load_onnx(bundle, single_threads=None)
    # before: the plain graph in a default session, as the runtime ran it without this pass
    before.session = ort.InferenceSession(
        str(bundle / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    before.one_graph = None
    after = load_onnx(bundle)
    plain = load_onnx(bundle)  # the thread setting alone: plain graph, one-thread session
    plain._single = _session(ort, str(bundle / "model.onnx"), 1)
    plain.one_graph = None
    two = load_onnx(bundle, single_threads=2)
    general = load_onnx(bundle)  # without the one-spectrum graph: the general graph only
    general.one_graph = None
    feeds = after._feeds(one)
    graph = after.session_for(1)
    one_feeds = after.one_graph.takes(feeds)
    values = np.array(one.values)
    peers = {}
    if all_rows is not None:
        rows = load_onnx(all_rows).one_graph
        peers["one all rows"] = lambda: rows.run(one_feeds)
    return {
        "torch": lambda: tp.predict(one),
        "torch lean": lambda: tp.predict_values(values),
        "before": lambda: before.predict(one),
        "plain 1 thr": lambda: plain.predict(one),
        "after": lambda: after.predict(one),
        "after 2 thr": lambda: two.predict(one),
        "lean general": lambda: general.predict_values(values),
        "lean": lambda: after.predict_values(values),
        "graph": lambda: graph.run(None, feeds),
        "one graph": lambda: after.one_graph.run(one_feeds),
        **peers,
    }


def _latency_table(tmp: Path, names: list[str], points: int, calls: int) -> None:
    one = make_spectra(1, points)
    cols = ["torch", "torch lean", "before", "plain 1 thr", "after", "after 2 thr"]
    cols += ["lean general", "lean", "graph", "one graph", "one all rows"]
    head = f"{'model':<17}" + "".join(f"{c + ' p50/p99':>20}" for c in cols)
    head += f"{'torch/after':>12}{'torch/lean':>11}{'before/after':>13}{'lean goal':>10}"
    head += f"{'nodes plain/opt/one':>21}"
    print(f"\nsingle spectrum ({points} points), ms, {calls} calls after warm-up")
    print(head)
    print("-" * len(head))
    for name in names:
        bundle = make_bundle(tmp / f"one-{name}", name, one)
        record = export_onnx(bundle, batch_sizes=(1, 4))
        all_rows = None
        if record["cls_query"]:
            all_rows = make_bundle(tmp / f"rows-{name}", name, one)
            export_onnx(all_rows, batch_sizes=(1, 4), cls_query=False)
        times = _interleaved(_engines(bundle, one, all_rows), calls)
        p = {k: 1e3 * np.percentile(v, [50, 99]) for k, v in times.items()}
        row = f"{name:<17}" + "".join(_cell(p.get(c)) for c in cols)
        goal = GOALS_MS.get(name)
        met = "" if goal is None else ("met" if p["lean"][0] <= goal else "no")
        print(
            f"{row}{p['torch'][0] / p['after'][0]:>11.1f}x"
            f"{p['torch lean'][0] / p['lean'][0]:>10.1f}x"
            f"{p['before'][0] / p['after'][0]:>12.1f}x{met:>10}{_nodes(bundle):>21}"
        )
    print(f"optimised graph level: {record['optimized']['level']} (onnxruntime {ort.__version__})")


def _cell(p50_p99: np.ndarray | None) -> str:
    """One ``p50/p99`` column; ``-`` where the engine does not apply."""
    if p50_p99 is None:
        return f"{'-':>11} {'':<8}"
    return f"{p50_p99[0]:>11.2f}/{p50_p99[1]:<8.2f}"


def _nodes(bundle: Path) -> str:
    """Node counts of the portable, the optimised and the one-spectrum graph."""
    files = ("model.onnx", "model.opt.onnx", "model.one.onnx")
    return "/".join(str(len(onnx.load(str(bundle / f)).graph.node)) for f in files)


def _throughput_table(tmp: Path, names: list[str], points: int, size: int, threads: int) -> None:
    one, batch = make_spectra(1, points), make_spectra(size, points, seed=1)
    head = f"{'model':<20}{'torch batch/s':>15}{'onnx batch/s':>14}{'onnx/torch':>11}"
    print(f"\nbatches of {size}")
    print(head)
    print("-" * len(head))
    for name in names:
        bundle = make_bundle(tmp / name, name, one)
        try:
            export_onnx(bundle, batch_sizes=(1, 4))
        except sk.SpectraError as exc:
            print(f"{name:<20} not exportable: {exc}")
            continue
        tp, op = sk.load(bundle), load_onnx(bundle, threads=threads)
        fns = {"t": lambda tp=tp: tp.predict(batch), "o": lambda op=op: op.predict(batch)}
        t = _interleaved(fns, 4, rounds=2, warmup=1)
        tb, ob = np.median(t["t"]), np.median(t["o"])
        print(f"{name:<20}{size / tb:>15.0f}{size / ob:>14.0f}{tb / ob:>10.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--calls", type=int, default=200, help="single-spectrum calls (>= 200)")
    ap.add_argument("--latency-models", default=LATENCY_MODELS)
    ap.add_argument("--models", default="*_tiny,*_small", help="batch table; '' skips it")
    ap.add_argument("--threads", type=int, default=2, help="torch threads and ONNX batch threads")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    print(f"torch {torch.get_num_threads()} threads; onnxruntime {ort.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        lat = [m for m in args.latency_models.split(",") if m]
        _latency_table(Path(tmp), lat, args.points, args.calls)
        if args.models:
            names = sorted({m for pat in args.models.split(",") for m in list_models(pat)})
            _throughput_table(Path(tmp), names, args.points, args.batch, args.threads)


if __name__ == "__main__":
    main()
