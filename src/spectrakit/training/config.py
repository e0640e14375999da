# ruff: noqa: RUF009  -- option() is dataclasses.field() with the Spec in its metadata
"""Typed training configuration: every option of ``fit_supervised`` and ``pretrain`` in one place.

:class:`FitConfig` and :class:`PretrainConfig` are frozen dataclasses. Each field carries its
type, default, range or choices and help text in its metadata (an :class:`Spec`); the
command-line flags, the ``--config`` files, ``--print-config``, ``run.json`` and the Python
keyword arguments are all derived from these fields, so an option is declared once.

The module imports no heavy library (the command line builds its parser from it).

Examples
--------
>>> cfg = FitConfig(max_epochs=5, lr="auto")
>>> cfg.replace(batch_size=8).batch_size
8
>>> FitConfig(batch_size=0)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
ConfigError: invalid batch_size: expected an integer >= 1, got 0
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from spectrakit.core.errors import ConfigError
from spectrakit.training.option_spec import (
    LOGGERS,
    MASK_MODES,
    NOT_SET,
    OOD_CHOICES,
    SCHEDULES,
    Spec,
    check_value,
    close_matches,
    option,
)

__all__ = [
    "MASK_MODES",
    "NOT_SET",
    "OOD_CHOICES",
    "SCHEDULES",
    "TRAINER_FIELDS",
    "FitConfig",
    "PretrainConfig",
    "Spec",
    "TrainingConfig",
    "check_value",
]


# ---------------------------------------------------------------------- configurations
@dataclass(frozen=True)
class TrainingConfig:
    """Options shared by supervised training and pretraining (see the subclasses)."""

    KIND: ClassVar[str] = ""
    ALIASES: ClassVar[dict[str, str]] = {}

    seed: int = option(0, "int", "random seed", lo=0, hi=2**32 - 1)
    weight_decay: float = option(1e-4, "float", "AdamW weight decay", lo=0)
    schedule: Any = option(
        "cosine",
        "schedule",
        "learning-rate schedule; triangular, triangular2 and exp_range cycle (Smith 2017)",
        choices=SCHEDULES,
    )
    warmup: Any = option(
        0.05, "warmup", "learning-rate warmup: steps (integer) or a fraction of the run"
    )
    augment: Any = option(None, "any", "training augmentation", flag="", record=False)
    num_workers: int = option(0, "int", "data-loader worker processes", lo=0)
    model_kwargs: Any = option(None, "any", "keyword arguments of the model", flag="")
    resume: bool = option(
        False, "bool", "continue an interrupted run from <out>.run/", record=False
    )
    work_dir: Any = option(
        None, "path", "run folder (default <out>.run)", optional=True, flag="", record=False
    )
    max_steps: Any = option(
        None, "int", "stop after this many optimizer steps (default: epochs x batches)",
        lo=1, optional=True,
    )  # fmt: skip
    threads: Any = option(
        None, "int", "CPU threads for torch (default: torch's choice)", lo=1, optional=True,
        record=False,
    )  # fmt: skip
    # -- trainer (passed to Lightning through TrainerOptions)
    patience: Any = option(
        20, "int", "early-stopping patience in validation epochs (0 = off)", lo=0, optional=True
    )
    checkpoint_every: int = option(50, "int", "steps between last.ckpt refreshes", lo=1)
    gradient_clip: Any = option(
        1.0, "float", "gradient-norm clipping (none = off)", lo=0, lo_open=True, optional=True
    )
    progress: bool = option(True, "bool", "hide the progress bar", flag="--no-progress",
                            invert=True, record=False)  # fmt: skip
    loggers: Any = option(
        ("csv", "tensorboard"), "names",
        "comma-separated: csv, tensorboard, wandb (Weights & Biases, when installed)",
        choices=LOGGERS, record=False,
    )  # fmt: skip
    accelerator: str = option("auto", "accelerator", "cpu | gpu | mps | auto")
    devices: Any = option("auto", "devices", "number of devices, or 'auto'")
    num_nodes: int = option(1, "int", "machines for distributed training", lo=1)
    strategy: Any = option("auto", "strategy", "auto | ddp | ddp_spawn | fsdp ...")
    precision: Any = option(
        None, "precision", "32-true | bf16-mixed | 16-mixed (default: by device)", optional=True
    )
    deterministic: bool = option(True, "bool", "deterministic algorithms", flag="")
    log_every_n_steps: int = option(10, "int", "steps between logged losses", lo=1, flag="")
    callbacks: Any = option(None, "any", "extra Lightning callbacks", flag="", record=False)
    compile: bool = option(
        False, "bool", "torch.compile the network for the fit (off by default: slower on CPU "
        "for the measured families; benchmarks/training.py --compile)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            spec = f.metadata["spec"]
            value = check_value(f.name, spec, getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    # -------------------------------------------------------------- construction
    @classmethod
    def specs(cls) -> dict[str, Spec]:
        """Every field name with its :class:`Spec`, in declaration order."""
        return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls)}

    @classmethod
    def field_name(cls, key: str) -> str:
        """The field a keyword (``"max-epochs"``, ``"epochs"``, ``"mixup"``) means."""
        name = str(key).replace("-", "_")
        name = cls.ALIASES.get(name, name)
        if name not in cls.specs():
            close = close_matches(name, list(cls.specs()) + list(cls.ALIASES), n=3)
            raise ConfigError(
                f"unknown {cls.KIND} option {key!r}",
                expected="one of the fields of " + cls.__name__,
                got=str(key),
                fix=f"did you mean {' or '.join(close)}?" if close else f"see help({cls.__name__})",
            )
        return name

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with ``changes`` (keywords may be aliases; unknown ones are refused)."""
        fields = {self.field_name(k): v for k, v in changes.items()}
        return dataclasses.replace(self, **fields)

    @classmethod
    def build(cls, config: TrainingConfig | None = None, **options: Any) -> Any:
        """``config`` (or the defaults) updated with keyword ``options``."""
        if config is not None and not isinstance(config, cls):
            raise ConfigError(
                "config has the wrong type", expected=cls.__name__, got=type(config).__name__
            )
        return (config or cls()).replace(**options)

    # -------------------------------------------------------------- records
    def to_record(self) -> dict[str, Any]:
        """JSON values of the recorded fields (``run.json``, the bundle's training).

        A value with no JSON form (a fitted pipeline object, a custom callable) is left out:
        :func:`~spectrakit.training.resume` then needs it again as an override.
        """
        out = {}
        for name, spec in self.specs().items():
            value = _jsonable(getattr(self, name)) if spec.record else _SKIP
            if value is not _SKIP:
                out[name] = value
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any], **overrides: Any) -> Any:
        """The configuration :meth:`to_record` wrote, with ``overrides``."""
        known = {k: v for k, v in record.items() if k in cls.specs()}
        return cls(**known).replace(**overrides)

    def trainer_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~spectrakit.training.trainer.TrainerOptions`."""
        return {n: getattr(self, n) for n in TRAINER_FIELDS}

    @classmethod
    def trainer_defaults(cls) -> dict[str, Any]:
        """The defaults of the trainer options: the one place they are declared."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        return {n: fields[n].default for n in TRAINER_FIELDS}


#: the fields of :class:`TrainingConfig` that configure the Lightning trainer, in the order
#: of :class:`~spectrakit.training.trainer.TrainerOptions`'s parameters
TRAINER_FIELDS = ("accelerator", "devices", "num_nodes", "strategy", "precision",
                  "gradient_clip", "patience", "checkpoint_every", "progress", "loggers",
                  "deterministic", "log_every_n_steps", "callbacks", "compile")  # fmt: skip


_SKIP = object()

#: epochs of a supervised run when ``max_epochs`` is not given
DEFAULT_EPOCHS = 50
#: without ``max_epochs``, small sets get more epochs, up to this many optimizer steps
MIN_STEPS = 500
#: ... but never more epochs than this
MAX_AUTO_EPOCHS = 1000


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON, or ``_SKIP`` when it has none (an object, a callable)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        value = list(value)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return _SKIP
    return value


@dataclass(frozen=True)
class FitConfig(TrainingConfig):
    """Every option of :func:`~spectrakit.training.fit_supervised` (and ``finetune``).

    Each field's metadata holds its :class:`Spec` (type, range or choices, help text).
    """

    KIND: ClassVar[str] = "training"
    ALIASES: ClassVar[dict[str, str]] = {"epochs": "max_epochs", "mixup": "mixup_alpha"}

    task: str = option(
        "regression", "str", "default: regression for numeric targets, classification otherwise",
        choices=("regression", "classification", "multilabel"), cli_default=None,
    )  # fmt: skip
    model: str = option(
        "cnn1d_tiny", "str", "model name (see 'spectrakit models'), a chemometric model "
        "(pls, plsda, ridge, svm, rf), or 'auto': PLS with every preset, transfer variants and "
        "deep recipes ranked by CV on the training spectra, the best written as one bundle",
    )  # fmt: skip
    init: Any = option(None, "path", "pretrained bundle to start from", optional=True)
    pipeline: Any = option(None, "any", "preprocessing preset or YAML/JSON file")
    max_epochs: Any = option(
        None, "int", f"maximum epochs (default: {DEFAULT_EPOCHS}, raised on small sets to at "
        f"least {MIN_STEPS} optimizer steps; early stopping ends the run sooner)", lo=1,
        flag="--epochs", optional=True,
    )  # fmt: skip
    batch_size: int = option(32, "int", "batch size", lo=1)
    lr: Any = option(1e-3, "lr", "learning rate, or 'auto' (LR finder)")
    freeze: str = option("none", "freeze", "none | encoder | all-but-last-K (layer groups)")
    head_lr: Any = option(
        None, "float", "separate learning rate of the head", lo=0, lo_open=True, optional=True
    )
    layer_decay: Any = option(
        None, "float", "layer-wise learning-rate decay", lo=0, lo_open=True, hi=1, optional=True
    )
    cycle_epochs: Any = option(
        None, "float", "half-cycle length of a cyclical schedule, in epochs (default: 1/8 of "
        "the run)", lo=0, lo_open=True, optional=True,
    )  # fmt: skip
    clr_frac: float = option(
        0.5, "float", "with --lr auto: lower cyclical bound, this far back from the sweep's "
        "minimum", lo=0, lo_open=True, hi=1,
    )  # fmt: skip
    label_smoothing: float = option(
        0.0, "float", "classification label smoothing", lo=0, hi=1, hi_open=True
    )
    target_min: Any = option(
        None, "bounds", "regression: a lower bound the true target is known to satisfy (0 for "
        "a concentration); predictions are clipped to it", optional=True,
    )  # fmt: skip
    target_max: Any = option(
        None, "bounds", "regression: a known upper bound of the target (1 for a fraction); "
        "predictions are clipped to it", optional=True,
    )  # fmt: skip
    class_weights: Any = option(
        None, "class_weights", "'balanced' or comma-separated weights", optional=True
    )
    one_vs_rest: bool = option(False, "bool", "one sigmoid per class")
    uncertainty: bool = option(False, "bool", "mean + variance regression head")
    mixup_alpha: float = option(0.0, "float", "mixup alpha (0 = off)", lo=0, flag="--mixup")
    mix: Any = option(None, "any", "custom mixing callable", flag="", record=False)
    augment: Any = option(
        None, "any", "training augmentation: JSON/YAML file or inline JSON, e.g. "
        '\'[{"name": "Shift", "params": {"max_shift": 2}}]\'', record=False,
    )  # fmt: skip
    extra_features: Any = option(
        None, "names", "numeric metadata columns fed to the model", optional=True
    )
    groups: Any = option(
        None, "str", "metadata column whose groups never straddle the split", optional=True
    )
    val_fraction: float = option(
        0.2, "float", "share of the training spectra held out for validation, when --val is "
        "not given", lo=0, lo_open=True, hi=1, hi_open=True,
    )  # fmt: skip
    split: Any = option(
        None, "split", "validation = fold K of N (from 0), e.g. 0/20; shuffled with --seed, or "
        "by --groups; recorded in the bundle", optional=True,
    )  # fmt: skip
    ood: str = option(
        "auto", "str", "out-of-distribution detector stored in the bundle (auto: Hotelling "
        "T2/Q for pls/plsda, dime otherwise; none: no detector)", choices=OOD_CHOICES,
    )  # fmt: skip
    false_rejection: float = option(
        0.05, "float", "rate of in-distribution spectra the OOD threshold flags, calibrated on "
        "held-out training spectra (deep models: --val, else a 20%% holdout; chemometric: "
        "5-fold CV)", lo=0, lo_open=True, hi=1, hi_open=True,
    )  # fmt: skip
    screen: str = option(
        "off", "str", "Hotelling T2/Q outlier screening of the training spectra (a PCA model, "
        "F and Jackson-Mudholkar limits at this confidence; --val and --split validation "
        "spectra are never screened); cv: off or a confidence chosen by 5-fold CV of PLS "
        "on the training spectra; with --model auto the CNN candidate screens inside every "
        "fold of its CV; recorded in the bundle", choices=("off", "cv", "0.99", "0.975", "0.95"),
    )  # fmt: skip
    align: str = option(
        "coral", "str", "with --unlabeled: the feature-alignment loss of the networks' "
        "adaptation (beside per-domain centering and AdaBN): coral, mmd, or dann (domain "
        "classifier behind a gradient reversal layer)", choices=("coral", "mmd", "dann"),
    )  # fmt: skip
    ood_tune: bool = option(
        False, "bool", "classifiers with --ood dime/auto: choose DIME's components k and rate "
        "alpha on the training spectra (leave one class out, best open-set efficiency TEFF) "
        "instead of --false-rejection; the choice is recorded in the bundle",
    )  # fmt: skip

    def epochs_for(self, steps_per_epoch: int) -> int:
        """Maximum epochs of a run with ``steps_per_epoch`` optimizer steps per epoch.

        ``max_epochs`` when given; otherwise 50, raised on small sets so the run has at
        least :data:`MIN_STEPS` optimizer steps (at most :data:`MAX_AUTO_EPOCHS` epochs):
        32 spectra in batches of 32 make one step per epoch, and 50 steps leave a network
        far from fitted. Early stopping (``patience``) still ends the run sooner.
        """
        if self.max_epochs is not None:
            return int(self.max_epochs)
        need = -(-MIN_STEPS // max(1, int(steps_per_epoch)))
        return int(min(MAX_AUTO_EPOCHS, max(DEFAULT_EPOCHS, need)))


@dataclass(frozen=True)
class PretrainConfig(TrainingConfig):
    """Every option of :func:`~spectrakit.training.pretrain` (and ``pretrain``)."""

    KIND: ClassVar[str] = "pretraining"
    ALIASES: ClassVar[dict[str, str]] = {"epochs": "max_epochs"}

    model: str = option(
        "specbert_tiny", "str", "specbert_* or spectrafm_* model", cli_default="specbert_small"
    )
    mask_ratio: float = option(
        0.2, "float", "fraction of patches hidden", lo=0, lo_open=True, hi=1, hi_open=True
    )
    mask_mode: str = option(
        "token", "str", "hidden patches become a learned mask token, or noise", choices=MASK_MODES
    )
    normalize: bool = option(
        True, "bool", "do not standardize each spectrum", flag="--no-normalize", invert=True
    )
    intensity: bool = option(
        False, "bool", "scale every spectrum with one corpus offset and scale (running "
        "statistics of visible points) instead of standardizing each spectrum, so absolute "
        "intensity (concentration) survives; the bundle stores them and fine-tuning reuses "
        "them (Python: normalize='intensity')",
    )  # fmt: skip
    max_epochs: int = option(20, "int", "maximum epochs", lo=1, flag="--epochs")
    batch_size: int = option(64, "int", "batch size", lo=1)
    lr: float = option(1e-3, "float", "peak learning rate", lo=0, lo_open=True)
    weight_decay: float = option(0.05, "float", "AdamW weight decay", lo=0)
    val_fraction: float = option(
        0.05, "float", "share of each source held out for validation", lo=0, hi=1, hi_open=True
    )
    grid: Any = option(None, "any", "common grid (SpectralAxis)", flag="", record=False)
    pipeline: Any = option(None, "any", "preprocessing fitted on all the spectra", flag="")
    batches_per_epoch: Any = option(
        None, "int", "batches drawn per epoch (default: the data once)", lo=1, optional=True
    )

    def __post_init__(self) -> None:
        if self.normalize == "intensity":  # the masked task's name for the corpus scaling
            object.__setattr__(self, "normalize", True)
            object.__setattr__(self, "intensity", True)
        super().__post_init__()
        if self.intensity and not self.normalize:
            raise ConfigError(
                "intensity scaling and no normalization are both asked for",
                expected="--intensity or --no-normalize",
                got="both",
            )

    @property
    def normalization(self) -> str:
        """The masked task's ``normalize``: ``"intensity"``, ``"visible"`` or ``"none"``."""
        if self.intensity:
            return "intensity"
        return "visible" if self.normalize else "none"


def _document(cls: type[TrainingConfig]) -> None:
    """Append a numpydoc ``Parameters`` section listing every field (help, default, range)."""
    lines = ["", "    Parameters", "    ----------"]
    for f in dataclasses.fields(cls):
        spec: Spec = f.metadata["spec"]
        lines.append(f"    {f.name} : {spec.expected()}, default={f.default!r}")
        text = f"False: {spec.help} (flag {spec.flag})" if spec.invert else spec.help
        lines.append(f"        {text}")
    cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n" + "\n".join(lines) + "\n"


_document(FitConfig)
_document(PretrainConfig)
