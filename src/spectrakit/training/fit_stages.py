"""The stages of supervised training: data -> model -> task -> (trainer) -> package.

:func:`~spectrakit.training.api.fit_supervised` composes them; each takes the typed
:class:`~spectrakit.training.config.FitConfig` and the previous stage's result.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectrakit import bundle as _bundle
from spectrakit.core.channel_set import ChannelLayout, ChannelSet
from spectrakit.core.errors import ConfigError, DataError, TrainingError
from spectrakit.core.spectra import Spectra
from spectrakit.data.datamodule import SpectraDataModule
from spectrakit.models.heads import OutputSpec, n_model_outputs
from spectrakit.models.input_crop import crop_unit
from spectrakit.predict.bounds import declared_bounds
from spectrakit.predict.core import conform_axis
from spectrakit.predict.loader import load as _load_predictor
from spectrakit.preprocessing.measured_channels import MeasuredChannels
from spectrakit.preprocessing.quality import summarize
from spectrakit.tasks.optim import CYCLICAL, schedule_spec
from spectrakit.tasks.supervised import SupervisedTask, tune_thresholds
from spectrakit.training.config import FitConfig
from spectrakit.training.measured_init import channels_on_init, init_pipelines, widen_inputs
from spectrakit.training.recipe import parse_split, recipe, split_fold
from spectrakit.training.run import Run, Schedule

__all__ = [
    "FitData",
    "check_spectra",
    "fit_data",
    "fit_epochs",
    "fit_inputs",
    "fit_model",
    "fit_ood",
    "fit_recipe",
    "fit_screen",
    "lr_sweep",
    "measured_inputs",
    "package_fit",
    "supervised_task",
]

_log = logging.getLogger(__name__)


def fit_epochs(cfg: FitConfig, data: Any) -> tuple[FitConfig, int]:
    """The run's maximum epochs (:meth:`FitConfig.epochs_for`) and batches per epoch."""
    n_batches = -(-len(data.dm.train_dataset) // cfg.batch_size)
    return dataclasses.replace(cfg, max_epochs=cfg.epochs_for(n_batches)), n_batches


def check_spectra(obj: Any, name: str) -> Spectra:
    """``obj`` if it is :class:`Spectra`, else a DataError naming ``name``."""
    if not isinstance(obj, Spectra):
        raise DataError(
            f"{name} must be Spectra",
            expected="a spectrakit.Spectra (use spectrakit.read)",
            got=type(obj).__name__,
        )
    return obj


# ---------------------------------------------------------------------- data
def fit_inputs(
    train: Any, targets: Any, val: Any, cfg: FitConfig
) -> tuple[Spectra, Spectra | None, list[str]]:
    """Checked training/validation spectra (fold ``cfg.split`` when given) and target list."""
    train = check_spectra(train, "train")
    val = None if val is None else check_spectra(val, "val")
    targets = [targets] if isinstance(targets, str) else list(targets)
    if cfg.ood == "t2q":
        raise ConfigError(
            "ood 't2q' (Hotelling T2/Q) is for PLS models",
            expected="ood auto, dime, mahalanobis, knn, energy or none",
            got=f"model {cfg.model}",
        )
    split = parse_split(cfg.split)
    if split is not None:
        if val is not None:
            raise ConfigError(
                "a split and validation spectra are both given",
                expected="split=K/N or val=...",
                got="both",
                fix="drop one of them",
            )
        train, val = split_fold(train, split, groups=cfg.groups, seed=cfg.seed)
    return train, val, targets


def measured_inputs(train: Any, val: Any, cfg: FitConfig) -> tuple[Any, Any, ChannelLayout | None]:
    """Separately measured channels (a :class:`ChannelSet`) packed, with their layout.

    Validation channels are brought onto the training channels' axes, each its own;
    other inputs pass through with no layout.
    """
    if not isinstance(train, ChannelSet):
        if isinstance(val, ChannelSet):
            raise DataError(
                "validation spectra are measured channels but the training spectra are not",
                expected="both a ChannelSet or both Spectra",
                got=f"train {type(train).__name__}, val ChannelSet",
            )
        return train, val, None
    if cfg.init is not None:  # a fixed-grid encoder sees its pretraining grid
        train = channels_on_init(train, cfg.init)
    layout = train.layout
    if val is not None:
        val = layout.pack(val if isinstance(val, ChannelSet) else _not_channels(val, layout),
                          conform=conform_axis)  # fmt: skip
    return train.pack(), val, layout


def _not_channels(val: Any, layout: ChannelLayout) -> Any:
    raise DataError(
        "validation spectra must be the same measured channels",
        expected="a ChannelSet with channels " + ", ".join(layout.names),
        got=type(val).__name__,
        fix="read the validation channels with read_channels too",
    )


def fit_screen(
    train: Spectra, targets: list[str], cfg: FitConfig, layout: ChannelLayout | None = None
) -> tuple[Spectra, dict]:
    """Training spectra without the T2/Q outliers of ``cfg.screen``, and the recipe facts.

    The facts are :func:`fit_recipe`'s, with the screening record when screening is on.
    """
    from spectrakit.training.screening import screen_training

    train, screening = screen_training(
        train, targets, cfg.screen, task=cfg.task, groups=cfg.groups, seed=cfg.seed
    )
    return train, fit_recipe(targets, cfg, layout, screening)


def fit_recipe(
    targets: list[str],
    cfg: FitConfig,
    layout: ChannelLayout | None = None,
    screening: dict | None = None,
) -> dict:
    """The recipe facts recorded in the bundle (model, channels, transforms, split, ...).

    ``screening`` (the outlier-screening record of :func:`fit_screen`) is kept when given.
    """
    model = cfg.model if cfg.init is None else _bundle.read_config(Path(cfg.init)).family.name
    facts = recipe(
        model=model, task=cfg.task, targets=targets, pipeline=cfg.pipeline, augment=cfg.augment,
        split=parse_split(cfg.split), seed=cfg.seed, label_smoothing=cfg.label_smoothing,
        mixup=cfg.mixup_alpha, measured=None if layout is None else layout.names,
    )  # fmt: skip
    return {**facts, "screening": screening} if screening else facts


@dataclass
class FitData:
    """The prepared data of a supervised run."""

    dm: SpectraDataModule
    targets: list[str]
    normalize: bool
    facts: dict


def fit_data(
    train: Spectra, val: Spectra | None, targets: list[str], cfg: FitConfig, facts: dict,
    layout: ChannelLayout | None = None,
) -> FitData:  # fmt: skip
    """A set-up data module: preprocessing fitted on the training split, axis conformed.

    With ``layout`` (separately measured channels, packed) every channel gets the pipelines
    on its own axis (:class:`~spectrakit.preprocessing.measured_channels.MeasuredChannels`).
    """
    from spectrakit import models

    pipeline, normalize, name = cfg.pipeline, False, cfg.model
    if layout is not None:
        if pipeline is None and cfg.init is not None:  # the pretraining's steps, per channel
            pipeline = init_pipelines(cfg.init)
        pipeline = MeasuredChannels(layout, _list(pipeline) if isinstance(pipeline, list | tuple)
                                    else [pipeline])  # fmt: skip
    kwargs = {"input_length": train.n_points, **(cfg.model_kwargs or {})}
    pre_cfg = None
    if cfg.init is not None:
        pre_cfg = _bundle.read_config(Path(cfg.init))
        normalize = pre_cfg.normalize
        name, kwargs = pre_cfg.family.name, dict(pre_cfg.family.kwargs)
        if pipeline is None and any(p is not None for p in pre_cfg.preprocessing):
            # transfer the preprocessing fitted on the pretraining corpus, unchanged
            pipeline = _load_predictor(cfg.init).preprocessor
    probe = models.create(name, **kwargs)
    if layout is not None and probe.axis_aware:
        raise ConfigError(
            f"{name} reads positions from one axis; measured channels each have their own",
            expected="a fixed-grid network (cnn1d, resnet1d, vgg1d, resnetv2_1d, mlp, "
            "peakmixer, cnnpeak, specbert, gaf2d)",
            got=f"model {name} with channels " + ", ".join(layout.names),
            fix="choose a fixed-grid family, e.g. model cnn1d_tiny",
        )
    if pre_cfg is not None and not probe.axis_aware and layout is None:
        # a fixed-grid encoder sees the grid it was pretrained on
        grid = pre_cfg.axis
        train = conform_axis(train, grid)
        val = None if val is None else conform_axis(val, grid)
    dm = SpectraDataModule(
        train, targets, cfg.task, val=val, pipeline=pipeline, extra_features=_list(
            cfg.extra_features), groups=cfg.groups, val_fraction=cfg.val_fraction,
        batch_size=cfg.batch_size, augment=cfg.augment, num_workers=cfg.num_workers,
        seed=cfg.seed, length_multiple=crop_unit(probe),
    )  # fmt: skip
    dm.setup("fit")
    return FitData(dm, targets, normalize, facts)


def _list(value: Any) -> list | None:
    return None if value is None else list(value)


# ---------------------------------------------------------------------- model
def output_spec(data: FitData, cfg: FitConfig) -> OutputSpec:
    """The head's output description, with the target standardization of regression."""
    dm, task = data.dm, cfg.task
    n_targets = len(dm.classes) if task != "regression" else len(data.targets)
    spec = OutputSpec(
        task=task,
        n_targets=n_targets,
        uncertainty=bool(cfg.uncertainty) and task == "regression",
        one_vs_rest=bool(cfg.one_vs_rest) and task == "classification",
    )
    if task == "regression":
        y = dm.y_train.reshape(len(dm.y_train), -1).astype(np.float64)
        std = y.std(axis=0)
        spec.target_mean = y.mean(axis=0).tolist()
        spec.target_std = np.where(std > 0, std, 1.0).tolist()
    spec.__dict__.update(declared_bounds(cfg.target_min, cfg.target_max, n_targets, task))
    return spec


def fit_model(data: FitData, spec: OutputSpec, cfg: FitConfig) -> Any:
    """A fresh network, or one whose encoder comes from the pretrained bundle ``cfg.init``."""
    from spectrakit import models

    dm = data.dm
    if cfg.init is not None:
        return _init_model(cfg.init, dm, n_model_outputs(spec))
    kwargs = dict(cfg.model_kwargs or {})

    def build(**more: Any) -> Any:
        return models.create(
            cfg.model, in_channels=dm.in_channels, n_outputs=n_model_outputs(spec),
            input_length=dm.input_length, n_extra=dm.n_extra, **{**kwargs, **more},
        )  # fmt: skip

    net = build()
    tempered = hasattr(net, "ip_temperature") and "ip_temperature" not in kwargs
    if tempered and cfg.task == "classification" and not dm.n_extra:
        net = build(ip_temperature=_ip_temperature(build, data, cfg))
    return net


def _ip_temperature(build: Any, data: FitData, cfg: FitConfig) -> float:
    """The class-channel temperature raced on the training split (recorded in the facts).

    The final fit starts from a fresh network at that temperature: started from the race
    winner's weights, the class-channel weights of ``cnnpeak_tiny`` in the quick seed
    example concentrated on one channel (0.94) and lost the band-share order.
    """
    from spectrakit.training.ip_temperature import race_ip_temperatures

    x, y = data.dm.train_dataset.x, data.dm.train_dataset.y
    # half the run's step budget on three quarters of the training split, 10 to 30 steps
    budget = cfg.max_epochs * -(-(3 * len(x) // 4) // cfg.batch_size)
    steps = min(30, max(10, budget // 2))
    race = race_ip_temperatures(
        lambda t: build(ip_temperature=t), x, y, seed=cfg.seed, steps=steps,
        lr=3e-3 if cfg.lr == "auto" else float(cfg.lr), weight_decay=cfg.weight_decay,
    )  # fmt: skip
    data.facts["ip_temperature"] = race.record
    return race.temperature


def _init_model(init: str | Path, dm: SpectraDataModule, n_outputs: int) -> Any:
    """A model with the pretrained encoder weights of bundle ``init`` and a fresh head."""
    from spectrakit import models

    pretrained, cfg = _bundle.load_model(init)
    spec = dict(cfg.family.kwargs)
    n_in = int(spec.get("in_channels", 1))
    measured = isinstance(dm.preprocessor, MeasuredChannels)
    if n_in != dm.in_channels and not (measured and dm.in_channels % n_in == 0):
        raise TrainingError(
            "the pretrained model takes another number of input channels",
            expected=f"{n_in} channel(s)",
            got=f"{dm.in_channels}",
            fix="use the same number of channel pipelines as in pretraining",
        )
    spec.update(n_outputs=n_outputs, n_extra=dm.n_extra, input_length=dm.input_length,
                in_channels=dm.in_channels)  # fmt: skip
    model = models.create(cfg.family.name, **spec)
    own = model.state_dict()
    skip = ("head.", "fusion.")
    weights = widen_inputs(pretrained.state_dict(), own, n_in, dm.in_channels)
    loaded = {
        k: v for k, v in weights.items()
        if k in own and own[k].shape == v.shape and not k.startswith(skip)
    }  # fmt: skip
    encoder = [k for k in own if not k.startswith(skip)]
    if len(loaded) < 0.9 * len(encoder):
        raise TrainingError(
            "the pretrained weights do not fit the model",
            expected=f"{len(encoder)} encoder tensors",
            got=f"{len(loaded)} matching",
            fix="fine-tune with the spectra length/channels used in pretraining",
        )
    model.load_state_dict(loaded, strict=False)
    return model


# ---------------------------------------------------------------------- task
def supervised_task(
    net: Any, spec: OutputSpec, data: FitData, cfg: FitConfig, total: Schedule
) -> SupervisedTask:
    """The Lightning task: losses, freezing, discriminative rates and the schedule."""
    dm = data.dm
    return SupervisedTask(
        net, spec, label_smoothing=cfg.label_smoothing,
        class_weights=_class_weights(cfg.class_weights, dm.y_train, cfg.task, spec.n_targets),
        mixup_alpha=cfg.mixup_alpha, mix=cfg.mix, freeze=cfg.freeze,
        lr=1e-3 if cfg.lr == "auto" else float(cfg.lr), head_lr=cfg.head_lr,
        layer_decay=cfg.layer_decay, weight_decay=cfg.weight_decay,
        schedule=_schedule(cfg.schedule, cfg.cycle_epochs, total.steps_per_epoch),
        warmup=cfg.warmup, total_steps=total.max_steps, normalize=data.normalize,
    )  # fmt: skip


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


def _schedule(name: Any, cycle_epochs: float | None, steps_per_epoch: int) -> dict:
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


def lr_sweep(task: SupervisedTask, data: FitData, run: Run, cfg: FitConfig) -> Any:
    """With ``lr="auto"``: a callback running the learning-rate sweep before the fit."""
    if cfg.lr != "auto":
        return None

    def sweep(trainer: Any) -> None:
        _find_lr(trainer, task, data.dm, run.work, cfg.clr_frac)

    return sweep


def _find_lr(trainer: Any, task: Any, dm: Any, work: Path, frac: float) -> None:
    """Sweep, keep the curve (CSV + PNG in the run folder) and set the task's rate(s).

    A cyclical schedule takes both bounds from the curve; any other takes the suggestion.
    """
    from spectrakit.training.lr_finder import find_learning_rate

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


# ---------------------------------------------------------------------- package
def package_fit(
    run: Run, data: FitData, task: SupervisedTask, trainer: Any, best: dict, cfg: FitConfig,
    trainer_info: dict,
) -> Any:  # fmt: skip
    """Write the bundle from the best weights, score the validation split, return it loaded."""
    dm, net, spec = data.dm, task.model, task.spec
    net.cpu().eval()
    if cfg.task == "multilabel":
        spec.thresholds = _thresholds(net, dm, data.normalize)
    training = {
        "data": summarize(dm.train_split), "n_train": dm.train_split.n_spectra,
        "n_val": dm.val_split.n_spectra, "init": cfg.init, "steps": int(trainer.global_step),
        "epochs": int(trainer.current_epoch), "lr": float(task.lr), "seed": cfg.seed,
        "recipe": data.facts, "options": cfg.to_record(), "trainer": trainer_info, **best,
    }  # fmt: skip
    extra = None
    if dm.extra_features:
        extra = {"names": dm.extra_features, "mean": dm.extra_mean.tolist(),
                 "std": dm.extra_std.tolist()}  # fmt: skip
    _bundle.save(
        run.out, model=net, task=cfg.task, axis=dm.input_axis, model_axis=dm.model_axis,
        targets=data.targets, classes=dm.classes, output=spec.__dict__,
        preprocessor=dm.preprocessor, extra_features=extra, normalize=data.normalize,
        training=training,
    )  # fmt: skip
    metrics = _validation_metrics(_load_predictor(run.out), dm.val_split, data.targets, cfg.task)
    if best["best_val_loss"] is not None:
        metrics["val_loss"] = best["best_val_loss"]
    _bundle.update_metrics(run.out, metrics)
    return _load_predictor(run.out)


@torch.no_grad()
def _thresholds(net: Any, dm: SpectraDataModule, normalize: bool) -> list[float]:
    from spectrakit.models.inputs import normalize_spectra

    ds = dm.val_dataset
    x = normalize_spectra(ds.x) if normalize else ds.x
    axis = ds.axis if getattr(net, "axis_aware", False) else None
    proba = torch.sigmoid(net(x, axis=axis, extra=ds.extra).float()).numpy()
    return tune_thresholds(proba, ds.y.numpy())


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


def fit_ood(predictor: Any, run: Run, train: Spectra, val: Spectra | None, cfg: FitConfig) -> Any:
    """Fit the OOD detector ``cfg.ood`` and store it in the bundle (``"none"``: skip).

    With ``val`` the detector is fitted on all training spectra and its threshold calibrated
    on ``val``; otherwise fitted on 80 % of them and calibrated on the other 20 %.
    """
    from spectrakit.ood import fit_ood as _fit
    from spectrakit.ood import save_detector

    if cfg.ood == "none":
        return predictor
    method = "dime" if cfg.ood == "auto" else cfg.ood
    tune = bool(getattr(cfg, "ood_tune", False))
    det = _fit(predictor, train, method=method, heldout=val,
               false_rejection=cfg.false_rejection, tune=tune)  # fmt: skip
    where = "20% training holdout" if val is None else "validation spectra"
    save_detector(det, run.out)
    metrics = dict(predictor.config.metrics)
    record = {"ood": det.name, "ood_calibration": where}
    if tune:  # the choice (ood.json also keeps the grid)
        record["ood_tuning"] = {k: v for k, v in det.tuning_.items() if k != "grid"}
    _bundle.update_metrics(run.out, {**metrics, **record})
    return _load_predictor(run.out)
