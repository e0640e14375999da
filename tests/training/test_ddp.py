"""Distributed data parallel on CPU (gloo): two processes train a tiny model into one bundle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import sys

    import numpy as np
    import torch

    from spectrakit import Spectra
    from spectrakit.training import fit_supervised

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 64)
    c = rng.uniform(0, 1, 64)
    values = c[:, None] * np.exp(-0.5 * ((axis - 1000.0) / 40.0) ** 2)
    values = values + rng.normal(0, 0.01, (64, 64))
    data = Spectra(values, axis, meta={"c": c})
    fit_supervised(
        data, "c", model="mlp_tiny", max_epochs=2, batch_size=8, out=sys.argv[1],
        strategy="ddp", devices=2, accelerator="cpu", progress=False, loggers=("csv",),
        patience=None, checkpoint_every=2,
    )
    """
)


def test_two_process_ddp_on_cpu(tmp_path):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("LOCAL_RANK", None)
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "model")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    training = config["training"]
    # 51 training spectra, batch 8: 7 batches per epoch split over 2 ranks -> 4 steps each
    assert training["trainer"]["strategy"] == "ddp" and training["trainer"]["devices"] == 2
    assert training["steps"] == 2 * 4
    assert training["best_step"] is not None
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in proc.stderr + proc.stdout


def test_example_under_torchrun_two_processes(tmp_path):
    """The documented launch: torchrun starts the two ranks, Lightning joins them."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "07_ddp_two_process_cpu.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    for key in ("LOCAL_RANK", "RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(example), "--quick", "--out", str(tmp_path / "out")]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((tmp_path / "out" / "ddp.json").read_text())
    assert record["devices"] == 2 and record["num_nodes"] == 1
    # 128 spectra, 102 for training, batch 16: 7 batches a epoch over 2 ranks -> 4 steps each
    assert record["steps"] == 2 * 4
    config = json.loads((tmp_path / "out" / "model" / "config.json").read_text())
    assert config["training"]["trainer"]["devices"] == 2
