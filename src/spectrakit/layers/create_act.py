"""Layer types chosen by name, so hyper-parameters stay JSON-able."""

from __future__ import annotations

from torch import nn

from spectrakit.core.errors import ModelError

__all__ = ["get_act_layer"]

_ACTS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
}


def get_act_layer(name: str | type[nn.Module]) -> type[nn.Module]:
    """Activation class from its name (``relu``, ``elu``, ``gelu``, ``silu``, ...)."""
    if isinstance(name, type):
        return name
    if name not in _ACTS:
        raise ModelError(
            "unknown activation", expected=" | ".join(_ACTS), got=repr(name), fix="pick one of them"
        )
    return _ACTS[name]
