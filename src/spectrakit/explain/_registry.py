"""Registry of attribution methods: name -> function(prepared, target, **options)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from spectrakit.core.registry import Registry

__all__ = ["METHODS", "canonical_name", "get_method", "list_methods", "register_method"]

#: name -> function, with metadata ``faithful``: the method is derived from the model's output
#: for the explained target (not a class-agnostic map such as attention).
METHODS: Registry[Callable[..., torch.Tensor]] = Registry(
    "explanation method",
    case_sensitive=False,
    # importing these registers the built-in methods
    modules=tuple(
        f"spectrakit.explain.{m}" for m in ("_attention", "_gradcam", "_gradients", "_occlusion")
    ),
    aliases={
        "integrated_gradients": "ig",
        "integrated-gradients": "ig",
        "gradient_shap": "shap",
        "gradientshap": "shap",
        "noise_tunnel": "smoothgrad",
        "grad-cam": "gradcam",
        "grad_cam": "gradcam",
        "ip_gradcam": "ip-gradcam",
        "rollout": "attention",
    },
)


def register_method(name: str, *, faithful: bool = True) -> Callable:
    """Decorator registering ``fn(prepared, target, **options) -> Tensor (n, L)``."""
    return METHODS.register(name, faithful=faithful)


def list_methods(*, faithful_only: bool = False) -> list[str]:
    """Registered method names (optionally only target-specific, output-derived ones)."""
    return [n for n in METHODS.names() if is_faithful(n) or not faithful_only]


def get_method(name: str) -> Callable[..., Any]:
    """The attribution function registered under ``name`` (aliases accepted)."""
    return METHODS.lookup(name)


def canonical_name(name: str) -> str:
    """The registered spelling of ``name``."""
    return METHODS.canonical(name)


def is_faithful(name: str) -> bool:
    """Whether method ``name`` explains the model's output for a target (not class-agnostic)."""
    return bool(METHODS.metadata(name)["faithful"])
