"""Helpers that edit a saved bundle the way an attacker would: change a file, then recompute
every plain checksum (file sha256 in ``files`` and the config ``integrity``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rehash(config: dict, allow_nan: bool = False) -> dict:
    """``config`` with its plain integrity checksum recomputed (anyone can do this)."""
    body = {k: v for k, v in config.items() if k != "integrity"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=allow_nan)
    return {**body, "integrity": sha256(text.encode())}


def forge(bundle: Path, edit: Callable[[dict], None], allow_nan: bool = False) -> dict:
    """Apply ``edit`` to config.json, re-record every file's sha256 and the integrity."""
    config = json.loads((bundle / "config.json").read_text())
    edit(config)
    for name in config["files"]:
        if (bundle / name).is_file():
            config["files"][name] = sha256((bundle / name).read_bytes())
    config = rehash(config, allow_nan=allow_nan)
    (bundle / "config.json").write_text(json.dumps(config, allow_nan=allow_nan))
    return config
