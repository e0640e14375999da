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
import difflib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from spectrakit.core.errors import ConfigError

__all__ = [
    "MASK_MODES",
    "OOD_CHOICES",
    "SCHEDULES",
    "FitConfig",
    "PretrainConfig",
    "Spec",
    "TrainingConfig",
    "check_value",
]

# the same names as spectrakit.tasks.optim.SCHEDULES / tasks.masked.MASK_MODES (a test keeps
# them equal): spelled out here so that building the command line imports no torch
SCHEDULES = ("cosine", "onecycle", "cyclic", "triangular", "triangular2", "exp_range", "constant")
MASK_MODES = ("token", "noise")
OOD_CHOICES = ("auto", "t2q", "dime", "mahalanobis", "knn", "energy", "none")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")
LOGGERS = ("csv", "tensorboard", "wandb")
PRECISIONS = ("32-true", "32", "16-mixed", "16", "bf16-mixed", "bf16", "16-true", "bf16-true",
              "64-true", "64")  # fmt: skip
NOT_SET: Any = type("NotSet", (), {"__repr__": lambda self: "NOT_SET"})()
_FREEZE = re.compile(r"none|encoder|all-but-last-\d+")


@dataclass(frozen=True)
class Spec:
    """What a field accepts and how the command line shows it.

    Parameters
    ----------
    kind : str
        ``int``, ``float``, ``bool``, ``str``, ``lr``, ``warmup``, ``devices``,
        ``accelerator``, ``class_weights``, ``names``, ``split``, ``freeze``, ``precision``,
        ``schedule``, ``path`` or ``any`` (not checked; Python only).
    help : str
        Help text (the command line adds the default).
    lo, hi : float, optional
        Bounds; ``lo_open``/``hi_open`` make them strict.
    choices : tuple of str, optional
        Allowed values of a ``str`` (or ``names``) field.
    optional : bool
        ``None`` is allowed.
    flag : str or None
        Command-line flag (default ``--field-name``); ``""``: no flag (Python only).
    invert : bool
        The flag is a ``--no-...`` switch storing the negation.
    cli_default : Any
        Default on the command line when it differs from the Python one.
    record : bool
        Written to ``run.json`` (values that are not JSON, such as callables, are not).
    """

    kind: str
    help: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] | None = None
    optional: bool = False
    flag: str | None = None
    invert: bool = False
    cli_default: Any = NOT_SET
    record: bool = True

    def expected(self) -> str:
        """Plain-words description of the accepted values."""
        base = _EXPECTED.get(self.kind, self.kind)
        if self.choices:
            base = "one of " + " | ".join(self.choices)
        if self.lo is not None or self.hi is not None:
            base += " " + _range_text(self)
        return base + (" (or none)" if self.optional else "")


_EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "lr": "a positive number or 'auto'",
    "warmup": "steps (integer >= 0) or a fraction of the run in [0, 1)",
    "devices": "'auto', a number of devices >= 1, -1 (all) or a list of device indices",
    "accelerator": "one of " + " | ".join(ACCELERATORS),
    "class_weights": "'balanced' or comma-separated non-negative weights",
    "names": "comma-separated names",
    "split": "K/N, e.g. 0/5 (fold K of N, from 0)",
    "freeze": "none | encoder | all-but-last-K",
    "precision": "one of " + " | ".join(PRECISIONS),
    "schedule": "one of " + " | ".join(SCHEDULES),
    "path": "a path",
}


def _range_text(spec: Spec) -> str:
    parts = []
    if spec.lo is not None:
        parts.append(f"{'>' if spec.lo_open else '>='} {spec.lo:g}")
    if spec.hi is not None:
        parts.append(f"{'<' if spec.hi_open else '<='} {spec.hi:g}")
    return " and ".join(parts)


def option(default: Any, kind: str, help: str, **spec: Any) -> Any:
    """A dataclass field with its :class:`Spec` in the metadata."""
    return field(default=default, metadata={"spec": Spec(kind, help, **spec)})


# ---------------------------------------------------------------------- value checks
class _Bad(Exception):
    """A value outside its spec (turned into a ConfigError naming the option)."""


def _number(value: Any, integer: bool) -> float | int:
    if isinstance(value, bool):
        raise _Bad
    if isinstance(value, str):
        try:
            value = float(value.strip()) if not integer else int(value.strip())
        except ValueError:
            raise _Bad from None
    if integer:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise _Bad
        return value
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise _Bad
    return float(value)


def _in_range(value: float, spec: Spec) -> None:
    if spec.lo is not None and (value <= spec.lo if spec.lo_open else value < spec.lo):
        raise _Bad
    if spec.hi is not None and (value >= spec.hi if spec.hi_open else value > spec.hi):
        raise _Bad


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise _Bad


def _names(value: Any, spec: Spec) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list | tuple):
        items = [str(v).strip() for v in value]
    else:
        raise _Bad
    if spec.choices and any(v not in spec.choices for v in items):
        raise _Bad
    if spec.choices is None and not items:
        raise _Bad
    return tuple(items)


def _class_weights(value: Any) -> str | tuple[float, ...]:
    if isinstance(value, str) and value.strip() == "balanced":
        return "balanced"
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise _Bad
    weights = tuple(float(_number(v, False)) for v in items)
    if any(w < 0 for w in weights):
        raise _Bad
    return weights


def _devices(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "auto":
        return "auto"
    if isinstance(value, list | tuple):
        ids = [_number(v, True) for v in value]
        if not ids or any(i < 0 for i in ids):
            raise _Bad
        return list(ids)
    n = _number(value, True)
    if n < 1 and n != -1:
        raise _Bad
    return n


def _accelerator(value: Any) -> str:
    if value not in ACCELERATORS:
        raise _Bad
    if value in ("gpu", "cuda", "mps") and not _available(value):
        raise ConfigError(
            f"accelerator {value!r} is not available on this machine",
            expected="an accelerator this machine has (cpu, or auto)",
            got=f"{value} (none found by torch)",
            fix="use --accelerator cpu or auto",
        )
    return value


def _available(accelerator: str) -> bool:
    import torch

    if accelerator == "mps":
        return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return bool(torch.cuda.is_available())


def _warmup(value: Any) -> int | float:
    if isinstance(value, str):
        value = _number(value, False)
        value = int(value) if value >= 1 and float(value).is_integer() else value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad
    if isinstance(value, float) and not 0.0 <= value < 1.0:
        raise _Bad
    if isinstance(value, int) and value < 0:
        raise _Bad
    return value


def _split(value: Any) -> str:
    text = (
        f"{value[0]}/{value[1]}" if isinstance(value, list | tuple) and len(value) == 2 else value
    )
    if not isinstance(text, str):
        raise _Bad
    found = re.fullmatch(r"\s*(\d+)\s*[/-]\s*(\d+)\s*", text)
    if not found or int(found[2]) < 2 or int(found[1]) >= int(found[2]):
        raise _Bad
    return f"{int(found[1])}/{int(found[2])}"


def _schedule(value: Any) -> Any:
    if isinstance(value, Mapping):
        if value.get("name") not in SCHEDULES:
            raise _Bad
        return dict(value)
    if value not in SCHEDULES:
        raise _Bad
    return value


def _convert(spec: Spec, value: Any) -> Any:
    """``value`` in the field's type, or raise ``_Bad``."""
    kind = spec.kind
    if kind in ("int", "float"):
        value = _number(value, kind == "int")
        _in_range(value, spec)
        return value
    if kind == "lr":
        if isinstance(value, str) and value.strip() == "auto":
            return "auto"
        value = _number(value, False)
        if value <= 0:
            raise _Bad
        return value
    if kind == "str":
        if not isinstance(value, str) or (spec.choices and value not in spec.choices):
            raise _Bad
        return value
    if kind == "freeze":
        if not isinstance(value, str) or not _FREEZE.fullmatch(value):
            raise _Bad
        return value
    if kind == "precision":
        text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
        if text not in PRECISIONS:
            raise _Bad
        return text
    if kind == "path":
        if not isinstance(value, str | Path) or not str(value):
            raise _Bad
        return str(value)
    return _CONVERTERS[kind](value) if kind in _CONVERTERS else value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "bool": _boolean,
    "warmup": _warmup,
    "devices": _devices,
    "accelerator": _accelerator,
    "class_weights": _class_weights,
    "split": _split,
    "schedule": _schedule,
}


def check_value(name: str, spec: Spec, value: Any, where: str = "") -> Any:
    """``value`` converted to the type of option ``name``; a :class:`ConfigError` if invalid.

    Parameters
    ----------
    name : str
        Option name, as the user spelled it (for the message).
    spec : Spec
        The option's spec.
    value : Any
        A Python value or the text of a command-line flag.
    where : str, optional
        Where the value came from (``" in run.yaml"``), for the message.

    Returns
    -------
    Any
        The checked value (e.g. ``"1e-3"`` -> ``0.001`` for a number).
    """
    if value is None and (spec.optional or spec.kind == "any"):
        return None
    try:
        if spec.kind == "names":
            return _names(value, spec)
        return _convert(spec, value)
    except (_Bad, TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(
            f"invalid {name}{where}",
            expected=spec.expected(),
            got=repr(value)[:80],
            fix=f"give {name} {spec.expected()}",
        ) from None


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
    strategy: Any = option("auto", "any", "auto | ddp | ddp_spawn | fsdp ...")
    precision: Any = option(
        None, "precision", "32-true | bf16-mixed | 16-mixed (default: by device)", optional=True
    )
    deterministic: bool = option(True, "bool", "deterministic algorithms", flag="")
    log_every_n_steps: int = option(10, "int", "steps between logged losses", lo=1, flag="")
    callbacks: Any = option(None, "any", "extra Lightning callbacks", flag="", record=False)

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
            close = difflib.get_close_matches(name, list(cls.specs()) + list(cls.ALIASES), n=3)
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
        """JSON-able values of the recorded fields (``run.json``, the bundle's training)."""
        out = {}
        for name, spec in self.specs().items():
            if spec.record:
                out[name] = _jsonable(getattr(self, name))
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any], **overrides: Any) -> Any:
        """The configuration :meth:`to_record` wrote, with ``overrides``."""
        known = {k: v for k, v in record.items() if k in cls.specs()}
        return cls(**known).replace(**overrides)

    def trainer_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~spectrakit.training.trainer.TrainerOptions`."""
        names = ("accelerator", "devices", "num_nodes", "strategy", "precision",
                 "gradient_clip", "patience", "checkpoint_every", "progress", "loggers",
                 "deterministic", "log_every_n_steps", "callbacks")  # fmt: skip
        return {n: getattr(self, n) for n in names}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


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
    max_epochs: int = option(50, "int", "maximum epochs", lo=1, flag="--epochs")
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
    ood_tune: bool = option(
        False, "bool", "classifiers with --ood dime/auto: choose DIME's components k and rate "
        "alpha on the training spectra (leave one class out, best open-set efficiency TEFF) "
        "instead of --false-rejection; the choice is recorded in the bundle",
    )  # fmt: skip


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
