"""Attributes that import their module on first use (keeps light imports free of torch)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` resolving ``names`` (attribute -> module) on first access.

    The resolved value is stored on the package, so later accesses are plain lookups.
    Start-up stays fast because a package lists its heavy names here instead of importing
    them (``spectrakit --help`` loads neither pandas, SciPy, torch, Lightning nor numba).

    Examples
    --------
    >>> __getattr__ = lazy_attributes("pkg", {"fit": "pkg._heavy"})  # doctest: +SKIP
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            # a subpackage not imported yet (``spectrakit.io`` after ``import spectrakit``)
            if importlib.util.find_spec(f"{package}.{name}") is None:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
            return importlib.import_module(f"{package}.{name}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
