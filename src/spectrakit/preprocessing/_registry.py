"""Registry of preprocessing steps, so configurations name steps instead of importing code.

A configuration refers to a step by its registered name (the class name, e.g.
``"SavitzkyGolay"``; lookups ignore case). Building a step checks the parameter names
against the class signature and the values with the step's own validation, so a typo in a
YAML file fails with a :class:`~spectrakit.core.errors.ConfigError` that lists what is allowed.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

from spectrakit.core.errors import ConfigError, SpectraError
from spectrakit.core.registry import Registry
from spectrakit.preprocessing._base import SpectralTransformer

__all__ = ["STEPS", "build_step", "get_step_class", "list_steps", "register_step"]

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


def _check_step(name: str, cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, SpectralTransformer)):
        raise ConfigError(
            "only SpectralTransformer subclasses can be registered as steps",
            got=repr(cls),
        )


#: every preprocessing step: class name -> :class:`SpectralTransformer` subclass.
STEPS: Registry[type[SpectralTransformer]] = Registry(
    "preprocessing step",
    case_sensitive=False,
    modules=BUILTIN_STEP_MODULES,
    check=_check_step,
    hint="Check the spelling in the pipeline configuration",
)


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
    _check_step("", cls)  # before naming it: a non-class may have no __name__
    return STEPS.register(cls)


def list_steps() -> list[str]:
    """Sorted names of every registered step."""
    return STEPS.names()


def get_step_class(name: str) -> type[SpectralTransformer]:
    """The step class registered as ``name`` (case-insensitive)."""
    return STEPS.lookup(name)


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
