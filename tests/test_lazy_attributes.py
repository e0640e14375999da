"""Lazy package attributes: declared once per module, every listed name resolves."""

from __future__ import annotations

import importlib

import pytest

from spectrakit._lazy import by_module


def test_by_module_inverts_the_table_and_refuses_a_name_listed_twice():
    table = {"pkg.a": ("f", "g"), "pkg.b": ["h"]}
    assert by_module(table) == {"f": "pkg.a", "g": "pkg.a", "h": "pkg.b"}
    assert by_module({}) == {}
    with pytest.raises(ValueError, match=r"'f' is listed under 'pkg\.a' and 'pkg\.b'"):
        by_module({"pkg.a": ("f",), "pkg.b": ("f",)})


@pytest.mark.parametrize(
    "package", ["spectrakit.core", "spectrakit.data", "spectrakit.training", "spectrakit.ood"]
)
def test_every_lazy_name_resolves_from_its_module(package):
    pkg = importlib.import_module(package)
    assert pkg._LAZY, package
    for name, module in pkg._LAZY.items():
        value = getattr(pkg, name)
        assert value is getattr(importlib.import_module(module), name), name
    assert set(pkg._LAZY) <= set(pkg.__all__)
