"""A data loader that can stop mid-epoch and continue at the next batch, on every rank.

:class:`ResumableSampler` draws each epoch's order from ``(seed, epoch)`` alone (a
``DistributedSampler``: it pads and shards across ranks like Lightning's default, so
Lightning keeps it as it is under DDP). :class:`ResumableLoader` counts the batches it has
handed out and exposes ``state_dict`` / ``load_state_dict``; Lightning stores that state in
every checkpoint and gives it back on resume, so a resumed run reads exactly the batches an
uninterrupted run would have read next. The loader's own ``torch.Generator`` is reseeded
from ``(seed, epoch)`` at every epoch, so worker seeds never depend on how often a loader was
started, and building a loader never draws from the global random stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from spectrakit.core.errors import TrainingError

__all__ = ["ResumableLoader", "ResumableSampler"]


class ResumableSampler(DistributedSampler):
    """Epoch-seeded (optionally shuffled) order of one rank's items, able to start mid-epoch.

    Parameters
    ----------
    dataset : Dataset
        Anything with ``len``.
    batch_size : int
        Items per loader batch (1 when every item already is a batch).
    seed : int
        Order of epoch ``e`` is a permutation seeded with ``seed + e``.
    shuffle : bool, default=True
    """

    def __init__(self, dataset: Dataset, batch_size: int, seed: int, shuffle: bool = True) -> None:
        ranks: dict[str, Any] = {}
        if not (dist.is_available() and dist.is_initialized()):
            ranks = {"num_replicas": 1, "rank": 0}
        super().__init__(dataset, shuffle=shuffle, seed=int(seed), drop_last=False, **ranks)
        self.batch_size = int(batch_size)
        self._skip = 0

    def start_at(self, epoch: int, batches: int) -> None:
        """Make the next iteration yield epoch ``epoch`` from batch ``batches`` on."""
        self.set_epoch(epoch)
        self._skip = int(batches)

    @property
    def pending_skip(self) -> int:
        """Batches the next iteration skips."""
        return self._skip

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        skip, self._skip = self._skip, 0
        return iter(indices[skip * self.batch_size :])


class ResumableLoader(DataLoader):
    """A ``DataLoader`` over a :class:`ResumableSampler` whose position is checkpointed.

    Parameters
    ----------
    dataset : Dataset
    sampler : ResumableSampler
    batched : bool, default=True
        False when the dataset's items already are batches (``batch_size=None``).
    **kwargs
        Passed to ``DataLoader`` (``num_workers``, ``collate_fn``, ...).
    """

    def __init__(
        self, dataset: Dataset, sampler: ResumableSampler, batched: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(
            dataset,
            sampler=sampler,
            batch_size=sampler.batch_size if batched else None,
            generator=torch.Generator(),
            **kwargs,
        )
        self.position = 0

    def _batches_per_epoch(self) -> int:
        return math.ceil(len(self.sampler) / self.sampler.batch_size)

    def __iter__(self) -> Iterator[Any]:
        sampler: ResumableSampler = self.sampler
        # worker seeds come from this generator: a function of (seed, epoch) only
        self.generator.manual_seed(sampler.seed * 1_000_003 + sampler.epoch)
        start = sampler.pending_skip
        return self._counted(super().__iter__(), start)

    def _counted(self, batches: Iterator[Any], start: int) -> Iterator[Any]:
        self.position = start
        for batch in batches:
            self.position += 1
            yield batch

    def state_dict(self) -> dict[str, int]:
        """Epoch, batches handed out in it, and the facts that must match on resume."""
        sampler: ResumableSampler = self.sampler
        return {
            "epoch": int(sampler.epoch),
            "position": int(self.position),
            "seed": int(sampler.seed),
            "n_items": len(self.dataset),
            "batch_size": int(sampler.batch_size),
            "world_size": int(sampler.num_replicas),
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue at the batch after the last one handed out before the checkpoint."""
        sampler: ResumableSampler = self.sampler
        mine = self.state_dict()
        for key in ("seed", "n_items", "batch_size", "world_size"):
            if int(state.get(key, -1)) != mine[key]:
                raise TrainingError(
                    "the checkpoint was written for other training data or settings",
                    expected=f"{key} = {state.get(key)} as in the interrupted run",
                    got=f"{key} = {mine[key]}",
                    fix="resume with the same data, batch size, seed and devices",
                )
        epoch, position = int(state["epoch"]), int(state["position"])
        if position >= self._batches_per_epoch():
            epoch, position = epoch + 1, 0
        sampler.start_at(epoch, position)
        self.position = position
