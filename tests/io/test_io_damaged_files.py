"""Damaged files (cut short or with flipped bytes) give FormatError/SpectraError, nothing else."""

from __future__ import annotations

import contextlib
import random
import struct

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.core.errors import SpectraError
from spectrakit.io import read_blocks

NEW_HEADER = "<BBBbIddIBBBBI9s9sH32s130s30sIIBBHf48sfIfB187s"


def _spc() -> bytes:
    header = struct.pack(
        NEW_HEADER, 0x04, 0x4B, 0, -128, 100, 400.0, 1800.0, 2, 1, 0, 0, 0, 0, b"", b"", 0,
        b"", b"", b"", 0, 0, 0, 0, 0, 0.0, b"", 0.0, 0, 0.0, 0, b"",
    )  # fmt: skip
    sub = struct.pack("<BbHfffIIf4s", 0, -128, 0, 0.0, 0.0, 0.0, 0, 0, 0.0, b"")
    return header + 2 * (sub + np.linspace(0, 1, 100).astype("<f4").tobytes())


def _opus() -> bytes:
    status = b""
    for key, kind, payload in (
        ("DPF", 0, struct.pack("<i", 1)),
        ("NPT", 0, struct.pack("<i", 100)),
        ("FXV", 1, struct.pack("<d", 4000.0)),
        ("LXV", 1, struct.pack("<d", 400.0)),
        ("CSF", 1, struct.pack("<d", 1.0)),
        ("DXU", 2, b"WN\x00\x00"),
    ):
        status += key.encode() + b"\x00" + struct.pack("<hh", kind, len(payload) // 2) + payload
    status += b"END\x00\x00\x00\x00\x00"
    data = np.linspace(0, 1, 100).astype("<f4").tobytes()
    ab, ab_status = 3 | 3 << 2 | 4 << 10, 3 | 3 << 2 | 1 << 4 | 4 << 10
    start = 24 + 2 * 12
    directory = struct.pack("<3i", ab, len(data) // 4, start) + struct.pack(
        "<3i", ab_status, len(status) // 4, start + len(data)
    )
    header = b"\x0a\x0a\xfe\xfe" + struct.pack("<d", 920622.0) + struct.pack("<3i", 24, 2, 2)
    return header + directory + data + status


def _written(tmp_path, ext: str) -> bytes:
    x = np.linspace(400.0, 1800.0, 60)
    s = sk.Spectra(np.random.default_rng(0).random((3, 60)), x, meta={"id": ["a", "b", "c"]})
    path = tmp_path / f"source.{ext}"
    if ext == "npy":
        np.save(path, np.asarray(s.values))
    else:
        sk.io.write(s, path)
    return path.read_bytes()


@pytest.mark.parametrize(
    ("ext", "fmt"),
    [("spc", "spc"), ("0", "opus"), ("jdx", "jcamp"), ("npz", "npz"), ("npy", "npy"),
     ("mat", "mat")],
)  # fmt: skip
def test_damaged_files_fail_cleanly(tmp_path, ext, fmt):
    good = {"spc": _spc, "0": _opus}.get(ext, lambda: _written(tmp_path, ext))()
    assert read_blocks(_put(tmp_path, ext, good), format=fmt)  # the intact file reads
    rng = random.Random(ext)
    variants = [
        good[:cut]
        for cut in sorted({1, 7, 24, 100, 513, *rng.sample(range(1, len(good)), 12)})
        if cut < len(good)
    ]
    for _ in range(25):
        damaged = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        variants.append(bytes(damaged))
    for blob in variants:
        with contextlib.suppress(SpectraError):  # the only acceptable failure
            read_blocks(_put(tmp_path, ext, blob), format=fmt)


def _put(tmp_path, ext: str, data: bytes):
    path = tmp_path / f"damaged.{ext}"
    path.write_bytes(data)
    return path
