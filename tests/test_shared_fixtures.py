"""Fixtures shared by many test files live once, in conftest.py, and are not copied."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _sets_threads(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "set_num_threads" for n in ast.walk(fn))


def _is_fixture(fn: ast.FunctionDef) -> bool:
    return any("fixture" in ast.unparse(d) for d in fn.decorator_list)


def test_thread_fixtures_are_not_copied_into_test_files():
    copies = []
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and _sets_threads(fn):
                copies.append(f"{path.relative_to(TESTS)}:{fn.lineno} {fn.name}")
    assert not copies, (
        "use one_torch_thread / restore_torch_threads from conftest.py: " + ", ".join(copies)
    )


def test_conftest_provides_the_thread_fixtures():
    tree = ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8"))
    names = {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and _is_fixture(f)}
    assert {"one_torch_thread", "restore_torch_threads"} <= names
