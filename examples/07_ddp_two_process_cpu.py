"""Data-parallel training in two processes on CPU, the way a multi-node job runs it.

What it shows: ``fit_supervised(..., strategy="ddp", devices=2, accelerator="cpu")`` trains
one model in two processes (gloo backend). Each process reads its half of every epoch
(the sampler shards by rank), gradients are averaged after every step, and rank 0 writes
one bundle. The same script runs under a launcher that starts the processes itself:

    torchrun --standalone --nproc_per_node=2 examples/07_ddp_two_process_cpu.py --out out/07

and on a cluster (SLURM, two nodes of 4 GPUs), one task per device::

    #SBATCH --nodes=2 --ntasks-per-node=4 --gpus-per-node=4
    srun python examples/07_ddp_two_process_cpu.py --accelerator gpu --out out/07

(Lightning reads the rank, world size and master address from the torchrun or SLURM
environment; ``devices`` and ``num_nodes`` are taken from it here.)

Run::

    python examples/07_ddp_two_process_cpu.py --out example-output/07

Outputs: ``model/`` (the bundle), ``ddp.json`` (world size, steps, where each rank ran).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from spectrakit import Spectra
from spectrakit.training import fit_supervised


def _data(n: int) -> Spectra:
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 128)
    c = rng.uniform(0, 1, n)
    values = c[:, None] * np.exp(-0.5 * ((axis - 1000.0) / 40.0) ** 2)
    return Spectra(values + rng.normal(0, 0.01, (n, 128)), axis, meta={"c": c})


def _layout(accelerator: str) -> dict:
    """Devices and nodes: from torchrun / SLURM when launched by them, else 2 CPU processes."""
    if "LOCAL_WORLD_SIZE" in os.environ:  # torchrun
        local = int(os.environ["LOCAL_WORLD_SIZE"])
        nodes = int(os.environ["WORLD_SIZE"]) // local
    elif "SLURM_NTASKS_PER_NODE" in os.environ:
        local = int(os.environ["SLURM_NTASKS_PER_NODE"])
        nodes = int(os.environ.get("SLURM_NNODES", "1"))
    else:
        local, nodes = 2, 1
    return {"devices": local, "num_nodes": nodes, "accelerator": accelerator, "strategy": "ddp"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="example-output/07")
    parser.add_argument("--quick", action="store_true", help="fewer spectra and epochs")
    parser.add_argument("--accelerator", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    layout = _layout(args.accelerator)
    epochs = 2 if args.quick else 10
    predictor = fit_supervised(
        _data(128 if args.quick else 2000), "c", model="cnn1d_tiny", max_epochs=epochs,
        batch_size=16, out=out / "model", progress=False, loggers=("csv",), patience=None,
        **layout,
    )  # fmt: skip
    if predictor is None:  # ranks other than 0 return nothing
        return
    training = predictor.config["training"]
    record = {**layout, "steps": training["steps"], "best_step": training["best_step"]}
    (out / "ddp.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"trained on {layout['devices'] * layout['num_nodes']} processes; wrote {out}")


if __name__ == "__main__":
    main()
