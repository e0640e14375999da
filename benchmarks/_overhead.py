"""Lightning + spectrakit against a plain PyTorch loop: same model, data, batch and schedule.

The spectrakit side is ``fit_supervised`` as a user calls it (default loggers, checkpoints,
validation every epoch); its training time runs from ``on_train_start`` to ``on_fit_end``
(a callback; the end includes the trainer's teardown and the loggers' last writes),
so data preparation and bundle writing are reported apart. The plain loop
trains the same network (same seed, same initial weights) on the same preprocessed
tensors: shuffled batches, forward, standardized MSE, backward, gradient clipping at 1.0,
AdamW with the same parameter groups and per-step schedule, a validation pass per epoch.
``lightning_fit`` runs that same training as a bare ``LightningModule`` (no loggers, no
checkpoints, batches indexed straight from the tensors): the cost of Lightning itself, so the
table can tell Lightning's share of the overhead from spectrakit's.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import lightning as L
import numpy as np
import torch

from spectrakit import Spectra
from spectrakit.models import create
from spectrakit.tasks.optim import build_optimizer, build_scheduler
from spectrakit.tasks.params import parameter_groups

# Lightning's own pytree helper trips a torch deprecation on every fit (as in training.trainer)
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def make_data(n: int, points: int, seed: int = 0) -> Spectra:
    """``n`` spectra of ``points`` points: one Gaussian band scaled by the target, plus noise."""
    rng = np.random.default_rng(seed)
    axis = np.linspace(400.0, 1800.0, points)
    c = rng.uniform(0, 1, n)
    band = np.exp(-0.5 * ((axis - 1000.0) / 40.0) ** 2)
    values = c[:, None] * band + rng.normal(0, 0.02, (n, points))
    return Spectra(values.astype(np.float32), axis, meta={"c": c})


def clock() -> float:
    """CPU seconds of this process: on shared cores, wall time measures the neighbours."""
    return time.process_time()


class _Clock(L.Callback):
    """CPU time from the start of the training loop to the end of the fit.

    The end is ``on_fit_end``, after the trainer's teardown: checkpoint writes and the
    loggers' last flush are counted.
    """

    def __init__(self) -> None:
        self.seconds = float("nan")
        self._t0 = 0.0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t0 = clock()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seconds = clock() - self._t0


def spectrakit_fit(data: Spectra, model: str, batch: int, epochs: int, **options: Any) -> dict:
    """Seconds of the training loop and of the whole call, as ``fit_supervised`` runs."""
    import tempfile

    from spectrakit.training import fit_supervised

    timer = _Clock()
    with tempfile.TemporaryDirectory(prefix="spectrakit-bench-") as tmp:
        t0 = time.perf_counter()
        predictor = fit_supervised(
            data, "c", model=model, batch_size=batch, max_epochs=epochs, out=f"{tmp}/m",
            patience=None, progress=False, callbacks=[timer], **options,
        )  # fmt: skip
        total = time.perf_counter() - t0
    return {
        "train_s": timer.seconds,
        "total_s": total,
        "steps": predictor.config["training"]["steps"],
    }


def _split(data: Spectra, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from spectrakit.data.datamodule import split_indices

    return split_indices(data.n_spectra, 0.2, seed)


def _tensors(data: Spectra, tr: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Spectra (n, 1, L) and the target standardized on the training rows (n, 1)."""
    x = torch.from_numpy(np.array(data.values[:, None, :], dtype=np.float32))
    y = torch.from_numpy(data.meta["c"].to_numpy(np.float32)).reshape(-1, 1)
    mean, std = y[tr].mean(), y[tr].std(unbiased=False)
    return x, (y - mean) / std


def _setup(data: Spectra, model: str, batch: int, epochs: int, seed: int) -> tuple:
    """The seeded network, its optimizer and per-step schedule, as spectrakit builds them."""
    tr, _ = _split(data, seed)
    L.seed_everything(seed, verbose=False)
    net = create(model, in_channels=1, n_outputs=1, input_length=data.n_points)
    opt = build_optimizer(parameter_groups(net, 1e-3, 1e-4), 1e-3, 1e-4)
    steps_per_epoch = math.ceil(len(tr) / batch)
    sched = build_scheduler(opt, "cosine", epochs * steps_per_epoch, 0.05)
    return net, opt, sched, steps_per_epoch


def plain_fit(
    data: Spectra, model: str, batch: int, epochs: int, seed: int = 0, compile_: bool = False
) -> dict:
    """The same training in a hand-written loop; seconds of the loop (compile time apart)."""
    tr, va = _split(data, seed)
    x, y = _tensors(data, tr)
    net, opt, sched, steps_per_epoch = _setup(data, model, batch, epochs, seed)
    axis = torch.as_tensor(np.array(data.axis.values), dtype=torch.float32)
    aware = getattr(net, "axis_aware", False)
    compile_s = 0.0
    if compile_:  # both graphs (training step, validation forward) compiled before the clock
        t0 = clock()
        net.compile()
        _step(net, opt, sched, x[tr[:batch]], y[tr[:batch]], axis if aware else None)
        net.eval()
        with torch.no_grad():
            net(x[torch.as_tensor(va[:batch])], axis=axis if aware else None)
        compile_s = clock() - t0
    g = torch.Generator().manual_seed(seed)
    t0 = clock()
    for _ in range(epochs):
        net.train()
        order = torch.as_tensor(tr)[torch.randperm(len(tr), generator=g)]
        for k in range(0, len(order), batch):
            idx = order[k : k + batch]
            _step(net, opt, sched, x[idx], y[idx], axis if aware else None)
        net.eval()
        with torch.no_grad():
            for k in range(0, len(va), batch):
                idx = torch.as_tensor(va[k : k + batch])
                torch.nn.functional.mse_loss(net(x[idx], axis=axis if aware else None), y[idx])
    return {
        "train_s": clock() - t0,
        "compile_s": compile_s,
        "steps": epochs * steps_per_epoch,
    }


class _Rows(torch.utils.data.Dataset):
    """Rows of two tensors, a batch fetched in one indexing (no per-item collate)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitems__(self, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(rows)
        return self.x[idx], self.y[idx]


class _Bare(L.LightningModule):
    """The plain loop's training as a LightningModule: loss, optimizer, per-step schedule."""

    def __init__(self, net, opt, sched, axis) -> None:
        super().__init__()
        self.net, self._opt, self._sched, self.axis = net, opt, sched, axis

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x, axis=self.axis), y)

    def validation_step(self, batch, batch_idx) -> None:
        x, y = batch
        torch.nn.functional.mse_loss(self.net(x, axis=self.axis), y)

    def configure_optimizers(self):
        schedule = {"scheduler": self._sched, "interval": "step"}
        return {"optimizer": self._opt, "lr_scheduler": schedule}


def lightning_fit(data: Spectra, model: str, batch: int, epochs: int, seed: int = 0) -> dict:
    """The same training through a bare Lightning ``Trainer``; seconds of the training loop."""
    import logging

    for pkg in ("pytorch", "fabric"):
        logging.getLogger(f"lightning.{pkg}.utilities.rank_zero").setLevel(logging.WARNING)
    tr, va = _split(data, seed)
    x, y = _tensors(data, tr)
    net, opt, sched, steps_per_epoch = _setup(data, model, batch, epochs, seed)
    axis = torch.as_tensor(np.array(data.axis.values), dtype=torch.float32)
    module = _Bare(net, opt, sched, axis if getattr(net, "axis_aware", False) else None)

    def loader(rows: np.ndarray, shuffle: bool) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(
            _Rows(x[rows], y[rows]), batch_size=batch, shuffle=shuffle, collate_fn=_same
        )

    timer = _Clock()
    trainer = L.Trainer(
        accelerator="cpu", devices=1, max_epochs=epochs, gradient_clip_val=1.0, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, callbacks=[timer],
    )  # fmt: skip
    trainer.fit(module, loader(tr, True), loader(va, False))
    return {"train_s": timer.seconds, "steps": epochs * steps_per_epoch}


def _same(batch: Any) -> Any:
    return batch


def _step(net, opt, sched, xb, yb, axis) -> None:
    loss = torch.nn.functional.mse_loss(net(xb, axis=axis), yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    sched.step()
