"""Lightning data modules: labelled spectra for supervised training, unlabeled for pretraining.

Preprocessing is fitted on the training split only and then applied to validation data;
augmentation runs on the fly on training batches; tabular features are standardized with
training statistics. Setup is deterministic (seeded split) and idempotent, so every
distributed rank builds the same splits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError
from spectrakit.core.numeric import central_span, refuse_nonfinite
from spectrakit.core.resample import resample_values
from spectrakit.core.spectra import Spectra
from spectrakit.data.dataset import RandomBatchDataset, SpectraDataset, collate_batch
from spectrakit.data.resumable import ResumableLoader, ResumableSampler
from spectrakit.data.store import SpectraStore
from spectrakit.preprocessing.channels import ChannelPreprocessor

__all__ = ["PretrainDataModule", "SpectraDataModule", "encode_targets", "split_indices"]

TASKS = ("regression", "classification", "multilabel")


def split_indices(
    n: int, val_fraction: float, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Random (or group-wise) train/validation indices.

    Parameters
    ----------
    n : int
        Number of samples.
    val_fraction : float
        Fraction of samples (or groups) held out, in (0, 1).
    seed : int
        Random seed.
    groups : ndarray of shape (n,), optional
        Group labels (sample, batch, patient); a group never straddles the two splits.

    Returns
    -------
    train, val : ndarray of int
    """
    rng = np.random.default_rng(seed)
    if groups is None:
        perm = rng.permutation(n)
        n_val = round(val_fraction * n)
        n_val = min(max(n_val, 1), n - 1)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])
    uniq = np.unique(groups)
    if uniq.size < 2:
        raise DataError(
            "cannot split by group", expected="at least 2 groups", got=f"{uniq.size} group"
        )
    perm = rng.permutation(uniq)
    n_val = min(max(round(val_fraction * uniq.size), 1), uniq.size - 1)
    val_mask = np.isin(groups, perm[:n_val])
    return np.flatnonzero(~val_mask), np.flatnonzero(val_mask)


def encode_targets(
    spectra: Spectra, targets: Sequence[str], task: str, classes: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str] | None]:
    """Targets as model arrays.

    Returns
    -------
    y : ndarray
        regression: float32 (n, T); classification: int64 (n,) class indices;
        multilabel: float32 (n, T) of 0/1.
    classes : list of str or None
        Class names (classification) or label names (multilabel).
    """
    targets = list(targets)
    if task == "regression":
        y = spectra.targets(targets).astype(np.float32)
        refuse_nonfinite(
            y,
            "regression targets contain missing values",
            expected="a number for every spectrum",
            what="spectra without a value",
            fix="drop those spectra or fill the targets",
        )
        return y, None
    if task == "multilabel":
        y = spectra.targets(targets).astype(np.float32)
        if not np.all(np.isin(y, (0.0, 1.0))):
            raise DataError(
                "multi-label targets must be 0/1", expected="0 or 1", got="other values"
            )
        return y, targets
    if task != "classification":
        raise DataError("unknown task", expected=" | ".join(TASKS), got=repr(task))
    if len(targets) != 1:
        raise DataError(
            "classification takes one label column",
            expected="one column",
            got=", ".join(targets),
            fix="use task='multilabel' for several 0/1 columns",
        )
    col = targets[0]
    if col not in spectra.meta.columns:
        spectra.targets(col)  # raises DataError naming the available columns
    labels = spectra.meta[col].astype(str).to_numpy()
    if classes is None:
        classes = sorted(set(labels))
    classes = [str(c) for c in classes]
    lookup = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(labels) - set(lookup))
    if unknown:
        raise DataError(
            f"labels not seen in training in column {col!r}",
            expected=", ".join(classes),
            got=", ".join(unknown[:5]),
        )
    return np.array([lookup[v] for v in labels], dtype=np.int64), classes


class SpectraDataModule(L.LightningDataModule):
    """Labelled spectra for supervised training.

    Parameters
    ----------
    train : Spectra
        Training spectra with target columns in ``meta``.
    targets : sequence of str
        Target column names.
    task : {"regression", "classification", "multilabel"}
    val : Spectra, optional
        Validation spectra; by default ``val_fraction`` of ``train`` is held out.
    pipeline : pipeline spec, list of specs or ChannelPreprocessor, optional
        Preprocessing (one spec per channel when a list); fitted on the training split only.
        An already fitted :class:`ChannelPreprocessor` is applied as it is.
    extra_features : sequence of str, optional
        Numeric metadata columns fed to the model as tabular features.
    groups : str, optional
        Metadata column whose groups never straddle the train/validation split.
    val_fraction : float, default=0.2
    batch_size : int, default=32
    augment : callable, optional
        Batched augmentation (B, C, L) -> (B, C, L) applied to training batches.
    num_workers : int, default=0
    seed : int, default=0
    length_multiple : int, optional
        Keep the central multiple of this many points of the model input (patch models).
    """

    def __init__(
        self,
        train: Spectra,
        targets: Sequence[str],
        task: str = "regression",
        *,
        val: Spectra | None = None,
        pipeline: Any = None,
        extra_features: Sequence[str] | None = None,
        groups: str | None = None,
        val_fraction: float = 0.2,
        batch_size: int = 32,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        num_workers: int = 0,
        seed: int = 0,
        length_multiple: int | None = None,
    ) -> None:
        super().__init__()
        if task not in TASKS:
            raise DataError("unknown task", expected=" | ".join(TASKS), got=repr(task))
        self.train_spectra = train
        self.val_spectra = val
        self.targets = [targets] if isinstance(targets, str) else list(targets)
        self.task = task
        if isinstance(pipeline, ChannelPreprocessor):
            self.preprocessor = pipeline  # used as given when already fitted (transfer)
        else:
            specs = pipeline if isinstance(pipeline, list) else [pipeline]
            self.preprocessor = ChannelPreprocessor(specs)
        self.extra_features = list(extra_features or [])
        self.groups = groups
        self.val_fraction = val_fraction
        self.batch_size = int(batch_size)
        self.augment = augment
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.length_multiple = length_multiple
        self._ready = False

    # ------------------------------------------------------------------ setup
    def setup(self, stage: str | None = None) -> None:
        """Split, fit preprocessing on the training split, build the datasets (once)."""
        if self._ready:
            return
        train, val = self.train_spectra, self.val_spectra
        if val is None:
            if train.n_spectra < 4:
                raise DataError(
                    "too few spectra to hold out a validation split",
                    expected="at least 4 spectra (or pass val=...)",
                    got=str(train.n_spectra),
                )
            groups = None
            if self.groups is not None:
                train._require_column(self.groups)
                groups = train.meta[self.groups].to_numpy()
            tr, va = split_indices(train.n_spectra, self.val_fraction, self.seed, groups)
            train, val = train.select(tr), train.select(va)
        self.train_split, self.val_split = train, val
        y_tr, self.classes = encode_targets(train, self.targets, self.task)
        y_va, _ = encode_targets(val, self.targets, self.task, self.classes)
        fit_y = y_tr if self.task == "regression" else None
        if not self.preprocessor.is_fitted:
            self.preprocessor.fit(train, fit_y, self.length_multiple)
        x_tr = self.preprocessor.transform(train)
        x_va = self.preprocessor.transform(val)
        self.extra_mean = self.extra_std = None
        e_tr = e_va = None
        if self.extra_features:
            e_tr = train.targets(self.extra_features).astype(np.float32)
            e_va = val.targets(self.extra_features).astype(np.float32)
            self.extra_mean = e_tr.mean(axis=0)
            self.extra_std = np.where(e_tr.std(axis=0) > 0, e_tr.std(axis=0), 1.0)
            e_tr = (e_tr - self.extra_mean) / self.extra_std
            e_va = (e_va - self.extra_mean) / self.extra_std
        axis = self.preprocessor.output_axis_
        self.train_dataset = SpectraDataset(
            x_tr, axis, y_tr, e_tr, augment=self.augment, seed=self.seed
        )
        self.val_dataset = SpectraDataset(x_va, axis, y_va, e_va)
        self.y_train = y_tr
        self._ready = True

    # ------------------------------------------------------------------ properties
    @property
    def input_axis(self) -> SpectralAxis:
        """Axis of the raw spectra the preprocessing was fitted on."""
        return self.preprocessor.input_axis_

    @property
    def model_axis(self) -> SpectralAxis:
        """Axis of the model input (after preprocessing)."""
        return self.preprocessor.output_axis_

    @property
    def in_channels(self) -> int:
        """Number of input channels C."""
        return self.preprocessor.n_channels

    @property
    def input_length(self) -> int:
        """Number of points L of the model input."""
        return self.model_axis.n_points

    @property
    def n_extra(self) -> int:
        """Number of tabular features."""
        return len(self.extra_features)

    # ------------------------------------------------------------------ loaders
    def train_dataloader(self) -> DataLoader:
        """Shuffled training batches (order seeded per epoch; position kept in checkpoints)."""
        sampler = ResumableSampler(self.train_dataset, self.batch_size, self.seed)
        return ResumableLoader(
            self.train_dataset,
            sampler,
            num_workers=self.num_workers,
            collate_fn=collate_batch,
            persistent_workers=self.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader:
        """Validation batches in order."""
        return DataLoader(
            self.val_dataset,
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=collate_batch,
            persistent_workers=self.num_workers > 0,
            generator=torch.Generator(),  # starting it never draws from the global stream
        )


class PretrainDataModule(L.LightningDataModule):
    """Unlabeled spectra from one or several instruments (in memory or on disk).

    Parameters
    ----------
    sources : sequence of Spectra or SpectraStore
        Unlabeled spectra; each source keeps its own axis.
    patch_size : int
        Every batch is cropped to a multiple of this many points (masked modeling works on
        whole patches).
    grid : SpectralAxis, optional
        Common grid every source is resampled onto (for models that are not axis-aware);
        ``None`` keeps each source's own axis (for axis-aware models).
    val_fraction : float, default=0.05
        Fraction of in-memory spectra held out to measure reconstruction; stores contribute
        their last ``val_fraction`` rows (capped at 2,000).
    batch_size : int, default=64
    augment : callable, optional
    num_workers : int, default=0
    seed : int, default=0
    """

    def __init__(
        self,
        sources: Sequence[Spectra | SpectraStore],
        patch_size: int,
        *,
        grid: SpectralAxis | None = None,
        val_fraction: float = 0.05,
        batch_size: int = 64,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.sources = list(sources)
        if not self.sources:
            raise DataError("nothing to pretrain on", expected="at least one Spectra", got="0")
        self.patch_size = int(patch_size)
        self.grid = grid
        self.val_fraction = val_fraction
        self.batch_size = int(batch_size)
        self.augment = augment
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self._ready = False

    def _crop(self, axis: np.ndarray) -> slice:
        start, stop = central_span(len(axis), self.patch_size)
        if start == stop:
            raise DataError(
                "spectra are shorter than one patch",
                expected=f"at least {self.patch_size} points",
                got=f"{len(axis)} points",
                fix="use a model with a smaller patch size",
            )
        return slice(start, stop)

    def _transform(self, block: np.ndarray, src: int) -> tuple[np.ndarray, np.ndarray]:
        axis = self._axes[src]
        if self.grid is not None and not axis.allclose(self.grid, rtol=1e-9, atol=1e-9):
            block = resample_values(block, axis.values, self.grid.values, fill="edge")
            axis = self.grid
        sl = self._crop(axis.values)
        return block[:, sl], axis.values[sl]

    def setup(self, stage: str | None = None) -> None:
        """Hold out validation rows and build the random-batch datasets (once)."""
        if self._ready:
            return
        train_src, val_src, self._axes = [], [], []
        for i, src in enumerate(self.sources):
            n = len(src)
            if isinstance(src, SpectraStore):
                n_val = min(2000, int(self.val_fraction * n))
                self._axes.append(src.axis)
                train_src.append(_StoreView(src, 0, n - n_val))
                val_src.append(_StoreView(src, n - n_val, n))
                continue
            rng = np.random.default_rng((self.seed, i))
            perm = rng.permutation(n)
            n_val = round(self.val_fraction * n) if n >= 10 else 0
            self._axes.append(src.axis)
            train_src.append(src.values[np.sort(perm[n_val:])])
            val_src.append(src.values[np.sort(perm[:n_val])])
        if self.grid is not None:
            for ax in self._axes:
                if ax.unit != self.grid.unit or ax.kind != self.grid.kind:
                    raise DataError(
                        "a source is in another unit than the pretraining grid",
                        expected=f"{self.grid.unit} ({self.grid.kind})",
                        got=f"{ax.unit} ({ax.kind})",
                        fix="convert it first with spectra.convert(unit)",
                    )
        self.train_dataset = RandomBatchDataset(
            [(v, a) for v, a in zip(train_src, self._axes, strict=True)],
            self.batch_size,
            transform=self._transform,
            augment=self.augment,
            seed=self.seed,
        )
        val = [(v, a) for v, a in zip(val_src, self._axes, strict=True) if len(v)]
        self.val_dataset = (
            RandomBatchDataset(
                val, self.batch_size, transform=self._val_transform, seed=self.seed + 1
            )
            if val
            else None
        )
        self._val_index = [i for i, v in enumerate(val_src) if len(v)]
        self._ready = True

    def _val_transform(self, block: np.ndarray, src: int) -> tuple[np.ndarray, np.ndarray]:
        return self._transform(block, self._val_index[src])

    def train_dataloader(self) -> DataLoader:
        """Random batches, one source per batch (order seeded per epoch, position checkpointed)."""
        sampler = ResumableSampler(self.train_dataset, 1, self.seed)
        return ResumableLoader(
            self.train_dataset, sampler, batched=False, num_workers=self.num_workers
        )

    def val_dataloader(self) -> DataLoader | list:
        """Held-out batches (empty when there is nothing to hold out)."""
        if self.val_dataset is None:
            return []
        return DataLoader(
            self.val_dataset, batch_size=None, shuffle=False, generator=torch.Generator()
        )


class _StoreView:
    """Rows ``[start, stop)`` of a store, read like the store itself."""

    def __init__(self, store: SpectraStore, start: int, stop: int) -> None:
        self.store, self.start, self.stop = store, int(start), int(stop)

    def __len__(self) -> int:
        return self.stop - self.start

    def read(self, rows: np.ndarray) -> np.ndarray:
        return self.store.read(np.asarray(rows) + self.start)
