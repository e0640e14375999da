"""The best checkpoint: Lightning's callback state under the same key, weights only on disk."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from spectrakit import Spectra
from spectrakit.training import fit_supervised, run_dir
from spectrakit.training.checkpoints import BestCheckpoint
from spectrakit.training.trainer import load_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_state_key_is_lightnings_so_older_checkpoints_resume(tmp_path):
    best = BestCheckpoint(tmp_path, "best", "val_loss")
    lightning = ModelCheckpoint(
        dirpath=str(tmp_path), filename="best", monitor="val_loss", mode="min", save_top_k=1
    )
    assert best.state_key == lightning.state_key
    assert best.save_weights_only and best.save_top_k == 1 and best.mode == "min"


def test_best_checkpoint_holds_the_best_epochs_weights_and_no_optimizer_state(tmp_path):
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 32)
    c = rng.uniform(0, 1, 40)
    values = c[:, None] * np.exp(-0.5 * ((axis - 1000.0) / 60.0) ** 2)
    data = Spectra(values + rng.normal(0, 0.02, values.shape), axis, meta={"c": c})
    predictor = fit_supervised(
        data, "c", model="mlp_tiny", ood="none", max_epochs=3, batch_size=8, progress=False,
        loggers=(), patience=None, checkpoint_every=4, out=tmp_path / "m",
    )  # fmt: skip
    path = run_dir(tmp_path / "m") / "checkpoints" / "best.ckpt"
    ckpt = load_checkpoint(path)  # the resume reader accepts it
    assert "optimizer_states" not in ckpt and "callbacks" not in ckpt
    training = predictor.config.training
    assert ckpt["global_step"] == training["best_step"]
    assert ckpt["epoch"] == training["best_epoch"]
    last = torch.load(path.with_name("last.ckpt"), weights_only=True)
    assert last["optimizer_states"]  # what a resume needs stays in last.ckpt
