"""Registry of attribution methods: name -> function(prepared, target, **options)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from spectrakit.core.errors import ConfigError

__all__ = ["METHODS", "get_method", "list_methods", "register_method"]

#: name -> (function, faithful). ``faithful`` marks methods derived from the model's output
#: for the explained target (not class-agnostic maps such as attention).
METHODS: dict[str, tuple[Callable[..., torch.Tensor], bool]] = {}
_ALIASES = {
    "integrated_gradients": "ig",
    "integrated-gradients": "ig",
    "gradient_shap": "shap",
    "gradientshap": "shap",
    "noise_tunnel": "smoothgrad",
    "grad-cam": "gradcam",
    "grad_cam": "gradcam",
    "ip_gradcam": "ip-gradcam",
    "rollout": "attention",
}


def register_method(name: str, *, faithful: bool = True) -> Callable:
    """Decorator registering ``fn(prepared, target, **options) -> Tensor (n, L)``."""

    def deco(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        METHODS[name] = (fn, faithful)
        return fn

    return deco


def list_methods(*, faithful_only: bool = False) -> list[str]:
    """Registered method names (optionally only target-specific, output-derived ones)."""
    return sorted(n for n, (_, f) in METHODS.items() if f or not faithful_only)


def get_method(name: str) -> Callable[..., Any]:
    """The attribution function registered under ``name`` (aliases accepted)."""
    key = _ALIASES.get(str(name).lower(), str(name).lower())
    if key not in METHODS:
        raise ConfigError(
            "unknown explanation method",
            expected="one of " + ", ".join(list_methods()),
            got=repr(name),
        )
    return METHODS[key][0]


def canonical_name(name: str) -> str:
    """The registered spelling of ``name``."""
    get_method(name)
    return _ALIASES.get(str(name).lower(), str(name).lower())
