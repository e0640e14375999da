"""The one file policy of a bundle, and the one sha256 helper.

A bundle is a flat folder of regular files. Each name is plain (no folder, no leading dot,
no separator) and ends in one of :data:`ALLOWED_SUFFIXES`; anything else -- pickles,
checkpoints, code, links, sub-folders -- is refused. The same rule is applied by
:func:`spectrakit.bundle.verify`, by zip packing and unpacking
(:mod:`spectrakit.bundle.archive`) and by the model store (:mod:`spectrakit.store`), so none
of them accepts what another would refuse.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from spectrakit.core.errors import BundleError

__all__ = [
    "ALLOWED_SUFFIXES",
    "CONFIG",
    "check_file_name",
    "check_regular_file",
    "is_allowed_name",
    "sha256_bytes",
    "sha256_file",
]

CONFIG = "config.json"
#: extensions a bundle file may have; anything else (pickles, checkpoints, code) is refused
ALLOWED_SUFFIXES = (".json", ".safetensors", ".md", ".onnx", ".csv", ".png", ".txt", ".html")
#: a plain file name: letters, digits, '_', '.', '-', not starting with a dot
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$")


def is_allowed_name(name: str) -> bool:
    """Whether ``name`` may be a file of a bundle (``config.json`` included)."""
    return bool(_NAME.match(name or "")) and name.lower().endswith(ALLOWED_SUFFIXES)


def check_file_name(name: str, where: str = "bundle") -> str:
    """Return ``name`` when the policy allows it, else raise one clear :class:`BundleError`.

    Parameters
    ----------
    name : str
        File name relative to the bundle folder.
    where : str
        What is being checked (named in the message).
    """
    if is_allowed_name(name):
        return name
    raise BundleError(
        f"{where}: invalid bundle file name {name!r}",
        expected="a plain file name (no folder, no leading dot) ending in "
        + ", ".join(ALLOWED_SUFFIXES),
        got=repr(name),
        fix="remove it; bundles never hold pickles, checkpoints, code, links or folders",
    )


def check_regular_file(path: Path, where: str = "bundle") -> None:
    """Refuse a link, folder or special file at ``path`` (checked without following links)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise BundleError(
            f"{where}: file {path.name} is missing", fix="restore the bundle"
        ) from None
    if not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        raise BundleError(
            f"{where}: {path.name!r} is {kind}",
            expected="regular files only",
            got=kind,
            fix="copy the bundle without links or folders",
        )


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, streamed in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(bytes(data)).hexdigest()
