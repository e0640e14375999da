"""Attributes that import their module on first use (keeps light imports free of torch)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["by_module", "lazy_attributes"]


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


def by_module(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """The ``names`` of :func:`lazy_attributes` from ``{module: attribute names}``.

    Each module is named once, however many of its attributes the package lists.

    Examples
    --------
    >>> by_module({"pkg.a": ("f", "g"), "pkg.b": ("h",)})
    {'f': 'pkg.a', 'g': 'pkg.a', 'h': 'pkg.b'}
    """
    out: dict[str, str] = {}
    for module, names in table.items():
        for name in names:
            if name in out:
                raise ValueError(f"{name!r} is listed under {out[name]!r} and {module!r}")
            out[name] = module
    return out
