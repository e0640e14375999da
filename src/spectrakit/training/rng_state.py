"""Random streams that a resumed run reproduces exactly, on every rank.

Before every training batch, :class:`StepSeeds` seeds torch, NumPy and Python's global
generators from ``(run seed, rank, epoch, batch index)``. Dropout, mixup and any other draw
made inside a training step then depend only on where the run is, never on what happened
before it in this process: a run resumed at batch ``k`` draws what the uninterrupted run
drew at batch ``k``, without storing per-rank states. Generators owned by the training module
(a seeded mixing augmentation) are saved in the checkpoint and put back on resume.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from spectrakit.data.dataset import batch_seed

__all__ = ["StepSeeds", "owned_generators"]


def owned_generators(obj: Any, depth: int = 0) -> Iterator[torch.Generator]:
    """The ``torch.Generator`` objects held by an augmentation (and the ones it composes)."""
    if obj is None or depth > 8:
        return
    gen = getattr(obj, "_generator", None)
    if isinstance(gen, torch.Generator):
        yield gen
    for child in getattr(obj, "transforms", None) or ():
        yield from owned_generators(child, depth + 1)
    yield from owned_generators(getattr(obj, "transform", None), depth + 1)


class StepSeeds(Callback):
    """Seed every global generator from the run's position before each training batch.

    Parameters
    ----------
    seed : int, optional
        Run seed; by default the seed in force when training starts (``seed_everything``).
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._module: L.LightningModule | None = None
        self._pending: list[torch.Tensor] | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Remember the run seed and the module whose generators are checkpointed."""
        if self.seed is None:
            self.seed = int(torch.initial_seed())
        self._module = pl_module

    def _generators(self) -> list[torch.Generator]:
        return list(owned_generators(getattr(self._module, "mix", None)))

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        """Seed torch, NumPy and Python from (seed, rank, epoch, batch)."""
        if self._pending is not None:
            for gen, state in zip(self._generators(), self._pending, strict=False):
                gen.set_state(state)
            self._pending = None
        key = batch_seed(int(self.seed), trainer.global_rank, trainer.current_epoch, batch_idx)
        torch.default_generator.manual_seed(key)  # torch.manual_seed costs ~1 ms a call
        if torch.cuda.is_initialized():  # (cheaper than asking whether CUDA is available)
            torch.cuda.manual_seed_all(key)
        np.random.seed(key % 2**32)  # noqa: NPY002 (code that draws from the global stream)
        random.seed(key)

    def state_dict(self) -> dict[str, Any]:
        """The run seed and the module's own generator states (tensors: safe to load)."""
        return {"seed": self.seed, "generators": [g.get_state() for g in self._generators()]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the seed back; the generator states are applied before the next batch."""
        self.seed = state_dict.get("seed", self.seed)
        self._pending = list(state_dict.get("generators", []))
