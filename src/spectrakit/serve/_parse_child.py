"""The body of a parsing process (see :mod:`spectrakit.serve.parsing`): read a job, reply.

Run as ``python -m spectrakit.serve._parse_child MEMORY_MB``. Jobs arrive on stdin and
replies leave on stdout, each framed by an 8-byte little-endian length; anything a library
prints goes to stderr. Once the readers are loaded the process sends :data:`READY`, so the
parent hands it jobs only when it can start on them at once.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import orjson

__all__ = ["READY", "child_main", "read_frame", "write_frame"]

#: the first frame a parsing process sends: readers loaded, memory capped, waiting for jobs
READY = b"ready"


def read_frame(stream: BinaryIO) -> bytes | None:
    """One length-prefixed frame, or None at end of stream."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    n = int.from_bytes(head, "little")
    data = stream.read(n)
    return data if len(data) == n else None


def write_frame(stream: BinaryIO, data: bytes) -> None:
    """Write one length-prefixed frame and flush it."""
    stream.write(len(data).to_bytes(8, "little") + data)
    stream.flush()


def child_main(memory_mb: int) -> None:
    """Serve jobs from stdin until the parent closes it."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints must not corrupt the replies
    inp = os.fdopen(os.dup(0), "rb")
    _load_readers()  # before the memory cap applies, and before any job's clock starts
    _limit_memory(memory_mb)
    write_frame(out, READY)
    while (request := read_frame(inp)) is not None:
        write_frame(out, handle(request))


def _load_readers() -> None:
    """Import the reading stack and every registered format (``spectrakit.io`` is lazy)."""
    import spectrakit.io
    import spectrakit.serve.codec

    spectrakit.io.available_formats()


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as f:
            current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError):
        return  # no address-space accounting on this platform: the time bound still holds
    limit = current + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def handle(request: bytes) -> bytes:
    """One job: ``b"D" + packed Decoded`` on success, ``b"E" + JSON error`` on failure."""
    from spectrakit.core.errors import SpectraError
    from spectrakit.serve.codec import check_values, decode_json, pack
    from spectrakit.serve.errors import BadRequest

    n_head = int.from_bytes(request[:8], "little")
    header = orjson.loads(request[8 : 8 + n_head])
    payload = request[8 + n_head :]
    try:
        if header["job"] == "json":
            decoded = decode_json(
                payload, tuple(header["allowed"]), header["max_spectra"], header["max_abs"]
            )
        else:
            decoded = _read_file(payload, header["suffix"])
            check_values(decoded.values, header["max_abs"])
        return b"D" + pack(decoded)
    except BadRequest as exc:
        return _error(exc.status, exc.message)
    except SpectraError as exc:
        return _error(422, str(exc))
    except MemoryError:
        return _error(422, "the input needs more memory to read than this service allows")
    except Exception as exc:  # a reader's library error: one line, never a traceback
        return _error(422, f"the file could not be read ({type(exc).__name__}: {exc})"[:500])


def _error(status: int, message: str) -> bytes:
    return b"E" + orjson.dumps({"status": status, "error": message})


def _read_file(data: bytes, suffix: str) -> Any:
    import numpy as np

    from spectrakit.io import read
    from spectrakit.serve.codec import Decoded

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        spectra = read(path)
    meta = spectra.meta
    ids = meta["id"].astype(str).tolist() if "id" in meta.columns else None
    ax = spectra.axis
    return Decoded(
        np.asarray(spectra.values, dtype=np.float64),
        axis=np.asarray(ax.values, dtype=np.float64),
        unit=ax.unit,
        kind=ax.kind,
        laser_wavelength=ax.laser_wavelength,
        ids=ids,
        meta_json=meta.to_json(orient="split", index=False) if len(meta.columns) else None,
    )


if __name__ == "__main__":
    child_main(int(sys.argv[1]))
