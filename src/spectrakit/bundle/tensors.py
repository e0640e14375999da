"""Strict safetensors reading: the header is checked against the file before any array is read.

A forged file (a header whose offsets lie, a shape that does not match its bytes, an
unexpected dtype, a truncated data section) is refused with one line, and never makes the
reader allocate more than the file holds.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from spectrakit.core.errors import BundleError

__all__ = ["ARRAY_DTYPES", "read_arrays", "tensor_header"]

#: safetensors dtypes a bundle array may have, with their item size in bytes
ARRAY_DTYPES = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}
_MAX_HEADER = 100 * 1024**2


def _bad(name: str, what: str) -> BundleError:
    return BundleError(
        f"{name} is not a valid safetensors file: {what}",
        expected="the file spectrakit wrote (header offsets, dtypes and shapes matching its bytes)",
        fix="restore the bundle; the file is damaged or forged",
    )


def _read_header(path: Path, name: str) -> tuple[dict, int, int]:
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise _bad(name, f"{size} bytes, shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > min(_MAX_HEADER, size - 8):
            raise _bad(name, f"the header claims {n} bytes, the file has {size - 8} after it")
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=lambda c: None)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _bad(name, "the header is not JSON") from None
    if not isinstance(header, dict):
        raise _bad(name, "the header is not a JSON object")
    return header, 8 + n, size


def _check_entry(key: str, entry: object, name: str) -> tuple[int, int]:
    if not isinstance(entry, dict) or set(entry) - {"dtype", "shape", "data_offsets"}:
        raise _bad(name, f"tensor {key!r} has no dtype/shape/data_offsets")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in ARRAY_DTYPES:
        raise _bad(name, f"tensor {key!r} has dtype {dtype!r} (allowed: {', '.join(ARRAY_DTYPES)})")
    ok_shape = isinstance(shape, list) and all(type(d) is int and d >= 0 for d in shape)
    ok_offsets = (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(type(o) is int and o >= 0 for o in offsets)
        and offsets[0] <= offsets[1]
    )
    if not (ok_shape and ok_offsets):
        raise _bad(name, f"tensor {key!r} has an invalid shape or data_offsets")
    count = int(np.prod(shape, dtype=object)) if shape else 1
    if count * ARRAY_DTYPES[dtype] != offsets[1] - offsets[0]:
        raise _bad(
            name,
            f"tensor {key!r} of shape {tuple(shape)} {dtype} needs "
            f"{count * ARRAY_DTYPES[dtype]} bytes, its offsets span {offsets[1] - offsets[0]}",
        )
    return offsets[0], offsets[1]


def tensor_header(path: str | Path, name: str | None = None) -> dict[str, dict]:
    """The checked header of a safetensors file: ``{tensor: {"dtype", "shape"}}``.

    Offsets must tile the data section exactly (no gap, no overlap, no byte past the end).
    """
    path = Path(path)
    name = name or path.name
    header, start, size = _read_header(path, name)
    header.pop("__metadata__", None)
    spans = sorted(_check_entry(k, v, name) for k, v in header.items())
    end = 0
    for lo, hi in spans:
        if lo != end:
            raise _bad(name, "tensor data overlap or leave gaps")
        end = hi
    if start + end != size:
        raise _bad(name, f"the data section holds {size - start} bytes, the header {end}")
    return {k: {"dtype": v["dtype"], "shape": tuple(v["shape"])} for k, v in header.items()}


def read_arrays(
    path: str | Path, name: str | None = None, *, finite: bool = False
) -> dict[str, np.ndarray]:
    """Arrays of a safetensors file, after :func:`tensor_header` accepted it.

    Parameters
    ----------
    path : path-like
        The file.
    name : str, optional
        Name used in messages (default: the file name).
    finite : bool, default=False
        Require floating-point arrays of finite values (fitted preprocessing state).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    name = name or path.name
    header = tensor_header(path, name)
    try:
        arrays = load_file(str(path))
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise _bad(name, " ".join(str(exc).split())[:100]) from None
    for key, arr in arrays.items():
        if tuple(arr.shape) != header[key]["shape"]:
            raise _bad(name, f"tensor {key!r} does not have its declared shape")
        if finite and arr.dtype.kind != "f":
            raise _bad(name, f"tensor {key!r} has dtype {arr.dtype}, not floating point")
        if finite and not np.isfinite(arr).all():
            raise _bad(name, f"tensor {key!r} holds NaN or infinite values")
    return arrays
