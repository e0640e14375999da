"""The one sha256 helper of the package: hex digests of files (streamed) and of bytes.

Bundles (:mod:`spectrakit.bundle`), the model store (:mod:`spectrakit.store`) and the data
set cache (:mod:`spectrakit.datasets`) all checksum through these two functions, so a digest
written by one is the digest another computes.
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["sha256_bytes", "sha256_file"]

#: read block of :func:`sha256_file` (1 MiB: constant memory for any file size)
BLOCK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, streamed in 1 MiB blocks.

    Parameters
    ----------
    path : str or os.PathLike
        The file to hash.

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data`` (any bytes-like object), 64 lower-case hex digits."""
    return hashlib.sha256(bytes(data)).hexdigest()
