"""The code's shape and the documented surface: function length, every documented import."""

from __future__ import annotations

import ast
import re
import textwrap
import warnings
from pathlib import Path

import pytest

import spectrakit

ROOT = Path(spectrakit.__file__).resolve().parent
REPO = ROOT.parents[1]
#: the hard limit; numba kernels are exempt (one kernel is cheaper than several calls).
MAX_LINES = 80


def _is_numba_kernel(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        owner = getattr(getattr(target, "value", None), "id", "numba")
        if name in ("njit", "jit") and owner == "numba":
            return True
    return False


def long_functions(source: str, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """``(name, lines)`` of every function longer than ``limit``, decorators included."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not _is_numba_kernel(node):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            n = node.end_lineno - start + 1
            if n > limit:
                out.append((node.name, n))
    return out


def test_the_length_scan_sees_long_functions_and_exempts_only_numba_kernels():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_LINES))
    plain = f"def f():\n{body}"
    assert long_functions(plain) == [("f", MAX_LINES + 1)]
    method = "class C:\n    @staticmethod\n" + textwrap.indent(plain, "    ")
    assert long_functions(method) == [("f", MAX_LINES + 2)]  # the decorator line counts
    for deco in ("@numba.njit(cache=True)\n", "@numba.jit\n", "@njit\n"):
        assert long_functions(deco + plain) == []
    assert long_functions("@functools.cache\n" + plain)  # other decorators are no excuse


def test_no_function_in_src_exceeds_the_hard_limit():
    long = [
        f"{path.relative_to(ROOT.parent)}:{name} ({n} lines)"
        for path in sorted(ROOT.rglob("*.py"))
        for name, n in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert not long, f"split these into named steps (limit {MAX_LINES}): " + ", ".join(long)


# ------------------------------------------------------------------ documented imports
_FROM = re.compile(r"^[ \t]*from (spectrakit[\w.]*) import (\([^)]*\)|[^\n#]+)", re.M)
_IMPORT = re.compile(r"^[ \t]*import (spectrakit[\w.]*(?: as \w+)?)[ \t]*$", re.M)


def documented_imports(text: str) -> list[str]:
    """Every ``from spectrakit... import ...`` / ``import spectrakit...`` statement in ``text``."""
    found = [f"from {m[1]} import {' '.join(m[2].split())}" for m in _FROM.finditer(text)]
    return found + [f"import {m[1]}" for m in _IMPORT.finditer(text)]


def _documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


DOCUMENTED = [
    (path.relative_to(REPO).as_posix(), stmt)
    for path in _documents()
    for stmt in dict.fromkeys(documented_imports(path.read_text(encoding="utf-8")))
]


def test_the_extraction_finds_single_multi_line_and_plain_imports():
    text = (
        "```python\nfrom spectrakit import load, write  # io\n"
        "from spectrakit.datasets import (\n    make_synthetic,\n    Instrument,\n)\n"
        "import spectrakit.cli\n```\nprose: from spectrakit we import nothing\n"
    )
    assert documented_imports(text) == [
        "from spectrakit import load, write",
        "from spectrakit.datasets import ( make_synthetic, Instrument, )",
        "import spectrakit.cli",
    ]


def test_readme_and_every_docs_page_are_scanned():
    pages = {page for page, _ in DOCUMENTED}
    assert "README.md" in pages and sum(p.startswith("docs/") for p in pages) >= 3


@pytest.mark.parametrize(("page", "statement"), DOCUMENTED)
def test_every_documented_import_works(page, statement):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(statement, page, "exec"), {})
    old = [str(w.message) for w in caught if "spectrakit." in str(w.message)]
    assert not old, f"{page} shows a deprecated path: {old[0]}"


def test_normalize_spectra_has_one_definition_for_training_and_inference():
    from spectrakit.models import inputs
    from spectrakit.preprocessing import channels

    assert inputs.normalize_spectra is channels.normalize_spectra
    defs = [
        path.relative_to(ROOT).as_posix()
        for path in sorted(ROOT.rglob("*.py"))
        if "def normalize_spectra(" in path.read_text(encoding="utf-8")
    ]
    assert defs == ["preprocessing/channels.py"]
