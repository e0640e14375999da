"""The run's checkpoints: ``last.ckpt`` every N optimizer steps, ``best.ckpt`` on a new best.

``last.ckpt`` is written where a resume can continue exactly. A checkpoint taken on the
last batch of an epoch, before that epoch's validation, resumes without the validation
(Lightning skips it), so the best checkpoint and early stopping would miss one score.
:class:`StepCheckpoint` therefore moves such a save to just after the validation (or to the
epoch end when there is none), after the best-checkpoint callback has seen the score; every
other save happens at the end of its training batch.

``best.ckpt`` (:class:`BestCheckpoint`) holds only what the bundle is written from: the
weights, the epoch and the step (the optimizer state a resume needs is in ``last.ckpt``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint

__all__ = ["BestCheckpoint", "StepCheckpoint"]


class BestCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` of the lowest ``monitor``, saved at epoch ends, weights only.

    The same callback as Lightning's with ``save_top_k=1``, without its per-batch costs:
    the state key (asked on every hook call) is built once, and the per-batch check is
    skipped, as no save is ever due there (no step or time trigger).

    Parameters
    ----------
    dirpath : str or Path
        Folder of the checkpoint.
    filename : str
        File name without ``.ckpt``.
    monitor : str
        Metric whose lowest value is kept.
    """

    def __init__(self, dirpath: str | Path, filename: str, monitor: str) -> None:
        super().__init__(
            dirpath=str(dirpath), filename=filename, monitor=monitor, mode="min", save_top_k=1,
            save_weights_only=True, enable_version_counter=False,
        )  # fmt: skip
        # the key ModelCheckpoint itself has: last.ckpt files of earlier runs resume
        own = super().state_key
        self._state_key = ModelCheckpoint.__qualname__ + own[len(type(self).__qualname__) :]

    @property
    def state_key(self) -> str:
        """``ModelCheckpoint``'s key for this callback's state, built once."""
        return self._state_key

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
        batch_idx: int,
    ) -> None:  # fmt: skip
        """Nothing: saves happen after validation only."""


class StepCheckpoint(Checkpoint):
    """Write ``path`` every ``every`` optimizer steps (atomically, through the trainer's I/O).

    Parameters
    ----------
    path : str or Path
        The checkpoint file (``.../checkpoints/last.ckpt``).
    every : int
        Optimizer steps between saves.
    """

    def __init__(self, path: str | Path, every: int) -> None:
        self.path = Path(path)
        self.every = int(every)
        self._deferred = False
        self._saved_step = -1

    @property
    def state_key(self) -> str:
        """One key per target file (several runs never share a callback state)."""
        return f"StepCheckpoint[{self.every}]"

    def _save(self, trainer: L.Trainer) -> None:
        self._deferred = False
        if trainer.global_step == self._saved_step:
            return
        self._saved_step = trainer.global_step
        trainer.save_checkpoint(self.path, weights_only=False)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any,
        batch_idx: int,
    ) -> None:  # fmt: skip
        """Save every ``every`` steps; on an epoch's last batch, after its validation."""
        step = trainer.global_step
        if step == 0 or step % self.every or trainer.sanity_checking:
            return
        if batch_idx + 1 >= trainer.num_training_batches:
            self._deferred = True
            return
        self._save(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """A save deferred from the epoch's last batch, now that validation is scored."""
        if self._deferred and not trainer.sanity_checking:
            self._save(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """A save deferred from an epoch that had no validation."""
        if self._deferred:
            self._save(trainer)

    def state_dict(self) -> dict[str, Any]:
        """Nothing to carry over but the interval (kept for the record)."""
        return {"every": self.every}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """No state is needed to continue."""
