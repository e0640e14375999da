"""Torch datasets over spectra: labelled samples in memory, random batches from memory or disk.

Every dataset yields *batches as dictionaries*::

    {"x": (B, C, L) float32, "axis": (L,) float32, "y": (B, T) or (B,), "extra": (B, E)}

``y`` and ``extra`` are present only when given. :class:`SpectraDataset` is indexed per
sample (the DataLoader batches it; a batched ``__getitems__`` makes that one gather instead
of B). :class:`RandomBatchDataset` is indexed per *batch*: each item is a batch of random
rows from one source (an instrument or an on-disk :class:`~spectrakit.data.store.SpectraStore`),
so sources with different axes never mix within a batch and a corpus larger than memory is
streamed with memory proportional to one batch. Being an ordinary map-style dataset of
batches, it shards across distributed ranks with the usual ``DistributedSampler``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError
from spectrakit.data.store import SpectraStore

__all__ = ["RandomBatchDataset", "SpectraDataset", "collate_batch"]

#: a batched augmentation: (B, C, L) tensor -> (B, C, L) tensor
Augment = Callable[[torch.Tensor], torch.Tensor]


_MASK = (1 << 64) - 1


def _mix64(z: int) -> int:
    """SplitMix64 finalizer: a well-spread 64-bit hash of ``z``."""
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _MASK
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK
    return z ^ (z >> 31)


def batch_seed(*key: int) -> int:
    """A 63-bit seed that is a function of ``key`` alone (seed, epoch, row indices ...)."""
    h = 0x9E3779B97F4A7C15
    for k in key:
        h = _mix64((h ^ (int(k) & _MASK)) + 0x9E3779B97F4A7C15 & _MASK)
    return h >> 1


def rows_seed(seed: int, rows: np.ndarray) -> int:
    """A seed that is a function of ``seed`` and the ordered row indices of a batch."""
    z = np.asarray(rows, dtype=np.uint64) + (np.arange(len(rows), dtype=np.uint64) << np.uint64(40))
    with np.errstate(over="ignore"):  # wrap-around multiplication is the point
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    folded = int(np.bitwise_xor.reduce(z ^ (z >> np.uint64(31)))) if len(rows) else 0
    return batch_seed(seed, len(rows), folded)


@contextmanager
def seeded_rngs(seed: int) -> Iterator[torch.Generator]:
    """Seed torch, NumPy and Python's global generators for one block, then put them back.

    Yields a fresh ``torch.Generator`` seeded with ``seed``. Augmenting a batch inside this
    block draws the same numbers whichever process, worker or resumed run computes it, and
    leaves the training process's own random streams untouched.
    """
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002 (the global stream itself)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002
        random.seed(seed)
        try:
            yield torch.Generator().manual_seed(seed)
        finally:
            np.random.set_state(np_state)  # noqa: NPY002
            random.setstate(py_state)


def apply_augment(augment: Augment, x: torch.Tensor, axis: torch.Tensor, seed: int) -> torch.Tensor:
    """Run a batched augmentation with randomness drawn from ``seed`` only.

    spectrakit augmentations receive the axis and a generator seeded with ``seed``; any other
    callable runs with the global generators seeded from it (and restored afterwards).
    """
    from spectrakit.augment import Augmentation

    with seeded_rngs(seed) as generator:
        if isinstance(augment, Augmentation):
            return augment(x, axis=axis, generator=generator)
        return augment(x)


def collate_batch(items: Any) -> Any:
    """Collate function that passes through already-batched dictionaries."""
    if isinstance(items, dict):
        return items
    return default_collate(items)


class SpectraDataset(Dataset):
    """Samples held in memory, with optional targets and tabular features.

    Parameters
    ----------
    values : ndarray of shape (n, L) or (n, C, L)
        Preprocessed spectra; a 2D array becomes one channel.
    axis : SpectralAxis or ndarray of shape (L,)
        Positions of the L points (passed to axis-aware models).
    targets : ndarray of shape (n,) or (n, T), optional
        Regression targets (float), class indices (int) or multi-label 0/1 (float).
    extra : ndarray of shape (n, E), optional
        Tabular features fused with the spectral embedding.
    augment : callable, optional
        Batched augmentation applied to ``x`` on the fly (training data only). Its randomness
        is drawn from ``(seed, row indices of the batch)``, so the same batch is augmented
        the same way in any worker and after a resume.
    seed : int, default=0
    """

    def __init__(
        self,
        values: np.ndarray,
        axis: SpectralAxis | np.ndarray,
        targets: np.ndarray | None = None,
        extra: np.ndarray | None = None,
        augment: Augment | None = None,
        seed: int = 0,
    ) -> None:
        x = np.asarray(values, dtype=np.float32)
        if x.ndim == 2:
            x = x[:, None, :]
        if x.ndim != 3:
            raise DataError(
                "dataset values have the wrong shape", expected="(n, L) or (n, C, L)", got=x.shape
            )
        n = x.shape[0]
        for name, arr in (("targets", targets), ("extra", extra)):
            if arr is not None and len(arr) != n:
                raise DataError(
                    f"{name} do not match the spectra", expected=f"{n} rows", got=f"{len(arr)}"
                )
        self.x = torch.from_numpy(np.ascontiguousarray(x))
        ax = axis.values if isinstance(axis, SpectralAxis) else np.asarray(axis)
        self.axis = torch.as_tensor(np.array(ax), dtype=torch.float32)
        self.y = None if targets is None else torch.as_tensor(np.asarray(targets))
        if self.y is not None and self.y.dtype == torch.float64:
            self.y = self.y.float()
        self.extra = None if extra is None else torch.as_tensor(extra, dtype=torch.float32)
        self.augment = augment
        self.seed = int(seed)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.__getitems__([index])  # a batch of one; collate passes it through

    def __getitems__(self, indices: Sequence[int]) -> dict[str, torch.Tensor]:
        rows = np.asarray(indices, dtype=np.int64)
        idx = torch.from_numpy(rows)
        x = self.x[idx]
        if self.augment is not None:
            x = apply_augment(self.augment, x, self.axis, rows_seed(self.seed, rows))
        batch = {"x": x, "axis": self.axis}
        if self.y is not None:
            batch["y"] = self.y[idx]
        if self.extra is not None:
            batch["extra"] = self.extra[idx]
        return batch


class RandomBatchDataset(Dataset):
    """Batches of random rows, one source per batch, for unlabeled (pre)training at scale.

    Parameters
    ----------
    sources : sequence of (values, axis)
        ``values`` is an ndarray of shape (n_i, L_i) or anything with ``read(rows)`` and
        ``len`` (a :class:`SpectraStore`); ``axis`` its :class:`SpectralAxis` (taken from
        the store when ``None``).
    batch_size : int
        Rows per batch.
    transform : callable, optional
        ``transform(values (B, L_i), source_index) -> (values (B, C, L'), axis (L',))``
        applied to each batch after reading (preprocessing, cropping to a patch multiple).
    augment : callable, optional
        Batched augmentation applied to ``x``.
    batches_per_epoch : int, optional
        Items per epoch; default one pass worth of rows, ``sum(ceil(n_i / batch_size))``.
    seed : int, default=0
        Base seed; batch ``k`` of epoch ``e`` draws rows with seed ``(seed, e, k)`` so a
        run is reproducible and a resumed run reads the batches it would have read.
    """

    def __init__(
        self,
        sources: Sequence[tuple[np.ndarray | SpectraStore, SpectralAxis | None]],
        batch_size: int,
        transform: Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]] | None = None,
        augment: Augment | None = None,
        batches_per_epoch: int | None = None,
        seed: int = 0,
    ) -> None:
        if not sources:
            raise DataError("no spectra to train on", expected="at least one source", got="0")
        self.sources = []
        for values, axis in sources:
            if axis is None:
                axis = getattr(values, "axis", None)
            if axis is None:
                raise DataError("an in-memory source needs its axis", got="axis=None")
            if len(values) == 0:
                continue
            self.sources.append((values, axis))
        sizes = np.array([len(v) for v, _ in self.sources], dtype=np.int64)
        self.sizes = sizes
        self.batch_size = int(batch_size)
        per_source = -(-sizes // self.batch_size)
        # batch k belongs to the source whose cumulative batch count exceeds k
        self._cum = np.cumsum(per_source)
        self.n_batches = int(batches_per_epoch or self._cum[-1])
        self.transform = transform
        self.augment = augment
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Change the rows drawn for each batch (called at the start of every epoch)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n_batches

    def _rows(self, index: int) -> tuple[int, np.ndarray]:
        rng = np.random.default_rng((self.seed, self.epoch, index))
        # sources are drawn in proportion to their size
        k = index % int(self._cum[-1])
        src = int(np.searchsorted(self._cum, k, side="right"))
        n = int(self.sizes[src])
        take = min(self.batch_size, n)
        rows = np.sort(rng.choice(n, size=take, replace=False))
        return src, rows

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        src, rows = self._rows(int(index))
        values, axis = self.sources[src]
        block = values.read(rows) if hasattr(values, "read") else values[rows]
        block = np.asarray(block, dtype=np.float32)
        if self.transform is not None:
            block, ax = self.transform(block, src)
        else:
            ax = axis.values
        x = torch.from_numpy(np.ascontiguousarray(block, dtype=np.float32))
        if x.ndim == 2:
            x = x[:, None, :]
        axis_t = torch.as_tensor(np.array(ax), dtype=torch.float32)
        if self.augment is not None:
            seed = batch_seed(self.seed, self.epoch, int(index), 1)
            x = apply_augment(self.augment, x, axis_t, seed)
        return {"x": x, "axis": axis_t}
