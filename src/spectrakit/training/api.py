"""High-level training: ``fit_supervised``, ``pretrain`` and ``resume``; each ends in a bundle.

A run keeps its working state next to the bundle, in ``<out>.run/``: ``run.json`` (the
options of the call), ``checkpoints/last.ckpt`` (refreshed every ``checkpoint_every``
steps, written atomically), ``checkpoints/best.ckpt`` (lowest validation loss) and logs
(CSV, TensorBoard). Re-running with ``resume=True`` (or :func:`resume`) continues from
``last.ckpt`` at the exact optimizer step and stops at the same total number of steps.
The final artifact is always the safetensors bundle written from the best checkpoint;
checkpoints never leave the run directory.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from spectrakit import bundle as _bundle
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import ConfigError, DataError, ModelError, TrainingError
from spectrakit.core.spectra import Spectra
from spectrakit.data.datamodule import PretrainDataModule, SpectraDataModule
from spectrakit.data.store import SpectraStore
from spectrakit.io import atomic_path
from spectrakit.models.heads import OutputSpec, n_model_outputs
from spectrakit.predict.core import conform_axis
from spectrakit.predict.loader import load as _load_predictor
from spectrakit.preprocessing.quality import summarize
from spectrakit.tasks.masked import MaskedModelingTask
from spectrakit.tasks.optim import CYCLICAL, schedule_spec
from spectrakit.tasks.supervised import SupervisedTask, tune_thresholds
from spectrakit.training.lr_finder import find_learning_rate
from spectrakit.training.recipe import parse_split, recipe, split_fold
from spectrakit.training.sources import describe_sources
from spectrakit.training.trainer import LAST, TrainerOptions, build_trainer, load_checkpoint

__all__ = ["fit_supervised", "pretrain", "resume", "run_dir"]

_RUN = "run.json"

_log = logging.getLogger(__name__)


def run_dir(out: str | Path) -> Path:
    """Working directory (checkpoints, logs) of the run that writes bundle ``out``."""
    out = Path(out)
    return out.with_name(out.name + ".run")


# ---------------------------------------------------------------------- run bookkeeping
def _prepare_run(
    out: str | Path | None, kind: str, call: dict, resume: bool, work_dir: str | Path | None
) -> tuple[Path | None, Path, Path | None, Any]:
    """Bundle path, work dir, checkpoint to resume from, and a temp holder (or None)."""
    holder = None
    if out is None:
        holder = tempfile.TemporaryDirectory(prefix="spectrakit-")
        out = Path(holder.name) / "bundle"
    out = Path(out)
    work = Path(work_dir) if work_dir is not None else run_dir(out)
    last = work / "checkpoints" / f"{LAST}.ckpt"
    ckpt = None
    if resume:
        if not last.is_file():
            raise TrainingError(
                "nothing to resume",
                expected=f"a checkpoint {last}",
                got="no checkpoint",
                fix="start the run without --resume",
            )
        ckpt = last
    elif (work / "checkpoints").is_dir() and any((work / "checkpoints").glob("*.ckpt")):
        # a fresh run must not pick up the old run's best checkpoint
        for f in (work / "checkpoints").glob("*.ckpt"):
            f.unlink()
    work.mkdir(parents=True, exist_ok=True)
    record = {"kind": kind, "out": str(out), **call}
    with atomic_path(work / _RUN) as tmp:
        tmp.write_text(json.dumps(record, indent=2, default=str) + "\n", encoding="utf-8")
    return out, work, ckpt, holder


def _is_zero(trainer: L.Trainer) -> bool:
    return bool(trainer.is_global_zero)


def _best_state(trainer: L.Trainer, best_cb: Any, task: L.LightningModule) -> dict:
    """Metadata of the best checkpoint, after loading its weights into ``task``."""
    path = getattr(best_cb, "best_model_path", "") if best_cb is not None else ""
    if path and Path(path).is_file():
        ckpt = load_checkpoint(path)
        task.load_state_dict(ckpt["state_dict"])
        score = best_cb.best_model_score
        return {
            "best_epoch": int(ckpt.get("epoch", -1)),
            "best_step": int(ckpt.get("global_step", -1)),
            "best_val_loss": None if score is None else float(score),
        }
    return {"best_epoch": None, "best_step": None, "best_val_loss": None}


def _check_spectra(obj: Any, name: str) -> Spectra:
    if not isinstance(obj, Spectra):
        raise DataError(
            f"{name} must be Spectra",
            expected="a spectrakit.Spectra (use spectrakit.read)",
            got=type(obj).__name__,
        )
    return obj


# ---------------------------------------------------------------------- supervised
def _init_model(
    init: str | Path,
    dm: SpectraDataModule,
    n_outputs: int,
) -> tuple[Any, Any]:
    """A model with the pretrained encoder weights of bundle ``init`` and a fresh head."""
    from spectrakit import models

    pretrained, cfg = _bundle.load_model(init)
    spec = dict(cfg.family.kwargs)
    if int(spec.get("in_channels", 1)) != dm.in_channels:
        raise TrainingError(
            "the pretrained model takes another number of input channels",
            expected=f"{spec.get('in_channels', 1)} channel(s)",
            got=f"{dm.in_channels}",
            fix="use the same number of channel pipelines as in pretraining",
        )
    spec.update(n_outputs=n_outputs, n_extra=dm.n_extra, input_length=dm.input_length)
    model = models.create(cfg.family.name, **spec)
    own = model.state_dict()
    skip = ("head.", "fusion.")
    loaded = {
        k: v
        for k, v in pretrained.state_dict().items()
        if k in own and own[k].shape == v.shape and not k.startswith(skip)
    }
    encoder = [k for k in own if not k.startswith(skip)]
    if len(loaded) < 0.9 * len(encoder):
        raise TrainingError(
            "the pretrained weights do not fit the model",
            expected=f"{len(encoder)} encoder tensors",
            got=f"{len(loaded)} matching",
            fix="fine-tune with the spectra length/channels used in pretraining",
        )
    model.load_state_dict(loaded, strict=False)
    return model, cfg


def _class_weights(option: Any, y: np.ndarray, task: str, n: int) -> list[float] | None:
    if option is None:
        return None
    if option == "balanced":
        if task == "multilabel":
            pos = y.sum(axis=0)
            return [float((len(y) - p) / max(p, 1)) for p in pos]
        counts = np.bincount(y, minlength=n).astype(float)
        return [float(len(y) / (n * max(c, 1))) for c in counts]
    weights = [float(w) for w in option]
    if len(weights) != n:
        raise ConfigError(
            "class_weights has the wrong length", expected=str(n), got=str(len(weights))
        )
    return weights


def _validation_metrics(predictor: Any, val: Spectra, targets: list[str], task: str) -> dict:
    from spectrakit.evaluation.metrics import classification_metrics, regression_metrics

    pred = predictor.predict(val)
    out: dict[str, Any] = {}
    if task == "regression":
        for t in targets:
            m = regression_metrics(val.targets(t), pred[t].to_numpy())
            out.update(
                {f"val_{k}_{t}" if len(targets) > 1 else f"val_{k}": v for k, v in m.items()}
            )
    elif task == "classification":
        m = classification_metrics(
            val.meta[targets[0]].astype(str).to_numpy(), pred["predicted"].astype(str).to_numpy()
        )
        out.update({f"val_{k}": m[k] for k in ("accuracy", "balanced_accuracy", "macro_f1")})
    else:
        y = val.targets(targets) > 0.5
        p = pred[targets].to_numpy(dtype=bool)
        out["val_subset_accuracy"] = float(np.mean(np.all(y == p, axis=1)))
        out["val_label_accuracy"] = float(np.mean(y == p))
    return out


def _merge_options(defaults: dict[str, Any], options: dict[str, Any], what: str, fn: str) -> None:
    """Update ``defaults`` with ``options`` in place, refusing names it does not know."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ConfigError(
            f"unknown {what} option(s)",
            expected=f"see help(spectrakit.training.{fn})",
            got=", ".join(unknown),
        )
    defaults.update(options)


def fit_supervised(
    train: Spectra,
    targets: str | Sequence[str],
    *,
    task: str = "regression",
    model: str = "cnn1d_tiny",
    pipeline: Any = None,
    val: Spectra | None = None,
    init: str | Path | None = None,
    max_epochs: int = 50,
    batch_size: int = 32,
    lr: float | str = 1e-3,
    seed: int = 0,
    out: str | Path | None = None,
    **options: Any,
) -> Any:
    """Train (or fine-tune) a model on labelled spectra and return its Predictor.

    Parameters
    ----------
    train : Spectra
        Training spectra; targets are columns of ``train.meta``.
    targets : str or sequence of str
        Target column(s): numeric for regression, one label column for classification,
        several 0/1 columns for multi-label.
    task : {"regression", "classification", "multilabel"}, default="regression"
    model : str, default="cnn1d_tiny"
        Registered model name (ignored with ``init``: the pretrained architecture is used).
    pipeline : pipeline spec or list of specs, optional
        Preprocessing fitted on the training split; a list builds one input channel per
        entry. With ``init`` and no pipeline, the pretrained bundle's preprocessing is used.
    val : Spectra, optional
        Validation spectra (default: ``val_fraction`` of ``train``, split by ``groups``).
    init : str or Path, optional
        Pretrained bundle whose encoder initializes the model.
    max_epochs : int, default=50
    batch_size : int, default=32
    lr : float or "auto", default=1e-3
        Peak learning rate; ``"auto"`` runs Lightning's learning-rate finder.
    seed : int, default=0
    out : str or Path, optional
        Bundle directory (a temporary one when omitted).
    **options
        ``freeze`` (none | encoder | all-but-last-K), ``head_lr``, ``layer_decay``,
        ``weight_decay``, ``schedule`` (cosine | onecycle | triangular | triangular2 |
        exp_range | cyclic | constant), ``cycle_epochs`` (half-cycle length of a cyclical
        schedule, in epochs), ``clr_frac`` (lower cyclical bound read from the learning-rate
        sweep with ``lr="auto"``), ``warmup``, ``label_smoothing``, ``class_weights``
        (list or "balanced"), ``one_vs_rest``, ``uncertainty``, ``mixup_alpha``, ``mix``,
        ``extra_features``, ``groups``, ``val_fraction``, ``augment``, ``num_workers``,
        ``model_kwargs``, ``resume``, ``work_dir``, ``max_steps`` and the
        :class:`~spectrakit.training.trainer.TrainerOptions` (``accelerator``, ``devices``,
        ``num_nodes``, ``strategy``, ``precision``, ``gradient_clip``, ``patience``,
        ``checkpoint_every``, ``progress``, ``loggers``, ``callbacks``, ...).

    Returns
    -------
    Predictor
        The trained model loaded from its bundle (``None`` on non-zero distributed ranks).

    Examples
    --------
    >>> predictor = fit_supervised(spectra, "glucose", model="cnn1d_tiny")  # doctest: +SKIP
    >>> predictor.predict(new_spectra)["glucose"]  # doctest: +SKIP
    """
    from spectrakit import models

    train = _check_spectra(train, "train")
    if val is not None:
        val = _check_spectra(val, "val")
    targets = [targets] if isinstance(targets, str) else list(targets)
    trainer_opts = TrainerOptions.pop_from(options)
    opt = {
        "freeze": "none",
        "head_lr": None,
        "layer_decay": None,
        "weight_decay": 1e-4,
        "schedule": "cosine",
        "cycle_epochs": None,
        "clr_frac": 0.5,
        "warmup": 0.05,
        "label_smoothing": 0.0,
        "class_weights": None,
        "one_vs_rest": False,
        "uncertainty": False,
        "mixup_alpha": 0.0,
        "mix": None,
        "extra_features": None,
        "groups": None,
        "val_fraction": 0.2,
        "augment": None,
        "num_workers": 0,
        "model_kwargs": None,
        "resume": False,
        "work_dir": None,
        "max_steps": None,
        "split": None,
    }
    _merge_options(opt, options, "training", "fit_supervised")
    split = parse_split(opt["split"])
    if split is not None:
        if val is not None:
            raise ConfigError(
                "a split and validation spectra are both given",
                expected="split=K/N or val=...",
                got="both",
                fix="drop one of them",
            )
        train, val = split_fold(train, split, groups=opt["groups"], seed=seed)
    call = {
        "targets": targets,
        "task": task,
        "model": model,
        "init": None if init is None else str(init),
        "max_epochs": max_epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "options": {k: v for k, v in opt.items() if k not in ("mix", "augment")},
        "trainer": trainer_opts.to_dict(),
    }
    facts = recipe(
        model=model if init is None else _bundle.read_config(Path(init)).family.name,
        task=task,
        targets=targets,
        pipeline=pipeline,
        augment=opt["augment"],
        split=split,
        seed=seed,
        label_smoothing=opt["label_smoothing"],
        mixup=opt["mixup_alpha"],
    )
    out, work, ckpt, holder = _prepare_run(out, "supervised", call, opt["resume"], opt["work_dir"])
    L.seed_everything(seed, workers=True, verbose=False)

    pre_cfg, normalize, name = None, False, model
    kwargs = {"input_length": train.n_points, **(opt["model_kwargs"] or {})}
    if init is not None:
        pre_cfg = _bundle.read_config(Path(init))
        normalize = pre_cfg.normalize
        name = pre_cfg.family.name
        kwargs = dict(pre_cfg.family.kwargs)
        if pipeline is None and any(p is not None for p in pre_cfg.preprocessing):
            # transfer the preprocessing fitted on the pretraining corpus, unchanged
            pipeline = _load_predictor(init).preprocessor
    probe = models.create(name, **kwargs)
    if init is not None and not probe.axis_aware:
        # a fixed-grid encoder sees the grid it was pretrained on
        grid = pre_cfg.axis
        train = conform_axis(train, grid)
        val = None if val is None else conform_axis(val, grid)
    dm = SpectraDataModule(
        train,
        targets,
        task,
        val=val,
        pipeline=pipeline,
        extra_features=opt["extra_features"],
        groups=opt["groups"],
        val_fraction=opt["val_fraction"],
        batch_size=batch_size,
        augment=opt["augment"],
        num_workers=opt["num_workers"],
        seed=seed,
        length_multiple=getattr(probe, "patch_size", None),
    )
    dm.setup("fit")
    n_targets = len(dm.classes) if task != "regression" else len(targets)
    spec = OutputSpec(
        task=task,
        n_targets=n_targets,
        uncertainty=bool(opt["uncertainty"]) and task == "regression",
        one_vs_rest=bool(opt["one_vs_rest"]) and task == "classification",
    )
    if task == "regression":
        y = dm.y_train.reshape(len(dm.y_train), -1).astype(np.float64)
        std = y.std(axis=0)
        spec.target_mean = y.mean(axis=0).tolist()
        spec.target_std = np.where(std > 0, std, 1.0).tolist()
    if init is not None:
        net, _ = _init_model(init, dm, n_model_outputs(spec))
    else:
        net = models.create(
            model,
            in_channels=dm.in_channels,
            n_outputs=n_model_outputs(spec),
            input_length=dm.input_length,
            n_extra=dm.n_extra,
            **(opt["model_kwargs"] or {}),
        )
    steps_per_epoch = math.ceil(len(dm.train_dataset) / batch_size)
    if isinstance(trainer_opts.devices, int) and trainer_opts.devices > 1:
        steps_per_epoch = math.ceil(
            steps_per_epoch / (trainer_opts.devices * trainer_opts.num_nodes)
        )
    max_steps = int(opt["max_steps"] or max_epochs * steps_per_epoch)
    trainer_opts.log_every_n_steps = max(1, min(trainer_opts.log_every_n_steps, steps_per_epoch))
    task_module = SupervisedTask(
        net,
        spec,
        label_smoothing=opt["label_smoothing"],
        class_weights=_class_weights(opt["class_weights"], dm.y_train, task, n_targets),
        mixup_alpha=opt["mixup_alpha"],
        mix=opt["mix"],
        freeze=opt["freeze"],
        lr=1e-3 if lr == "auto" else float(lr),
        head_lr=opt["head_lr"],
        layer_decay=opt["layer_decay"],
        weight_decay=opt["weight_decay"],
        schedule=_schedule(opt["schedule"], opt["cycle_epochs"], steps_per_epoch),
        warmup=opt["warmup"],
        total_steps=max_steps,
        normalize=normalize,
    )
    trainer, best_cb = build_trainer(
        work, trainer_opts, max_epochs=max_epochs + 1, max_steps=max_steps
    )
    if lr == "auto" and ckpt is None:
        _find_lr(trainer, task_module, dm, work, opt["clr_frac"])
    trainer.fit(
        task_module,
        datamodule=dm,
        ckpt_path=None if ckpt is None else str(ckpt),
        weights_only=True,
    )
    if not _is_zero(trainer):
        return None
    best = _best_state(trainer, best_cb, task_module)
    net.cpu().eval()
    if task == "multilabel":
        spec.thresholds = _thresholds(net, dm, spec, normalize)
    training = {
        "data": summarize(dm.train_split),
        "n_train": dm.train_split.n_spectra,
        "n_val": dm.val_split.n_spectra,
        "init": None if init is None else str(init),
        "steps": int(trainer.global_step),
        "epochs": int(trainer.current_epoch),
        "lr": float(task_module.lr),
        "seed": seed,
        "recipe": facts,
        "options": call["options"],
        "trainer": call["trainer"],
        **best,
    }
    extra = None
    if dm.extra_features:
        extra = {
            "names": dm.extra_features,
            "mean": dm.extra_mean.tolist(),
            "std": dm.extra_std.tolist(),
        }
    _bundle.save(
        out,
        model=net,
        task=task,
        axis=dm.input_axis,
        model_axis=dm.model_axis,
        targets=targets,
        classes=dm.classes,
        output=spec.__dict__,
        preprocessor=dm.preprocessor,
        extra_features=extra,
        normalize=normalize,
        training=training,
    )
    predictor = _load_predictor(out)
    metrics = _validation_metrics(predictor, dm.val_split, targets, task)
    if best["best_val_loss"] is not None:
        metrics["val_loss"] = best["best_val_loss"]
    _bundle.update_metrics(out, metrics)
    predictor = _load_predictor(out)
    predictor._holder = holder
    return predictor


def _schedule(name: str, cycle_epochs: float | None, steps_per_epoch: int) -> dict:
    """Schedule spec with a cyclical half cycle of ``cycle_epochs`` epochs (when given)."""
    spec = schedule_spec(name)
    if cycle_epochs is not None:
        if spec["name"] not in CYCLICAL or not cycle_epochs > 0:
            raise ConfigError(
                "cycle_epochs applies to a cyclical schedule",
                expected=f"cycle_epochs > 0 with schedule in {' | '.join(CYCLICAL)}",
                got=f"cycle_epochs={cycle_epochs!r}, schedule={spec['name']!r}",
            )
        spec["step_size"] = max(round(cycle_epochs * steps_per_epoch), 1)
    return spec


def _find_lr(
    trainer: L.Trainer, task: L.LightningModule, dm: L.LightningDataModule, work: Path, frac: float
) -> None:
    """Sweep, keep the curve (CSV + PNG in the run folder) and set the task's rate(s).

    A cyclical schedule takes both bounds from the curve; any other takes the suggestion.
    """
    curve = find_learning_rate(trainer, task, dm)
    curve.to_csv(work / "lr_finder.csv")
    curve.plot_png(work / "lr_finder.png", frac=frac)
    spec = schedule_spec(task.hparams.schedule)
    bounds = curve.estimate_clr(frac) if spec["name"] in CYCLICAL else None
    best = curve.suggestion()
    if bounds is not None and bounds[0] < bounds[1]:
        task.lr = bounds[1]
        task.hparams.schedule = {**spec, "base_ratio": bounds[0] / bounds[1]}
        _log.info("learning-rate sweep: cyclical bounds %.2e .. %.2e", *bounds)
    elif best is not None:
        task.lr = best
        _log.info("learning-rate sweep: suggested %.2e", best)
    else:
        _log.warning("learning-rate sweep: the loss never fell; keeping lr=%.2e", task.lr)


@torch.no_grad()
def _thresholds(net: Any, dm: SpectraDataModule, spec: OutputSpec, normalize: bool) -> list[float]:
    from spectrakit.models.inputs import normalize_spectra

    ds = dm.val_dataset
    x = normalize_spectra(ds.x) if normalize else ds.x
    axis = ds.axis if getattr(net, "axis_aware", False) else None
    proba = torch.sigmoid(net(x, axis=axis, extra=ds.extra).float()).numpy()
    return tune_thresholds(proba, ds.y.numpy())


# ---------------------------------------------------------------------- pretraining
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


def pretrain(
    spectra: Spectra | SpectraStore | Sequence[Spectra | SpectraStore],
    *,
    model: str = "specbert_tiny",
    mask_ratio: float = 0.2,
    max_epochs: int = 20,
    out: str | Path | None = None,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    **options: Any,
) -> Path:
    """Pretrain an encoder by masked spectral modeling on unlabeled spectra.

    Parameters
    ----------
    spectra : Spectra, SpectraStore or a sequence of them
        Unlabeled spectra, possibly from several instruments. Axis-aware models
        (``spectrafm_*``) see each instrument on its own axis; other models see every source
        resampled onto one common grid (the range all of them cover).
    model : str, default="specbert_tiny"
        A registered model with masked modeling (``specbert_*``, ``spectrafm_*``).
    mask_ratio : float, default=0.2
    max_epochs : int, default=20
    out : str or Path, optional
        Bundle directory (temporary when omitted).
    batch_size : int, default=64
    lr : float, default=1e-3
    seed : int, default=0
    **options
        ``mask_mode`` (token | noise), ``normalize`` (default True), ``grid``
        (SpectralAxis for non-axis-aware models), ``pipeline`` (preprocessing fitted on
        all the spectra on the common grid, stored in the bundle), ``model_kwargs``,
        ``weight_decay``, ``schedule``, ``warmup``, ``val_fraction``, ``augment``, ``num_workers``,
        ``batches_per_epoch``, ``resume``, ``work_dir``, ``max_steps`` and the trainer
        options (see :func:`fit_supervised`).

    Returns
    -------
    Path
        The pretrained bundle (task ``"pretrained"``), usable as ``init`` of
        :func:`fit_supervised`.
    """
    from spectrakit import models

    sources = [spectra] if isinstance(spectra, Spectra | SpectraStore) else list(spectra)
    for i, s in enumerate(sources):
        if not isinstance(s, Spectra | SpectraStore):
            raise DataError(
                f"pretraining source #{i} is not spectra",
                expected="Spectra or SpectraStore",
                got=type(s).__name__,
            )
    trainer_opts = TrainerOptions.pop_from(options)
    opt = {
        "mask_mode": "token",
        "normalize": True,
        "grid": None,
        "pipeline": None,
        "model_kwargs": None,
        "weight_decay": 0.05,
        "schedule": "cosine",
        "warmup": 0.05,
        "val_fraction": 0.05,
        "augment": None,
        "num_workers": 0,
        "batches_per_epoch": None,
        "resume": False,
        "work_dir": None,
        "max_steps": None,
    }
    _merge_options(opt, options, "pretraining", "pretrain")
    call = {
        "model": model,
        "mask_ratio": mask_ratio,
        "max_epochs": max_epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "options": {k: v for k, v in opt.items() if k not in ("augment", "grid", "pipeline")},
        "trainer": trainer_opts.to_dict(),
    }
    out, work, ckpt, holder = _prepare_run(out, "pretrain", call, opt["resume"], opt["work_dir"])
    L.seed_everything(seed, workers=True, verbose=False)
    # the CLS token gets no gradient from patch reconstruction: pool the patch tokens instead
    model_kwargs = {"use_cls_token": False, **(opt["model_kwargs"] or {})}
    try:
        probe = models.create(model, **model_kwargs)
    except ModelError:
        model_kwargs = dict(opt["model_kwargs"] or {})
        probe = models.create(model, **model_kwargs)
    patch = getattr(probe, "patch_size", None)
    if patch is None:
        raise ConfigError(
            f"{model} cannot be pretrained by masked modeling",
            expected="a specbert_* or spectrafm_* model",
            got=model,
        )
    raw_sources = list(sources)  # as given: the bundle describes every one of them
    axes = [s.axis for s in sources]
    unit = (axes[0].unit, axes[0].kind)
    sources = [
        s.convert(unit[0], kind=unit[1])
        if isinstance(s, Spectra) and (s.axis.unit, s.axis.kind) != unit
        else s
        for s in sources
    ]
    axes = [s.axis for s in sources]
    grid = opt["grid"]
    if probe.axis_aware:
        grid = None
    elif grid is None:
        grid = common_grid(axes, patch)
    common = grid  # the one grid every source is resampled onto (None: each keeps its own)
    preprocessor = None
    if opt["pipeline"] is not None:
        sources, grid, preprocessor = _preprocess_sources(sources, grid, opt["pipeline"], patch)
    dm = PretrainDataModule(
        sources,
        patch,
        grid=grid,
        val_fraction=opt["val_fraction"],
        batch_size=batch_size,
        augment=opt["augment"],
        num_workers=opt["num_workers"],
        seed=seed,
    )
    dm.setup("fit")
    if opt["batches_per_epoch"]:
        dm.train_dataset.n_batches = int(opt["batches_per_epoch"])
    ref_axis = grid if grid is not None else sources[0].axis
    ref_axis = ref_axis.with_values(ref_axis.values[dm._crop(ref_axis.values)])
    input_axis = ref_axis if preprocessor is None else preprocessor.input_axis_
    net = models.create(
        model,
        in_channels=1,
        n_outputs=1,
        input_length=None if probe.axis_aware else ref_axis.n_points,
        **model_kwargs,
    )
    steps_per_epoch = len(dm.train_dataset)
    if isinstance(trainer_opts.devices, int) and trainer_opts.devices > 1:
        steps_per_epoch = math.ceil(
            steps_per_epoch / (trainer_opts.devices * trainer_opts.num_nodes)
        )
    max_steps = int(opt["max_steps"] or max_epochs * steps_per_epoch)
    trainer_opts.log_every_n_steps = max(1, min(trainer_opts.log_every_n_steps, steps_per_epoch))
    task_module = MaskedModelingTask(
        net,
        mask_ratio=mask_ratio,
        mask_mode=opt["mask_mode"],
        normalize=opt["normalize"],
        lr=lr,
        weight_decay=opt["weight_decay"],
        schedule=opt["schedule"],
        warmup=opt["warmup"],
        total_steps=max_steps,
    )
    has_val = dm.val_dataset is not None
    trainer, best_cb = build_trainer(
        work,
        trainer_opts,
        max_epochs=max_epochs + 1,
        max_steps=max_steps,
        monitor="val_loss" if has_val else None,
    )
    trainer.fit(
        task_module,
        datamodule=dm,
        ckpt_path=None if ckpt is None else str(ckpt),
        weights_only=True,
    )
    if not _is_zero(trainer):
        return out
    best = _best_state(trainer, best_cb, task_module)
    net.cpu().eval()
    metrics = {}
    if has_val:
        metrics = _reconstruction_metrics(task_module, dm)
    training = {
        "data": describe_sources(raw_sources),
        "grid": None if common is None or len(raw_sources) < 2 else common.describe(),
        "n_spectra": int(sum(len(s) for s in sources)),
        "sources": [a.describe() for a in axes],
        "mask_ratio": mask_ratio,
        "steps": int(trainer.global_step),
        "epochs": int(trainer.current_epoch),
        "seed": seed,
        "options": call["options"],
        "trainer": call["trainer"],
        **best,
    }
    _bundle.save(
        out,
        model=net,
        task="pretrained",
        axis=input_axis,
        model_axis=ref_axis,
        preprocessor=preprocessor,
        normalize=opt["normalize"],
        training=training,
        metrics=metrics,
        intended_use=(
            "Pretrained encoder (masked spectral modeling). Fine-tune it with "
            "'spectrakit finetune --init' or fit_supervised(init=...); embed() works as is."
        ),
    )
    if holder is not None:  # keep a temporary bundle alive for the caller's session
        _TEMP_HOLDERS.append(holder)
    return out


_TEMP_HOLDERS: list[Any] = []


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


@torch.no_grad()
def _reconstruction_metrics(task: MaskedModelingTask, dm: PretrainDataModule) -> dict:
    """Held-out masked reconstruction MSE vs the trivial per-spectrum-mean predictor."""
    task.eval()
    losses, bases = [], []
    for i in range(len(dm.val_dataset)):
        batch = dm.val_dataset[i]
        gen = torch.Generator().manual_seed(1000 + i)
        n = batch["x"].shape[-1] // int(task.model.patch_size)
        from spectrakit.tasks.masked import random_patch_mask

        mask = random_patch_mask(batch["x"].shape[0], n, task.hparams.mask_ratio, generator=gen)
        res = task.reconstruction(batch, mask)
        losses.append(float(res["loss"]))
        bases.append(float(res["baseline"]))
    loss, base = float(np.mean(losses)), float(np.mean(bases))
    return {"val_masked_mse": loss, "val_trivial_mse": base, "val_mse_ratio": loss / base}


# ---------------------------------------------------------------------- resume
def resume(
    out: str | Path,
    data: Spectra | SpectraStore | Sequence[Spectra | SpectraStore],
    *,
    val: Spectra | None = None,
    **overrides: Any,
) -> Any:
    """Continue an interrupted run from its last checkpoint with its recorded options.

    Parameters
    ----------
    out : str or Path
        Bundle directory of the interrupted run (its ``<out>.run/`` holds the checkpoint).
    data : Spectra, SpectraStore or sequence
        The same training data as the first call (data are not copied into the run).
    val : Spectra, optional
        The same validation data, if the first call had any.
    **overrides
        Options to change (e.g. ``progress=False``); architecture and schedule stay.

    Returns
    -------
    Predictor or Path
        What the original call returns.
    """
    work = Path(overrides.pop("work_dir", None) or run_dir(out))
    path = work / _RUN
    if not path.is_file():
        raise TrainingError(
            "no run to resume", expected=f"{path}", got="missing", fix="start a new run"
        )
    rec = json.loads(path.read_text(encoding="utf-8"))
    kwargs = {**rec["options"], **rec["trainer"], **overrides}
    kwargs.update(resume=True, work_dir=str(work))
    if rec["kind"] == "pretrain":
        return pretrain(
            data,
            model=rec["model"],
            mask_ratio=rec["mask_ratio"],
            max_epochs=rec["max_epochs"],
            out=out,
            batch_size=rec["batch_size"],
            lr=rec["lr"],
            seed=rec["seed"],
            **kwargs,
        )
    return fit_supervised(
        data,
        rec["targets"],
        task=rec["task"],
        model=rec["model"],
        val=val,
        init=rec["init"],
        max_epochs=rec["max_epochs"],
        batch_size=rec["batch_size"],
        lr=rec["lr"],
        seed=rec["seed"],
        out=out,
        **kwargs,
    )
