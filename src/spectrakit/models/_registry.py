"""Model registry: ``register_model``, ``create``, ``list_models``, ``model_config``.

Each named variant is a small function decorated with :func:`register_model` that builds
the model from keyword arguments (timm style). The arguments a model was created with are
recorded on it, so :func:`model_config` returns a JSON-able description from which
:func:`create` rebuilds the same architecture (weights travel separately, in safetensors).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from spectrakit.core.errors import ModelError
from spectrakit.core.registry import Registry

__all__ = [
    "MODELS",
    "create",
    "list_models",
    "model_config",
    "model_entrypoint",
    "register_model",
]

_F = TypeVar("_F", bound=Callable[..., Any])
#: every model variant: name -> builder function, with its ``family`` as metadata.
MODELS: Registry[Callable[..., Any]] = Registry(
    "model", error=ModelError, hint="Run 'spectrakit models' to list them"
)


def register_model(fn: _F) -> _F:
    """Register a model variant under the name of the decorated function.

    The family is the name of the module that defines the function (``specbert`` for
    ``spectrakit.models.specbert``).

    Parameters
    ----------
    fn : callable
        ``fn(**kwargs) -> SpectralModel``.

    Returns
    -------
    callable
        ``fn`` itself, unchanged.
    """
    return MODELS.register(fn, family=fn.__module__.rsplit(".", 1)[-1])


def model_entrypoint(name: str) -> Callable[..., Any]:
    """The builder function of a registered model; unknown names raise ModelError.

    Parameters
    ----------
    name : str
        Registered variant name, e.g. ``"specbert_tiny"``.

    Returns
    -------
    callable
        The variant function.
    """
    return MODELS.lookup(name)


def create(
    name: str,
    *,
    in_channels: int = 1,
    n_outputs: int = 1,
    input_length: int | None = None,
    n_extra: int = 0,
    **hparams: Any,
) -> Any:
    """Build a registered model.

    Parameters
    ----------
    name : str
        Variant name, e.g. ``"cnn1d_tiny"`` (see :func:`list_models`).
    in_channels : int
        Spectra per sample, stacked as channels: input is (B, in_channels, L).
    n_outputs : int
        Width of the head output (classes, or regression targets).
    input_length : int, optional
        Number of points L; required by fixed-length models (``mlp``, ``gaf2d``), used by
        others to check inputs.
    n_extra : int
        Number of tabular features fused with the spectral embedding.
    **hparams
        Architecture hyper-parameters of the family (override the variant defaults).

    Returns
    -------
    SpectralModel

    Examples
    --------
    >>> import torch
    >>> from spectrakit.models import create
    >>> model = create("cnn1d_tiny", n_outputs=3)
    >>> model(torch.randn(2, 1, 256)).shape
    torch.Size([2, 3])
    """
    fn = model_entrypoint(name)
    kwargs = dict(
        in_channels=in_channels, n_outputs=n_outputs, input_length=input_length, n_extra=n_extra
    )
    kwargs.update(hparams)
    _check_jsonable(name, kwargs)
    try:
        model = fn(**kwargs)
    except TypeError as exc:
        raise ModelError(
            f"cannot create {name!r}",
            expected="hyper-parameters accepted by the family",
            got=str(exc),
            fix=f"check the signature of spectrakit.models.{model_family(name)}",
        ) from None
    model.model_name = name
    model.model_kwargs = kwargs
    return model


def _check_jsonable(name: str, kwargs: dict[str, Any]) -> None:
    """Hyper-parameters must be plain values: they are stored in the bundle's JSON."""
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise ModelError(
            f"hyper-parameters of {name!r} are not JSON-able",
            expected="numbers, strings, booleans, lists or None",
            got=str(exc),
            fix="pass plain values (types such as norm_layer are chosen by name)",
        ) from None


def list_models(pattern: str = "*") -> list[str]:
    """Sorted names of registered models matching a shell-style pattern.

    Parameters
    ----------
    pattern : str
        ``fnmatch`` pattern such as ``"specbert*"`` or ``"*_tiny"``.

    Returns
    -------
    list of str
    """
    return MODELS.names(pattern)


def model_family(name: str) -> str:
    """Family (defining module) of a registered model name."""
    return str(MODELS.metadata(name)["family"])


def model_config(model: Any) -> dict[str, Any]:
    """JSON-able ``{"name", "kwargs"}`` from which :func:`create` rebuilds the architecture.

    Parameters
    ----------
    model : SpectralModel
        A model built by :func:`create` (its head may have been reset since).

    Returns
    -------
    dict
        ``create(cfg["name"], **cfg["kwargs"])`` gives the same architecture, so a state
        dict saved from ``model`` loads into it.
    """
    name = getattr(model, "model_name", None)
    if name is None:
        raise ModelError(
            "model has no registry name",
            expected="a model built by spectrakit.models.create",
            got=type(model).__name__,
            fix="build it with create(name, ...) so its configuration is recorded",
        )
    kwargs = dict(model.model_kwargs)
    kwargs.update(model.config_overrides())
    return {"name": name, "kwargs": kwargs}
