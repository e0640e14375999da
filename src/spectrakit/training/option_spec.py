"""What a training option accepts: its :class:`Spec` and the checks that convert a value.

A :class:`Spec` sits in the metadata of every field of the training configurations
(:mod:`spectrakit.training.config`); :func:`check_value` converts a Python value or the text
of a flag to the field's type, or raises one :class:`~spectrakit.core.errors.ConfigError`
naming the option, what it accepts and what it got. No heavy library is imported here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spectrakit.core.errors import ConfigError

__all__ = [
    "ACCELERATORS",
    "LOGGERS",
    "MASK_MODES",
    "NOT_SET",
    "OOD_CHOICES",
    "PRECISIONS",
    "SCHEDULES",
    "Spec",
    "check_value",
    "close_matches",
    "option",
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
    "bounds": "a number, or comma-separated numbers or 'none', one per target",
    "names": "comma-separated names",
    "split": "K/N, e.g. 0/5 (fold K of N, from 0)",
    "freeze": "none | encoder | all-but-last-K",
    "precision": "one of " + " | ".join(PRECISIONS),
    "schedule": "one of " + " | ".join(SCHEDULES),
    "path": "a path",
    "strategy": "auto, ddp, ddp_spawn, fsdp or another Lightning strategy name",
}


def _range_text(spec: Spec) -> str:
    def text(bound: float) -> str:
        return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"

    parts = []
    if spec.lo is not None:
        parts.append(f"{'>' if spec.lo_open else '>='} {text(spec.lo)}")
    if spec.hi is not None:
        parts.append(f"{'<' if spec.hi_open else '<='} {text(spec.hi)}")
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


def _bounds(value: Any) -> tuple[float | None, ...]:
    """A bound for every target, or one per target (``none``: that side open)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        items = [items]
    if not items:
        raise _Bad
    out = []
    for v in items:
        open_side = v is None or (isinstance(v, str) and v.strip().lower() in ("none", ""))
        out.append(None if open_side else float(_number(v, False)))
    return tuple(out)


def _devices(value: Any) -> Any:
    if isinstance(value, str) and value.strip() == "auto":
        return "auto"
    if isinstance(value, str) and "," in value:  # device indices, e.g. "0,1"
        value = [v for v in value.split(",") if v.strip()]
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


def _strategy(value: Any) -> Any:
    if not isinstance(value, str):
        return value  # a lightning Strategy instance (Python only)
    if value in ("auto", "ddp", "ddp_spawn", "fsdp"):
        return value
    from lightning.pytorch.strategies import StrategyRegistry

    if value not in StrategyRegistry:
        raise _Bad
    return value


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
    "bounds": _bounds,
    "split": _split,
    "schedule": _schedule,
    "strategy": _strategy,
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


def close_matches(word: str, choices: list[str], n: int = 3) -> list[str]:
    """The ``n`` closest spellings of ``word`` (difflib loads only for a misspelt option)."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n)
