"""The base of every Lightning task: optimizer, per-step schedule, parameter groups, logging.

As in torchgeo's ``BaseTask``, a task subclass owns only its losses and metrics; the
optimisation (AdamW over parameter groups, warmup + schedule stepped every optimizer step)
and the logging conventions live here once. A subclass stores ``lr``, ``weight_decay``,
``schedule``, ``warmup`` and ``total_steps`` with ``save_hyperparameters`` and may refine
:meth:`BaseTask.parameter_groups` (discriminative learning rates).
"""

from __future__ import annotations

import warnings
from typing import Any

import lightning as L
import torch
from torch import nn

from spectrakit.tasks._log import EpochMeans, step_log_due
from spectrakit.tasks.optim import (
    build_optimizer,
    build_scheduler,
    decay_groups,
    estimated_steps,
)

__all__ = ["BaseTask"]

# the override below is meant to replace the data module's move; nothing to act on
warnings.filterwarnings("ignore", message=r".*overridden `transfer_batch_to_device`.*")


class BaseTask(L.LightningModule):
    """A LightningModule around ``self.model`` optimised by AdamW with a per-step schedule.

    Attributes
    ----------
    model : nn.Module
        The network (set by the subclass).
    lr : float
        Peak learning rate (the learning-rate sweep may change it before the fit).
    """

    model: nn.Module
    lr: float

    def parameter_groups(self) -> list[dict]:
        """Optimizer parameter groups: no weight decay on biases and normalization weights."""
        return decay_groups(self.model.named_parameters(), self.lr, self.hparams.weight_decay)

    def configure_optimizers(self) -> Any:
        """AdamW over :meth:`parameter_groups` with the chosen per-step schedule."""
        hp = self.hparams
        optimizer = build_optimizer(self.parameter_groups(), self.lr, hp.weight_decay)
        total = hp.total_steps or estimated_steps(self.trainer)
        scheduler = build_scheduler(optimizer, hp.schedule, total, hp.warmup)
        if scheduler is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def log_train(self, name: str, value: torch.Tensor, batch_size: int) -> None:
        """Log a training metric of one batch (shown in the progress bar).

        Only on the steps the loggers write, or every step when a progress bar shows it:
        ``self.log`` was the largest per-step cost after the model
        (``benchmarks/training.py --overhead``).
        """
        if step_log_due(self):
            self.log(name, value, prog_bar=True, batch_size=batch_size)

    def log_val(
        self, name: str, value: torch.Tensor, batch_size: int, prog_bar: bool = False
    ) -> None:
        """Log a validation metric, averaged over the batches and the devices.

        On one process the batch values are summed as tensors and logged once, at the end
        of the validation epoch: the same mean, bit for bit, without ``self.log`` and a
        device sync on every batch. Across several processes every batch is logged with
        ``sync_dist=True``.
        """
        if self._world_size() > 1:
            self.log(name, value, prog_bar=prog_bar, batch_size=batch_size, sync_dist=True)
            return
        self._val_means().add(name, value, batch_size, prog_bar)

    def _world_size(self) -> int:
        trainer = getattr(self, "_trainer", None)
        return 1 if trainer is None else int(trainer.world_size)

    def _val_means(self) -> EpochMeans:
        means = self.__dict__.get("_epoch_means")
        if means is None:
            means = self.__dict__["_epoch_means"] = EpochMeans()
        return means

    def on_validation_epoch_start(self) -> None:
        """Start the epoch's validation means afresh (an interrupted epoch leaves none)."""
        self._val_means().pop()

    def on_validation_epoch_end(self) -> None:
        """Log the epoch means of the validation metrics (one ``self.log`` per metric)."""
        for name, mean, prog_bar in self._val_means().pop():
            self.log(name, mean, prog_bar=prog_bar, batch_size=1)

    def transfer_batch_to_device(
        self, batch: Any, device: torch.device, dataloader_idx: int
    ) -> Any:
        """The batch itself when every value already is a tensor on ``device``.

        Lightning's move walks the collection on every step even on the CPU, where the
        batch is already in place; any other batch is moved as Lightning moves it.
        """
        if isinstance(batch, dict) and all(
            isinstance(v, torch.Tensor) and v.device == device for v in batch.values()
        ):
            return batch
        return super().transfer_batch_to_device(batch, device, dataloader_idx)
