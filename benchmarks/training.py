"""Training throughput per model family, and memory while pretraining from an on-disk store.

Run: python benchmarks/training.py [--points 1024] [--batch 64] [--steps 20]
     [--models "*_tiny,*_small,cnn1d,..."] [--store-rows 1000000] [--store-points 1000] [--no-store]
     [--overhead [--overhead-models LIST] [--overhead-realistic LIST] [--compile]]

Part 1 - throughput: every registered model matching ``--models`` trains ``--steps``
optimizer steps (forward, backward, AdamW) on random batches of ``--batch`` spectra of
``--points`` points, after two warm-up steps. Reported: spectra per second and the peak
resident memory above the RSS before the model is built (each model runs in a fresh
process; Linux /proc VmHWM); on CUDA, also GPU throughput and peak allocated GPU
memory (bf16 autocast).

Part 0 - overhead (``--overhead``): spectrakit's ``fit_supervised`` (Lightning) against a
plain PyTorch loop on the same model, data, batch and schedule (``_overhead.py``), and a
bare LightningModule doing the same training (Lightning's own share), for each of
``--overhead-models`` (tiny networks, ``--overhead-spectra`` spectra: 48 steps by default)
and of ``--overhead-realistic`` (the registry's default sizes on ``--overhead-realistic-spectra``
spectra: 240 steps of batch 64 by default, ``--overhead-realistic-repeats`` rounds): CPU
seconds of the training loop in each and their ratios to the plain loop (goal <= 1.10),
over interleaved rounds after one warm-up (median, and the range of the per-round ratios),
the plain loop's milliseconds per step and the extra milliseconds per step of Lightning and
of spectrakit (hooks, logging, checkpoints: about fixed per step and per epoch, so the ratio
falls as the step grows). ``--compile`` adds ``torch.compile`` in the plain loop (compile
time apart); on CPU it is slower than eager for these families, so training leaves it off
unless asked (``compile=True``).

Part 2 - streaming: ``--store-rows`` x ``--store-points`` float32 spectra (1,000,000 x
1,000 = 4 GB by default) are written chunk by chunk to a SpectraStore in a temporary
directory, then read in one full pass of random batches as masked pretraining reads them,
then specbert_tiny pretrains 20 steps from the store. Reported: peak RSS of the process
(must stay under 3 GB) and read throughput.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

from spectrakit.models import create, list_models

GiB = 1024**3


def _status(field: str) -> float:
    """A /proc/self/status memory field in bytes (NaN off Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024.0
    except OSError:
        pass
    return float("nan")


def _train_steps(model, x, y, steps: int, device: str) -> float:
    axis = None
    if getattr(model, "axis_aware", False):
        axis = torch.linspace(400.0, 1800.0, x.shape[-1], device=x.device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    kind = "cuda" if device == "cuda" else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32

    def step() -> None:
        with torch.autocast(kind, dtype=dtype, enabled=device == "cuda"):
            loss = torch.nn.functional.mse_loss(model(x, axis=axis).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def measure_one(name: str, points: int, batch: int, steps: int, device: str) -> dict:
    """Throughput and memory of one model, measured in this (fresh) process."""
    torch.manual_seed(0)
    base = _status("VmRSS")
    model = create(name, n_outputs=1, input_length=points).to(device)
    x = torch.randn(batch, 1, points, device=device)
    y = torch.randn(batch, 1, device=device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    seconds = _train_steps(model, x, y, steps, device)
    # CPU: peak resident memory above the RSS of the process before the model was built
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else _status("VmHWM") - base
    return {
        "model": name,
        "params": sum(p.numel() for p in model.parameters()),
        "device": device,
        "spectra_per_s": batch * steps / seconds,
        "peak_mb": peak / 2**20,
    }


def throughput(patterns: list[str], points: int, batch: int, steps: int) -> list[dict]:
    names = sorted(n for n in list_models() if any(fnmatch.fnmatch(n, p) for p in patterns))
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    print(f"\n== training throughput: batch {batch} x {points} points, {steps} steps ==")
    print(f"{'model':22s} {'params':>10s} {'device':>6s} {'spectra/s':>10s} {'+peak MB':>9s}")
    for name in names:
        for device in devices:
            # one fresh process per model, so memory freed by another model is not reused
            cmd = [sys.executable, __file__, "--one", name, "--device", device]
            cmd += ["--points", str(points), "--batch", str(batch), "--steps", str(steps)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                print(f"{name:22s} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{name:22s} {row['params']:10d} {device:>6s} {row['spectra_per_s']:10.0f} "
                f"{row['peak_mb']:9.0f}"
            )
    return rows


def streaming(rows: int, points: int) -> dict:
    from spectrakit import SpectralAxis
    from spectrakit.data import PretrainDataModule, SpectraStore
    from spectrakit.training import pretrain

    print(f"\n== streaming pretraining from disk: {rows} x {points} float32 ==")
    axis = SpectralAxis(np.linspace(400.0, 1800.0, points))
    base = np.exp(-0.5 * ((axis.values - 1000.0) / 30.0) ** 2).astype(np.float32)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="spectrakit-bench-") as tmp:
        t = time.perf_counter()
        block = 20_000
        with SpectraStore.create(os.path.join(tmp, "store"), axis, chunk_size=65536) as store:
            for start in range(0, rows, block):
                n = min(block, rows - start)
                conc = rng.uniform(0, 1, (n, 1)).astype(np.float32)
                noise = rng.normal(0, 0.01, (n, points)).astype(np.float32)
                store.append(conc * base + noise)
        write_s = time.perf_counter() - t
        store = SpectraStore.open(os.path.join(tmp, "store"))
        size_gb = len(store) * points * 4 / 1e9
        print(
            f"wrote {size_gb:.2f} GB in {write_s:.0f} s; RSS now {_status('VmRSS') / GiB:.2f} GiB"
        )
        dm = PretrainDataModule([store], patch_size=16, batch_size=256)
        dm.setup()
        t = time.perf_counter()
        seen = 0
        for i in range(len(dm.train_dataset)):
            seen += dm.train_dataset[i]["x"].shape[0]
        read_s = time.perf_counter() - t
        rate, peak = seen / read_s, _status("VmHWM") / GiB
        print(f"one pass of random batches: {seen} spectra in {read_s:.0f} s")
        print(f"  {rate:.0f} spectra/s; peak RSS {peak:.2f} GiB")
        t = time.perf_counter()
        pretrain(
            store,
            model="specbert_tiny",
            max_steps=20,
            batch_size=256,
            out=os.path.join(tmp, "encoder"),
            progress=False,
            loggers=(),
            patience=None,
        )
        train_s = time.perf_counter() - t
        peak = _status("VmHWM") / GiB
        print(f"pretrained 20 steps in {train_s:.0f} s; peak RSS of the process {peak:.2f} GiB")
        ok = peak < 3.0
        print("resident memory under 3 GB:", "yes" if ok else "NO")
        return {
            "rows": rows,
            "points": points,
            "store_gb": size_gb,
            "write_s": write_s,
            "read_spectra_per_s": seen / read_s,
            "pretrain_20_steps_s": train_s,
            "peak_rss_gib": peak,
            "under_3gb": ok,
        }


def _spread(values: list[float]) -> tuple[float, float, float]:
    """Median, minimum and maximum."""
    return float(np.median(values)), float(min(values)), float(max(values))


def _overhead_rounds(data, name: str, batch: int, epochs: int, repeats: int) -> dict:
    """``repeats`` interleaved rounds of plain, bare Lightning and spectrakit (after a warm-up)."""
    from _overhead import lightning_fit, plain_fit, spectrakit_fit

    plain_fit(data, name, batch, 1)  # warm-up: first-call costs are no one's overhead
    lightning_fit(data, name, batch, 1)
    spectrakit_fit(data, name, batch, 1)
    runs: dict[str, list[float]] = {"plain": [], "lightning": [], "spectrakit": []}
    steps = 0
    for _ in range(repeats):  # interleaved: the machine may be shared
        runs["plain"].append(plain_fit(data, name, batch, epochs)["train_s"])
        runs["lightning"].append(lightning_fit(data, name, batch, epochs)["train_s"])
        fit = spectrakit_fit(data, name, batch, epochs)
        runs["spectrakit"].append(fit["train_s"])
        steps = fit["steps"]
    row: dict = {"model": name, "spectra": data.n_spectra, "steps": steps, "repeats": repeats}
    for kind, values in runs.items():
        row[f"{kind}_s"] = float(np.median(values))
        row[f"{kind}_all_s"] = values
    for kind in ("lightning", "spectrakit"):  # per-round ratios to the plain loop
        ratio = _spread([a / p for a, p in zip(runs[kind], runs["plain"], strict=True)])
        row[f"{kind}_ratio"], row[f"{kind}_ratio_min"], row[f"{kind}_ratio_max"] = ratio
    own = [s / a for s, a in zip(runs["spectrakit"], runs["lightning"], strict=True)]
    row["spectrakit_over_lightning"] = float(np.median(own))
    # the framework's cost is about fixed per step: the ratio falls as a step grows
    row["overhead_ms_per_step"] = 1e3 * (row["spectrakit_s"] - row["plain_s"]) / steps
    row["lightning_ms_per_step"] = 1e3 * (row["lightning_s"] - row["plain_s"]) / steps
    return row


def _overhead_line(row: dict) -> str:
    def ratio(kind: str) -> str:
        r, lo, hi = (row[f"{kind}_ratio{k}"] for k in ("", "_min", "_max"))
        return f"{r:.2f} [{lo:.2f}-{hi:.2f}]"

    line = f"{row['model']:14s} {row['steps']:5d} {row['plain_s']:8.3f} {row['lightning_s']:9.3f}"
    line += f" {row['spectrakit_s']:10.3f} {ratio('lightning'):>17s} {ratio('spectrakit'):>17s}"
    line += f" {row['spectrakit_over_lightning']:6.2f} {1e3 * row['plain_s'] / row['steps']:8.2f}"
    return line + f" {row['lightning_ms_per_step']:7.2f} {row['overhead_ms_per_step']:7.2f}"


def overhead(
    models: list[str], n: int, points: int, batch: int, epochs: int, compile_: bool,
    repeats: int = 5,
) -> list[dict]:  # fmt: skip
    """Lightning + spectrakit vs a plain loop (CPU seconds of the training loops).

    Each of ``repeats`` rounds runs the plain loop, the bare Lightning module and spectrakit
    one after the other, so all meet the same load; ratios are taken per round and reported
    as median and range. Columns: CPU seconds (median), ratio to the plain loop of bare
    Lightning and of spectrakit, spectrakit / bare Lightning (median of the per-round ratios),
    the plain loop's ms per step, and the extra ms per step of Lightning and of spectrakit.
    """
    from _overhead import make_data, plain_fit

    torch.set_num_threads(1)  # one thread: CPU seconds then measure work, not spinning
    data = make_data(n, points)
    print(
        f"\n== training overhead: {n} spectra x {points} points, batch {batch}, {epochs} epochs,"
        f" {repeats} rounds (CPU s; median [min-max]) =="
    )
    print(_overhead_head(compile_))
    rows = []
    for name in models:
        row = _overhead_rounds(data, name, batch, epochs, repeats)
        line = _overhead_line(row)
        if compile_:
            comp = plain_fit(data, name, batch, epochs, compile_=True)
            row.update(compiled_s=comp["train_s"], compile_s=comp["compile_s"])
            speed = row["plain_s"] / comp["train_s"]
            line += f" {comp['train_s']:11.2f} {comp['compile_s']:10.1f} {speed:8.2f}"
        print(line, flush=True)
        rows.append(row)
    return rows


def _overhead_head(compile_: bool) -> str:
    head = f"{'model':14s} {'steps':>5s} {'plain s':>8s} {'lightning':>9s} {'spectrakit':>10s}"
    head += f" {'lightning/plain':>17s} {'spectrakit/plain':>17s} {'sk/L':>6s}"
    head += f" {'ms/step':>8s} {'L +ms':>7s} {'sk +ms':>7s}"
    if compile_:
        head += f" {'compiled s':>11s} {'compile s':>10s} {'speed-up':>8s}"
    return head


def _overhead_groups(args: argparse.Namespace) -> list[dict]:
    """The tiny rows, then the realistic rows (default sizes, a few hundred steps)."""
    groups = [
        (args.overhead_models, args.overhead_spectra, args.overhead_repeats),
        (args.overhead_realistic, args.overhead_realistic_spectra, args.overhead_realistic_repeats),
    ]
    rows: list[dict] = []
    for models, n, repeats in groups:
        names = [m for m in models.split(",") if m]
        if names:
            rows += overhead(
                names, n, args.points, args.batch, args.overhead_epochs, args.compile, repeats
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--models", default="*_tiny,*_small,cnn1d,resnet1d,resnetv2_1d,vgg1d,mlp,gaf2d"
    )
    parser.add_argument("--store-rows", type=int, default=1_000_000)
    parser.add_argument("--store-points", type=int, default=1000)
    parser.add_argument("--no-store", action="store_true")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--overhead", action="store_true", help="Lightning vs a plain loop")
    parser.add_argument("--overhead-models", default="mlp_tiny,cnn1d_tiny")
    parser.add_argument("--overhead-spectra", type=int, default=1280)
    parser.add_argument("--overhead-epochs", type=int, default=3)
    parser.add_argument("--overhead-repeats", type=int, default=5)
    parser.add_argument(
        "--overhead-realistic", default="cnn1d,specbert_small", help="default-size models"
    )
    parser.add_argument("--overhead-realistic-spectra", type=int, default=6400)
    parser.add_argument("--overhead-realistic-repeats", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--json", help="also write the results as JSON")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, args.points, args.batch, args.steps, args.device)))
        return
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CUDA: {gpu}")
    result: dict = {}
    if args.overhead:
        result["overhead"] = _overhead_groups(args)
    if not args.no_throughput:
        patterns = args.models.split(",")
        result["throughput"] = throughput(patterns, args.points, args.batch, args.steps)
    if not args.no_store:
        result["streaming"] = streaming(args.store_rows, args.store_points)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
