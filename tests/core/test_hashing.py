"""The one sha256 helper: known digests, streamed files, and a single definition in the package."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import spectrakit
from spectrakit.core.hashing import BLOCK, sha256_bytes, sha256_file

SRC = Path(spectrakit.__file__).parent


def test_known_digests(tmp_path: Path) -> None:
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_bytes(b"") == empty
    assert sha256_bytes(bytearray(b"abc")) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    (tmp_path / "empty.bin").write_bytes(b"")
    assert sha256_file(tmp_path / "empty.bin") == empty


def test_file_larger_than_one_block(tmp_path: Path) -> None:
    data = bytes(range(256)) * (BLOCK // 256 * 2 + 7)  # spans three reads
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(str(path)) == hashlib.sha256(data).hexdigest() == sha256_bytes(data)


def test_old_names_are_the_same_helper() -> None:
    from spectrakit.bundle import policy
    from spectrakit.datasets import _cache
    from spectrakit.store import local

    assert policy.sha256_file is sha256_file and policy.sha256_bytes is sha256_bytes
    assert _cache.file_sha256 is sha256_file
    assert local.file_sha256 is sha256_file


def _hashing_definitions() -> list[str]:
    """Every function in the package that builds a sha256 digest itself."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(node):
                func = call.func if isinstance(call, ast.Call) else None
                if isinstance(func, ast.Attribute) and func.attr == "sha256":
                    found.append(f"{path.relative_to(SRC)}:{node.name}")
    return sorted(found)


def test_one_definition_in_the_package() -> None:
    assert _hashing_definitions() == ["core/hashing.py:sha256_bytes", "core/hashing.py:sha256_file"]
