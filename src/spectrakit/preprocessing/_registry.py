"""Registry of preprocessing steps, so configurations name steps instead of importing code.

A configuration refers to a step by its registered name (the class name, e.g.
``"SavitzkyGolay"``; lookups ignore case). Building a step checks the parameter names
against the class signature and the values with the step's own validation, so a typo in a
YAML file fails with a :class:`~spectrakit.core.errors.ConfigError` that lists what is allowed.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

from spectrakit.core.errors import ConfigError, SpectraError
from spectrakit.preprocessing._base import SpectralTransformer

__all__ = ["build_step", "get_step_class", "list_steps", "register_step"]

_STEPS: dict[str, type[SpectralTransformer]] = {}
T = TypeVar("T", bound=type[SpectralTransformer])

#: modules whose classes register themselves as steps; imported on the first lookup.
BUILTIN_STEP_MODULES = (
    "spectrakit.preprocessing._axis",
    "spectrakit.preprocessing._scaling",
    "spectrakit.preprocessing._scatter",
    "spectrakit.preprocessing._smoothing",
    "spectrakit.preprocessing._spikes",
    "spectrakit.preprocessing.baseline",
)
_loaded = False


def _load_builtin_steps() -> None:
    """Import the built-in step modules once (a module not installed is skipped)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in BUILTIN_STEP_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def register_step(cls: T) -> T:
    """Class decorator: make a :class:`SpectralTransformer` available to configurations.

    Examples
    --------
    >>> from spectrakit.preprocessing import SpectralTransformer, register_step
    >>> @register_step
    ... class Negate(SpectralTransformer):
    ...     def _transform(self, X, axis):
    ...         return -X, axis
    >>> "Negate" in list_steps()
    True
    """
    if not (isinstance(cls, type) and issubclass(cls, SpectralTransformer)):
        raise ConfigError(
            "only SpectralTransformer subclasses can be registered as steps",
            got=repr(cls),
        )
    known = _STEPS.get(cls.__name__)
    if known is not None and known is not cls:
        raise ConfigError(
            f"a different step is already registered as {cls.__name__!r}",
            got=f"{known.__module__}.{known.__qualname__}",
            fix="give the new step class another name",
        )
    _STEPS[cls.__name__] = cls
    return cls


def list_steps() -> list[str]:
    """Sorted names of every registered step."""
    _load_builtin_steps()
    return sorted(_STEPS)


def get_step_class(name: str) -> type[SpectralTransformer]:
    """The step class registered as ``name`` (case-insensitive)."""
    _load_builtin_steps()
    cls = _STEPS.get(name)
    if cls is None:
        by_lower = {k.lower(): v for k, v in _STEPS.items()}
        cls = by_lower.get(str(name).lower())
    if cls is None:
        raise ConfigError(
            f"unknown preprocessing step {name!r}",
            expected="one of " + ", ".join(list_steps()),
            got=repr(name),
            fix="check the spelling in the pipeline configuration",
        )
    return cls


def build_step(name: str, params: Mapping[str, Any] | None = None) -> SpectralTransformer:
    """Instantiate step ``name`` with ``params``, validating names and values."""
    cls = get_step_class(name)
    params = dict(params or {})
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigError(
            f"{cls.__name__}: unknown parameter(s) " + ", ".join(unknown),
            expected="parameters among " + (", ".join(accepted) or "(none)"),
            got=", ".join(f"{k}={params[k]!r}" for k in unknown),
        )
    try:
        step = cls(**params)
        step._check_params(None)
    except ConfigError:
        raise
    except (SpectraError, TypeError) as exc:
        raise ConfigError(
            f"{cls.__name__}: invalid parameters",
            got=", ".join(f"{k}={v!r}" for k, v in params.items()) or "defaults",
            fix=str(exc),
        ) from exc
    return step
