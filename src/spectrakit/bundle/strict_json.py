"""Strict JSON for bundle files: standard literals only, bounded size and nesting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spectrakit.core.errors import BundleError

__all__ = [
    "MAX_DEPTH",
    "MAX_JSON_BYTES",
    "dumps_canonical",
    "parse_json",
    "read_bytes_checked",
    "read_json_file",
]

#: deepest nesting a bundle JSON file may have (a real config is under 10 levels deep)
MAX_DEPTH = 64
#: largest bundle JSON file read
MAX_JSON_BYTES = 64 * 1024**2


def _no_constant(literal: str) -> Any:
    raise ValueError(f"the non-standard JSON literal {literal}")


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_json(data: bytes, name: str) -> Any:
    """Parse ``data`` strictly: UTF-8, no NaN/Infinity literals, at most :data:`MAX_DEPTH` deep.

    Raises
    ------
    BundleError
        One line naming the file and the rule it breaks.
    """
    if len(data) > MAX_JSON_BYTES:
        raise BundleError(
            f"{name} is too large",
            expected=f"at most {MAX_JSON_BYTES} bytes (limit MAX_JSON_BYTES)",
            got=f"{len(data)} bytes",
            fix="restore the original file",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{name} is not UTF-8 text", fix="restore the original file") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        value = None  # deeper than the interpreter's limit: far past MAX_DEPTH
    except ValueError as exc:
        raise BundleError(
            f"{name} is not valid JSON",
            expected="standard JSON (finite numbers, no NaN or Infinity)",
            got=" ".join(str(exc).split())[:120],
            fix="restore the original file",
        ) from None
    else:
        if _depth(value) <= MAX_DEPTH:
            return value
    raise BundleError(
        f"{name} is nested too deeply",
        expected=f"at most {MAX_DEPTH} levels (limit MAX_DEPTH)",
        got=f"more than {MAX_DEPTH}",
        fix="restore the original file",
    )


def read_bytes_checked(path: Path, name: str | None = None) -> bytes:
    """Content of a regular file of at most :data:`MAX_JSON_BYTES` (a link is refused)."""
    from spectrakit.bundle.policy import check_regular_file

    name = name or path.name
    check_regular_file(path, where=name)
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise BundleError(
            f"{name} is too large",
            expected=f"at most {MAX_JSON_BYTES} bytes (limit MAX_JSON_BYTES)",
            got=f"{size} bytes",
            fix="restore the original file",
        )
    return path.read_bytes()


def read_json_file(path: Path, name: str | None = None) -> Any:
    """Read and :func:`parse_json` a file (a link or an oversized file is refused)."""
    name = name or path.name
    return parse_json(read_bytes_checked(path, name), name)


def dumps_canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, finite numbers) for hashing and signing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
