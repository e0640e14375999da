"""Small hostile files, built in the test: each makes a naive reader allocate or spin.

Shared by the read-limit, memory-cap and fuzz tests (and ``benchmarks/fuzz.py``).
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

NEW_HEADER = "<BBBbIddIBBBBI9s9sH32s130s30sIIBBHf48sfIfB187s"
SUBHEADER = "<BbHfffIIf4s"


def spc_header(flags: int, fnpts: int, fnsub: int, first=400.0, last=1800.0) -> bytes:
    return struct.pack(
        NEW_HEADER, flags, 0x4B, 0, -128, fnpts, first, last, fnsub, 1, 0, 0, 0, 0, b"", b"",
        0, b"", b"", b"", 0, 0, 0, 0, 0, 0.0, b"", 0.0, 0, 0.0, 0, b"",
    )  # fmt: skip


def jcamp_npoints(path: Path) -> Path:
    """181-byte-class JCAMP: ##NPOINTS=9999999 and one DUP run that fills it exactly."""
    path.write_text(
        "##TITLE=x\n##JCAMP-DX=4.24\n##XUNITS=1/CM\n##FIRSTX=0\n##LASTX=1\n"
        "##NPOINTS=9999999\n##XYDATA=(X++(Y..Y))\n0 1s999999\n##END=\n"
    )
    return path


def jcamp_undeclared(path: Path) -> Path:
    """No ##NPOINTS: DUP runs alone expand a few lines to tens of millions of values."""
    lines = "\n".join(f"{i} 1s9999999" for i in range(8))
    path.write_text(
        "##TITLE=x\n##JCAMP-DX=4.24\n##FIRSTX=0\n##DELTAX=1\n##XYDATA=(X++(Y..Y))\n"
        + lines
        + "\n##END=\n"
    )
    return path


def spc_shared_subfile(path: Path, entries: int = 3000, points: int = 8000) -> Path:
    """TXYXYS multifile whose directory points every entry at one subfile."""
    flags = 0x40 | 0x04  # TXYXYS | TMULTI
    sub = struct.pack(SUBHEADER, 0, -128, 0, 0.0, 0.0, 0.0, points, 0, 0.0, b"")
    xy = np.linspace(400, 1800, points).astype("<f4").tobytes() + bytes(4 * points)
    directory_at = 512 + len(sub) + len(xy)
    directory = struct.pack("<IIf", 512, len(sub) + len(xy), 0.0) * entries
    path.write_bytes(spc_header(flags, directory_at, entries) + sub + xy + directory)
    return path


def _opus_status(points: int) -> bytes:
    status = b""
    for key, kind, payload in (
        ("DPF", 0, struct.pack("<i", 1)),
        ("NPT", 0, struct.pack("<i", points)),
        ("FXV", 1, struct.pack("<d", 4000.0)),
        ("LXV", 1, struct.pack("<d", 400.0)),
        ("DXU", 2, b"WN\x00\x00"),
    ):
        status += key.encode() + b"\x00" + struct.pack("<hh", kind, len(payload) // 2) + payload
    return status + b"END\x00\x00\x00\x00\x00"


def opus_shared_block(path: Path, entries: int = 4000, points: int = 30000) -> Path:
    """OPUS directory with thousands of AB entries (and statuses) pointing at one block."""
    status = _opus_status(points)
    data = np.linspace(0, 1, points).astype("<f4").tobytes()
    ab, ab_status = 3 | 3 << 2 | 4 << 10, 3 | 3 << 2 | 1 << 4 | 4 << 10
    start = 24 + entries * 12
    half = entries // 2
    directory = struct.pack("<3i", ab, len(data) // 4, start) * half + struct.pack(
        "<3i", ab_status, len(status) // 4, start + len(data)
    ) * (entries - half)
    header = b"\x0a\x0a\xfe\xfe" + struct.pack("<d", 920622.0) + struct.pack("<3i", 24, 0, entries)
    path.write_bytes(header + directory + data + status)
    return path


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def npz_zeros(path: Path, megabytes: int = 64) -> Path:
    """A deflated member of zeros: kilobytes on disk, tens of megabytes inflated."""
    n = megabytes * 1024 * 1024 // 8
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (n // 1000, 1000)}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("axis.npy", _npy_bytes(np.arange(1000.0)))
        with zf.open("values.npy", "w", force_zip64=True) as fh:
            fh.write(header.getvalue())
            chunk = bytes(1 << 20)
            for _ in range(megabytes):
                fh.write(chunk)
    return path


def npz_lying_header(path: Path) -> Path:
    """A stored member whose .npy header promises 10^12 values."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (1_000_000, 1_000_000)}
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("values.npy", header.getvalue() + bytes(800))
    return path


def npz_non_array(path: Path) -> Path:
    """Valid spectra plus a member that is no array (numpy returns its raw bytes)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("values.npy", _npy_bytes(np.ones((2, 5))))
        zf.writestr("axis.npy", _npy_bytes(np.arange(5.0)))
        zf.writestr("notes.txt", b"not an array")
    return path


def npz_pickled(path: Path) -> Path:
    """A member holding a pickled object array."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("values.npy", _npy_bytes(np.ones((2, 5))))
        zf.writestr("meta.npy", buf.getvalue())
    return path


def hdf5_gzip_zeros(path: Path) -> Path:
    """A gzip-chunked 'values' dataset declaring 5000 x 5000 float64 (no chunk written)."""
    import h5py

    with h5py.File(path, "w") as fh:
        fh.create_dataset("values", shape=(5000, 5000), dtype="f8", chunks=(500, 500),
                          compression="gzip")  # fmt: skip
        fh.create_dataset("axis", data=np.arange(5000.0))
    return path


def hdf5_zeroed_text(path: Path) -> Path:
    """A 2 x 16 table file whose stored text (the global heap) was zeroed: libhdf5 spins."""
    import spectrakit as sk
    import spectrakit.io

    s = sk.Spectra(np.random.default_rng(0).random((2, 16)), np.linspace(400, 1800, 16),
                   meta={"id": ["a", "b"]})  # fmt: skip
    sk.io.write(s, path)
    data = bytearray(path.read_bytes())
    at = data.find(b"GCOL")
    data[at + 16 : at + 4096] = bytes(len(data[at + 16 : at + 4096]))
    path.write_bytes(bytes(data))
    return path


def mat_compressed_zeros(path: Path) -> Path:
    """A MATLAB v5 file with a compressed 2000 x 2000 matrix of zeros."""
    from scipy.io import savemat

    savemat(path, {"values": np.zeros((2000, 2000)), "axis": np.arange(2000.0)},
            do_compression=True)  # fmt: skip
    return path


def parquet_rle_zeros(path: Path) -> Path:
    """Parquet: a few kilobytes declaring 2 million rows of 4 columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    zeros = pa.array(np.zeros(2_000_000))
    pq.write_table(pa.table({"400": zeros, "401": zeros, "402": zeros, "403": zeros}), path)
    return path


def parquet_unknown_dtype(path: Path) -> Path:
    """A spectrakit Parquet file whose pandas metadata names a dtype that does not exist."""
    import pyarrow.parquet as pq

    import spectrakit as sk
    import spectrakit.io

    s = sk.Spectra(np.ones((3, 5)), np.linspace(400, 1800, 5), meta={"id": ["a", "b", "c"]})
    sk.io.write(s, path)
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    pandas_meta = json.loads(meta[b"pandas"])
    for col in pandas_meta["columns"]:
        col["numpy_type"], col["pandas_type"] = "foo64", "foo"
    meta[b"pandas"] = json.dumps(pandas_meta).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    return path


#: name -> (file name, builder) of every file that must be refused.
REFUSED: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "jcamp-npoints": ("a.jdx", jcamp_npoints),
    "jcamp-undeclared": ("b.jdx", jcamp_undeclared),
    "spc-shared-subfile": ("a.spc", spc_shared_subfile),
    "opus-shared-block": ("a.0", opus_shared_block),
    "npz-deflated-zeros": ("a.npz", npz_zeros),
    "npz-lying-header": ("b.npz", npz_lying_header),
    "npz-non-array": ("c.npz", npz_non_array),
    "npz-pickled": ("d.npz", npz_pickled),
    "hdf5-gzip-zeros": ("a.h5", hdf5_gzip_zeros),
    "hdf5-zeroed-text": ("b.h5", hdf5_zeroed_text),
    "mat-compressed-zeros": ("a.mat", mat_compressed_zeros),
    "parquet-rle-zeros": ("a.parquet", parquet_rle_zeros),
}


def valid_spc() -> bytes:
    """A two-subfile float SPC file (new format)."""
    sub = struct.pack(SUBHEADER, 0, -128, 0, 0.0, 0.0, 0.0, 0, 0, 0.0, b"")
    y = np.linspace(0, 1, 100).astype("<f4").tobytes()
    return spc_header(0x04, 100, 2) + 2 * (sub + y)


def valid_opus() -> bytes:
    """An OPUS file with one AB block and its data status."""
    status = _opus_status(100)
    data = np.linspace(0, 1, 100).astype("<f4").tobytes()
    ab, ab_status = 3 | 3 << 2 | 4 << 10, 3 | 3 << 2 | 1 << 4 | 4 << 10
    start = 24 + 2 * 12
    directory = struct.pack("<3i", ab, len(data) // 4, start) + struct.pack(
        "<3i", ab_status, len(status) // 4, start + len(data)
    )
    header = b"\x0a\x0a\xfe\xfe" + struct.pack("<d", 920622.0) + struct.pack("<3i", 24, 2, 2)
    return header + directory + data + status


def _asdf_jcamp() -> bytes:
    return (
        b"##TITLE=asdf\n##JCAMP-DX=5.01\n##XUNITS=1/CM\n##FIRSTX=100\n##LASTX=106\n"
        b"##NPOINTS=7\n##XFACTOR=1\n##YFACTOR=1\n##XYDATA=(X++(Y..Y))\n"
        b"100@A0J0%T\n105B0jJ1\n##END=\n"
    )


def seed_files(folder: Path) -> dict[str, tuple[str, bytes]]:
    """One valid file per reader format: ``{format: (file name, bytes)}``."""
    import spectrakit as sk
    import spectrakit.io

    x = np.linspace(400.0, 1800.0, 40)
    s = sk.Spectra(np.random.default_rng(0).random((3, 40)), x, meta={"id": ["a", "b", "c"]})
    seeds = {"spc": ("s.spc", valid_spc()), "opus": ("s.0", valid_opus())}
    seeds["jcamp-asdf"] = ("a.jdx", _asdf_jcamp())
    for fmt, name in (("jcamp", "s.jdx"), ("npz", "s.npz"), ("mat", "s.mat"),
                      ("hdf5", "s.h5"), ("parquet", "s.parquet"), ("csv", "s.csv")):  # fmt: skip
        sk.io.write(s, folder / name, format=fmt)
        seeds[fmt] = (name, (folder / name).read_bytes())
    sk.io.write(s[:1], folder / "s.xy", format="long")
    seeds["long"] = ("s.xy", (folder / "s.xy").read_bytes())
    np.save(folder / "s.npy", np.asarray(s.values))
    seeds["npy"] = ("s.npy", (folder / "s.npy").read_bytes())
    return seeds


def mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    """Apply ``(kind, position, value)`` edits: flip, overwrite, insert, delete, truncate."""
    out = bytearray(data)
    for kind, pos, value in ops:
        if not out:
            break
        at = pos % len(out)
        if kind == 0:
            out[at] ^= 1 << (value % 8)
        elif kind == 1:
            out[at] = value % 256
        elif kind == 2:
            out[at:at] = bytes([value % 256]) * (1 + value % 7)
        elif kind == 3:
            del out[at : at + 1 + value % 16]
        elif kind == 4:
            del out[at:]
        else:  # header edits: bytes near the start, where sizes and counts live
            out[at % 64] = value % 256
    return bytes(out)
