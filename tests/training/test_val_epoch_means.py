"""The validation means of one process equal Lightning's per-batch ``self.log(on_epoch=True)``.

On one process the validation metrics are summed as tensors and logged once an epoch
(:class:`~spectrakit.tasks._log.EpochMeans`); across processes every batch goes through
``self.log(..., sync_dist=True)``. Both must log the same numbers, bit for bit, on batches
of unequal size (the mean is weighted by the batch size).
"""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from spectrakit import Spectra
from spectrakit.tasks import base
from spectrakit.tasks._log import EpochMeans
from spectrakit.training import fit_supervised

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _data(task: str, n: int = 64, p: int = 48) -> Spectra:
    rng = np.random.default_rng(1)
    axis = np.linspace(400.0, 1800.0, p)
    c = rng.uniform(0, 1, n)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 40.0) ** 2)
    values = c[:, None] * peak + rng.normal(0, 0.05, (n, p))
    target = (c > 0.5).astype(int) if task == "classification" else c
    return Spectra(values, axis, meta={"t": target})


class _Record(L.Callback):
    """The validation metrics as logged at the end of every validation epoch."""

    def __init__(self) -> None:
        self.epochs: list[dict[str, float]] = []

    def on_validation_end(self, trainer, pl_module) -> None:
        logged = trainer.callback_metrics
        self.epochs.append({k: float(v) for k, v in logged.items() if k.startswith("val_")})


def _fit(task: str, tmp_path, name: str) -> list[dict[str, float]]:
    record = _Record()
    fit_supervised(
        _data(task), "t", task=task, model="mlp_tiny", ood="none", max_epochs=3,
        batch_size=5, out=tmp_path / name, progress=False, loggers=(), patience=None,
        callbacks=[record],
    )  # fmt: skip
    return record.epochs


@pytest.mark.parametrize("task", ["regression", "classification"])
def test_single_process_means_equal_lightning_per_batch_logging(tmp_path, monkeypatch, task):
    added: list[int] = []
    add = EpochMeans.add

    def counting_add(self, name, value, batch_size, prog_bar):
        added.append(batch_size)
        add(self, name, value, batch_size, prog_bar)

    monkeypatch.setattr(EpochMeans, "add", counting_add)
    ours = _fit(task, tmp_path, "ours")
    # 64 spectra: 13 for validation in batches of 5, 5 and 3 (unequal weights)
    assert sorted(set(added)) == [3, 5]
    # the same fit with every batch logged by Lightning (the multi-process branch)
    monkeypatch.setattr(base.BaseTask, "_world_size", lambda self: 2)
    added.clear()
    lightning = _fit(task, tmp_path, "lightning")
    assert added == []  # nothing went through EpochMeans this time
    assert len(ours) == len(lightning) == 3
    metric = "val_rmse" if task == "regression" else "val_acc"
    for a, b in zip(ours, lightning, strict=True):
        assert a.keys() == b.keys() == {"val_loss", metric}
        assert a == b  # identical floats, not merely close


def test_epoch_means_are_batch_size_weighted_means():
    means = EpochMeans()
    values, sizes = [0.5, 2.0, -1.0], [5, 5, 3]
    for v, n in zip(values, sizes, strict=True):
        means.add("val_loss", torch.tensor(v), n, prog_bar=True)
        means.add("val_acc", torch.tensor(n > 4), n, prog_bar=False)
    (name, loss, bar), (name2, acc, bar2) = means.pop()
    assert (name, bar, name2, bar2) == ("val_loss", True, "val_acc", False)
    assert loss.item() == pytest.approx(np.average(values, weights=sizes), rel=1e-7)
    assert acc.item() == pytest.approx(10 / 13, rel=1e-7)  # booleans count as 0/1
    assert means.pop() == []  # reset after pop
