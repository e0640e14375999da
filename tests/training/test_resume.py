"""A run interrupted mid-epoch resumes at the exact step and ends like an uninterrupted one."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

import spectrakit
from spectrakit import Spectra
from spectrakit.errors import TrainingError
from spectrakit.training import fit_supervised, resume, run_dir

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Crash(RuntimeError):
    pass


class CrashAt(L.Callback):
    """Simulates a killed process: raises after optimizer step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step >= self.step:
            raise _Crash(f"killed at step {trainer.global_step}")


def _data(n: int = 60, p: int = 64) -> Spectra:
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, p)
    c = rng.uniform(0, 1, n)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 40.0) ** 2)
    values = c[:, None] * peak + rng.normal(0, 0.02, (n, p))
    return Spectra(values, axis, meta={"c": c})


OPTS = dict(
    model="mlp_tiny",
    max_epochs=4,
    batch_size=8,
    checkpoint_every=3,
    progress=False,
    loggers=(),
    patience=None,
)


def test_resume_after_crash_mid_epoch(tmp_path):
    data = _data()
    # 48 training spectra / 8 = 6 steps per epoch; the crash hits step 8, inside epoch 2
    with pytest.raises(_Crash):
        fit_supervised(data, "c", out=tmp_path / "m", callbacks=[CrashAt(8)], **OPTS)
    ckpt_dir = run_dir(tmp_path / "m") / "checkpoints"
    last = torch.load(ckpt_dir / "last.ckpt", weights_only=True)
    assert last["global_step"] == 6  # the last multiple of checkpoint_every before the crash
    assert not (tmp_path / "m").exists()  # no bundle from an interrupted run

    predictor = resume(tmp_path / "m", data)
    training = predictor.config["training"]
    assert training["steps"] == 4 * 6  # same total as an uninterrupted run
    # a valid best checkpoint was selected and became the bundle
    assert training["best_step"] is not None and 0 < training["best_step"] <= 24
    assert np.isfinite(training["best_val_loss"])
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "card.md",
        "config.json",
        "model.safetensors",
    ]
    assert spectrakit.load(tmp_path / "m").predict(data[:3]).shape == (3, 1)


def test_resume_without_checkpoint_is_refused(tmp_path):
    with pytest.raises(TrainingError, match="nothing to resume"):
        fit_supervised(_data(), "c", out=tmp_path / "m", resume=True, **OPTS)
