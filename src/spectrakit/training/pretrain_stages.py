"""The stages of masked pretraining: sources -> data -> model -> task -> (trainer) -> package.

:func:`~spectrakit.training.api.pretrain` composes them; each takes the typed
:class:`~spectrakit.training.config.PretrainConfig` and the previous stage's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from spectrakit import bundle as _bundle
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import ConfigError, DataError, ModelError
from spectrakit.core.spectra import Spectra
from spectrakit.data.datamodule import PretrainDataModule
from spectrakit.data.store import SpectraStore
from spectrakit.models.input_crop import crop_unit
from spectrakit.tasks.masked import MaskedModelingTask
from spectrakit.training.config import PretrainConfig
from spectrakit.training.run import Run, Schedule
from spectrakit.training.sources import describe_sources

__all__ = [
    "PretrainData",
    "common_grid",
    "masked_task",
    "package_pretrained",
    "pretrain_data",
    "pretrain_model",
    "pretrain_sources",
    "probe_model",
]

INTENDED_USE = (
    "Pretrained encoder (masked spectral modeling). Fine-tune it with "
    "'spectrakit finetune --init' or fit_supervised(init=...); embed() works as is."
)


def common_grid(axes: Sequence[SpectralAxis], multiple: int = 1) -> SpectralAxis:
    """Uniform grid over the range every axis covers, at the coarsest spacing.

    Parameters
    ----------
    axes : sequence of SpectralAxis
        Axes in one unit.
    multiple : int, default=1
        The number of points is rounded down to a multiple of this (patch size).

    Returns
    -------
    SpectralAxis
    """
    lo = max(a.min for a in axes)
    hi = min(a.max for a in axes)
    if hi <= lo:
        raise DataError(
            "the spectra share no common axis range",
            expected="overlapping ranges",
            got="; ".join(a.describe() for a in axes),
            fix="pretrain an axis-aware model (spectrafm_*) or group compatible instruments",
        )
    step = max(abs(a.spacing) for a in axes)
    n = int(np.floor((hi - lo) / step + 1e-9)) + 1
    n = (n // multiple) * multiple
    if n < multiple or n < 2:
        raise DataError(
            "the common axis range is too short", expected=f">= {multiple} points", got=str(n)
        )
    lasers = {a.laser_wavelength for a in axes}
    # several lasers: the grid states none rather than the first instrument's
    laser = lasers.pop() if len(lasers) == 1 else None
    return replace(axes[0].with_values(lo + step * np.arange(n)), laser_wavelength=laser)


def pretrain_sources(spectra: Any) -> list:
    """The pretraining sources as a checked list of Spectra / SpectraStore."""
    sources = [spectra] if isinstance(spectra, Spectra | SpectraStore) else list(spectra)
    for i, s in enumerate(sources):
        if not isinstance(s, Spectra | SpectraStore):
            raise DataError(
                f"pretraining source #{i} is not spectra",
                expected="Spectra or SpectraStore",
                got=type(s).__name__,
            )
    return sources


def probe_model(cfg: PretrainConfig) -> tuple[Any, dict]:
    """A throw-away instance of the model (patch size, axis awareness) and its kwargs."""
    from spectrakit import models

    # the CLS token gets no gradient from patch reconstruction: pool the patch tokens instead
    kwargs = {"use_cls_token": False, **(cfg.model_kwargs or {})}
    try:
        probe = models.create(cfg.model, **kwargs)
    except ModelError:
        kwargs = dict(cfg.model_kwargs or {})
        probe = models.create(cfg.model, **kwargs)
    if getattr(probe, "patch_size", None) is None:
        raise ConfigError(
            f"{cfg.model} cannot be pretrained by masked modeling",
            expected="a specbert_* or spectrafm_* model",
            got=cfg.model,
        )
    return probe, kwargs


@dataclass
class PretrainData:
    """The prepared data of a pretraining run."""

    dm: PretrainDataModule
    raw_sources: list  # as given: the bundle describes every one of them
    sources: list  # in one unit (and preprocessed, when a pipeline is given)
    axes: list[SpectralAxis]
    common: SpectralAxis | None  # the one grid every source is resampled onto
    model_axis: SpectralAxis
    input_axis: SpectralAxis
    preprocessor: Any


def pretrain_data(raw: list, probe: Any, cfg: PretrainConfig) -> PretrainData:
    """Sources in one unit, on a common grid unless the model is axis-aware; a data module."""
    patch = crop_unit(probe)
    unit = (raw[0].axis.unit, raw[0].axis.kind)
    sources = [
        s.convert(unit[0], kind=unit[1])
        if isinstance(s, Spectra) and (s.axis.unit, s.axis.kind) != unit
        else s
        for s in raw
    ]
    axes = [s.axis for s in sources]
    grid = cfg.grid
    if probe.axis_aware:
        grid = None
    elif grid is None:
        grid = common_grid(axes, patch)
    common, preprocessor = grid, None
    if cfg.pipeline is not None:
        sources, grid, preprocessor = _preprocess_sources(sources, grid, cfg.pipeline, patch)
    dm = PretrainDataModule(
        sources, patch, grid=grid, val_fraction=cfg.val_fraction, batch_size=cfg.batch_size,
        augment=cfg.augment, num_workers=cfg.num_workers, seed=cfg.seed,
    )  # fmt: skip
    dm.setup("fit")
    if cfg.batches_per_epoch:
        dm.train_dataset.n_batches = int(cfg.batches_per_epoch)
    ref = grid if grid is not None else sources[0].axis
    ref = ref.with_values(ref.values[dm._crop(ref.values)])
    input_axis = ref if preprocessor is None else preprocessor.input_axis_
    return PretrainData(dm, raw, sources, axes, common, ref, input_axis, preprocessor)


def _preprocess_sources(
    sources: list, grid: SpectralAxis | None, pipeline: Any, patch: int
) -> tuple[list[Spectra], None, Any]:
    """Fit one preprocessing on all (in-memory) spectra brought onto one grid; apply it."""
    from spectrakit.preprocessing.channels import ChannelPreprocessor

    if any(not isinstance(s, Spectra) for s in sources):
        raise ConfigError(
            "a pretraining pipeline needs spectra in memory",
            expected="Spectra sources",
            got="a SpectraStore",
            fix="preprocess the store's spectra before writing it",
        )
    if grid is None:
        if len({(s.axis.n_points, s.axis.min, s.axis.max) for s in sources}) > 1:
            raise ConfigError(
                "a pretraining pipeline needs one common grid",
                expected="sources on the same axis, or a model that is not axis-aware",
                got=f"{len(sources)} different axes",
            )
        grid = sources[0].axis
    data = Spectra.concat([s if s.axis.allclose(grid) else s.resample(grid) for s in sources])
    pre = ChannelPreprocessor([pipeline]).fit(data, length_multiple=patch)
    out = Spectra(pre.transform(data)[:, 0, :], pre.output_axis_, data.meta)
    return [out], None, pre


def pretrain_model(data: PretrainData, probe: Any, kwargs: dict, cfg: PretrainConfig) -> Any:
    """The network to pretrain (one input channel; the reconstruction head is its own)."""
    from spectrakit import models

    length = None if probe.axis_aware else data.model_axis.n_points
    return models.create(cfg.model, in_channels=1, n_outputs=1, input_length=length, **kwargs)


def masked_task(net: Any, cfg: PretrainConfig, total: Schedule) -> MaskedModelingTask:
    """The masked-modeling Lightning task."""
    return MaskedModelingTask(
        net, mask_ratio=cfg.mask_ratio, mask_mode=cfg.mask_mode, normalize=cfg.normalization,
        lr=cfg.lr, weight_decay=cfg.weight_decay, schedule=cfg.schedule, warmup=cfg.warmup,
        total_steps=total.max_steps,
    )  # fmt: skip


def package_pretrained(
    run: Run, data: PretrainData, task: MaskedModelingTask, trainer: Any, best: dict,
    cfg: PretrainConfig, trainer_info: dict,
) -> None:  # fmt: skip
    """Write the pretrained bundle (task ``"pretrained"``) with held-out reconstruction."""
    net = task.model
    net.cpu().eval()
    metrics = _reconstruction_metrics(task, data.dm) if data.dm.val_dataset is not None else {}
    several = data.common is not None and len(data.raw_sources) >= 2
    training = {
        "data": describe_sources(data.raw_sources),
        "grid": data.common.describe() if several else None,
        "n_spectra": int(sum(len(s) for s in data.sources)),
        "sources": [a.describe() for a in data.axes], "mask_ratio": cfg.mask_ratio,
        "steps": int(trainer.global_step), "epochs": int(trainer.current_epoch),
        "seed": cfg.seed, "options": cfg.to_record(), "trainer": trainer_info, **best,
    }  # fmt: skip
    scaling = _intensity_scaling(task, net)
    if scaling is not None:
        training["input_scaling"] = scaling
    _bundle.save(
        run.out, model=net, task="pretrained", axis=data.input_axis, model_axis=data.model_axis,
        preprocessor=data.preprocessor, normalize=cfg.normalize and scaling is None,
        training=training,
        metrics=metrics, intended_use=INTENDED_USE,
    )  # fmt: skip


def _intensity_scaling(task: MaskedModelingTask, net: Any) -> dict | None:
    """With ``normalize="intensity"``: the corpus offset and scale, moved into the network.

    The encoder's ``input_scaling`` (recorded with its kwargs in the bundle) then applies
    them in every forward pass, so a fine-tuned copy sees the pretraining's inputs.
    """
    if task.hparams.normalize != "intensity":
        return None
    offset, sd = (float(v) for v in task.norm_stats)
    scale = sd + 1e-6  # exactly the task's (x - mean) / (sd + 1e-6)
    net.input_scaling = (offset, scale)
    net.model_kwargs = {**getattr(net, "model_kwargs", {}), "input_scaling": [offset, scale]}
    return {"mode": "intensity", "offset": offset, "scale": scale}


@torch.no_grad()
def _reconstruction_metrics(task: MaskedModelingTask, dm: PretrainDataModule) -> dict:
    """Held-out masked reconstruction MSE vs the trivial per-spectrum-mean predictor."""
    task.eval()
    losses, bases = [], []
    for i in range(len(dm.val_dataset)):
        batch = dm.val_dataset[i]
        gen = torch.Generator().manual_seed(1000 + i)
        res = task.reconstruction(batch, generator=gen)
        losses.append(float(res["loss"]))
        bases.append(float(res["baseline"]))
    loss, base = float(np.mean(losses)), float(np.mean(bases))
    return {"val_masked_mse": loss, "val_trivial_mse": base, "val_mse_ratio": loss / base}
