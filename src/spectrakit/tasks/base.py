"""The base of every Lightning task: optimizer, per-step schedule, parameter groups, logging.

As in torchgeo's ``BaseTask``, a task subclass owns only its losses and metrics; the
optimisation (AdamW over parameter groups, warmup + schedule stepped every optimizer step)
and the logging conventions live here once. A subclass stores ``lr``, ``weight_decay``,
``schedule``, ``warmup`` and ``total_steps`` with ``save_hyperparameters`` and may refine
:meth:`BaseTask.parameter_groups` (discriminative learning rates).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

from spectrakit.tasks._log import step_log_due
from spectrakit.tasks.optim import (
    build_optimizer,
    build_scheduler,
    decay_groups,
    estimated_steps,
)

__all__ = ["BaseTask"]


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
        """Log a validation metric, averaged over the batches and the devices."""
        self.log(name, value, prog_bar=prog_bar, batch_size=batch_size, sync_dist=True)
