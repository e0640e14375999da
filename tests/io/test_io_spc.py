"""Galactic SPC files written byte for byte from the published header layout."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from spectrakit.core.errors import AxisError, FormatError
from spectrakit.io import read, read_blocks

TSPREC, TMULTI, TXYXYS, TXVALS = 0x01, 0x04, 0x40, 0x80
NEW_HEADER = "<BBBbIddIBBBBI9s9sH32s130s30sIIBBHf48sfIfB187s"
OLD_HEADER = "<BBhfffBBHBBBB8sHH28s130s30s"


def new_header(flags, fexp, fnpts, ffirst, flast, fnsub, fxtype, comment=b"") -> bytes:
    raw = struct.pack(
        NEW_HEADER, flags, 0x4B, 0, fexp, fnpts, ffirst, flast, fnsub, fxtype, 0, 0, 0, 0,
        b"", b"", 0, b"", comment, b"", 0, 0, 0, 0, 0, 0.0, b"", 0.0, 0, 0.0, 0, b"",
    )  # fmt: skip
    assert len(raw) == 512
    return raw


def subheader(subexp: int, index: int = 0, npts: int = 0, z: float = 0.0) -> bytes:
    raw = struct.pack("<BbHfffIIf4s", 0, subexp, index, z, 0.0, 0.0, npts, 0, 0.0, b"")
    assert len(raw) == 32
    return raw


def gaussian(x: np.ndarray, center: float, height: float = 1000.0) -> np.ndarray:
    return height * np.exp(-0.5 * ((x - center) / 10.0) ** 2)


X = np.linspace(200.0, 1800.0, 801)


def test_float_y_even_x_raman(tmp_path):
    y = gaussian(X, 1001.0).astype("<f4")
    path = tmp_path / "raman.spc"
    path.write_bytes(
        new_header(0, -128, X.size, 200.0, 1800.0, 1, 13, b"cyclohexane")
        + subheader(-128)
        + y.tobytes()
    )
    s = read(path)
    assert s.axis.unit == "cm-1" and s.axis.kind == "raman_shift"
    assert s.axis.values[np.argmax(s.values[0])] == pytest.approx(1000.0)
    np.testing.assert_array_equal(s.values[0], y)
    assert s.meta["comment"].tolist() == ["cyclohexane"]


def test_int32_y_with_exponent_descending_x(tmp_path):
    y = gaussian(X, 600.0)
    exp = 16  # y = int32 * 2**(exp - 32)
    ints = np.round(y * 2.0 ** (32 - exp)).astype("<i4")
    path = tmp_path / "ir.spc"
    path.write_bytes(
        new_header(0, exp, X.size, 1800.0, 200.0, 1, 1) + subheader(0) + ints.tobytes()
    )
    s = read(path)
    assert s.axis.unit == "cm-1" and s.axis.kind == "wavenumber"
    np.testing.assert_allclose(s.values[0], (ints * 2.0 ** (exp - 32))[::-1], rtol=1e-6)
    assert s.axis.values[np.argmax(s.values[0])] == pytest.approx(1400.0)


def test_int16_y(tmp_path):
    ints = np.array([0, 100, -200, 32767, -32768], dtype="<i2")
    path = tmp_path / "p.spc"
    path.write_bytes(new_header(TSPREC, 18, 5, 400.0, 404.0, 1, 3) + subheader(0) + ints.tobytes())
    s = read(path)
    assert s.axis.unit == "nm"
    np.testing.assert_array_equal(s.values[0], ints * 4.0)  # 2**(18 - 16)


def test_explicit_x_values(tmp_path):
    x = np.array([500.0, 502.5, 510.0, 530.0], dtype="<f4")
    y = np.array([1.0, 4.0, 2.0, 0.5], dtype="<f4")
    path = tmp_path / "x.spc"
    path.write_bytes(
        new_header(TXVALS, -128, 4, 0.0, 0.0, 1, 3) + x.tobytes() + subheader(-128) + y.tobytes()
    )
    s = read(path)
    assert s.axis.values.tolist() == x.tolist() and s.values[0].tolist() == y.tolist()


def test_multifile_shared_x_returns_every_subfile(tmp_path):
    centers = (500.0, 900.0, 1300.0)
    body = b"".join(
        subheader(-128, i, z=float(i)) + gaussian(X, c).astype("<f4").tobytes()
        for i, c in enumerate(centers)
    )
    path = tmp_path / "multi.spc"
    path.write_bytes(new_header(TMULTI, -128, X.size, 200.0, 1800.0, 3, 1) + body)
    s = read(path)
    assert s.n_spectra == 3
    assert [s.axis.values[i] for i in np.argmax(s.values, axis=1)] == list(centers)
    assert s.meta["subfile"].tolist() == [1, 2, 3] and s.meta["z"].tolist() == [0.0, 1.0, 2.0]
    assert len(read_blocks(path)) == 3


def test_multifile_xyxy(tmp_path):
    xa = np.array([1.0, 2.0, 3.0], dtype="<f4")
    xb = np.array([10.0, 20.0, 30.0, 40.0], dtype="<f4")
    body = b""
    for i, x in enumerate((xa, xb)):
        body += subheader(-128, i, npts=x.size) + x.tobytes() + (x * 2).astype("<f4").tobytes()
    path = tmp_path / "xyxy.spc"
    path.write_bytes(new_header(TMULTI | TXYXYS | TXVALS, -128, 0, 0.0, 0.0, 2, 0) + body)
    blocks = read_blocks(path)
    assert [b.axis.values.tolist() for b in blocks.values()] == [xa.tolist(), xb.tolist()]
    assert list(blocks.values())[1].values[0].tolist() == [20.0, 40.0, 60.0, 80.0]
    with pytest.raises(AxisError, match="read_blocks"):
        read(path)


def test_xyxy_with_subfile_directory(tmp_path):
    # TXYXYS files may carry a directory (ssfposn, ssfsize, ssftime) at byte fnpts
    xs = [np.array([1.0, 2.0], dtype="<f4"), np.array([5.0, 6.0, 7.0], dtype="<f4")]
    subfiles = [
        subheader(-128, i, npts=x.size) + x.tobytes() + (x + 1).tobytes() for i, x in enumerate(xs)
    ]
    directory_at = 512
    first = directory_at + 2 * 12
    directory = struct.pack("<IIf", first, len(subfiles[0]), 0.5) + struct.pack(
        "<IIf", first + len(subfiles[0]), len(subfiles[1]), 1.5
    )
    header = new_header(TMULTI | TXYXYS | TXVALS, -128, directory_at, 0.0, 0.0, 2, 3)
    path = tmp_path / "dir.spc"
    path.write_bytes(header + directory + b"".join(subfiles))
    blocks = list(read_blocks(path).values())
    assert [b.axis.values.tolist() for b in blocks] == [[1.0, 2.0], [5.0, 6.0, 7.0]]
    assert blocks[1].values[0].tolist() == [6.0, 7.0, 8.0]
    assert [b.meta["z"][0] for b in blocks] == [0.5, 1.5] and blocks[0].axis.unit == "nm"


def test_old_format_word_swapped_int32(tmp_path):
    y = np.array([1.5, -2.25, 100.0, 0.0])
    exp = 8
    words = b""
    for v in np.round(y * 2.0 ** (32 - exp)).astype(np.int64):
        u = int(v) & 0xFFFFFFFF
        words += struct.pack("<HH", u >> 16, u & 0xFFFF)  # high word first
    header = struct.pack(
        OLD_HEADER, 0, 0x4D, exp, 4.0, 100.0, 103.0, 1, 0, 0, 0, 0, 0, 0, b"", 0, 0, b"",
        b"old", b"",
    )  # fmt: skip
    assert len(header) == 224
    path = tmp_path / "old.spc"
    path.write_bytes(header + subheader(0) + words)
    s = read(path)
    assert s.values[0].tolist() == y.tolist()
    assert s.axis.values.tolist() == [100.0, 101.0, 102.0, 103.0] and s.axis.unit == "cm-1"


def test_refusals(tmp_path):
    full = new_header(0, -128, X.size, 200.0, 1800.0, 1, 1) + subheader(-128)
    full += gaussian(X, 1000.0).astype("<f4").tobytes()
    cut = tmp_path / "cut.spc"
    cut.write_bytes(full[:1500])
    with pytest.raises(FormatError, match="truncated"):
        read(cut)
    cut.write_bytes(full[:100])
    with pytest.raises(FormatError, match="truncated"):
        read(cut)
    big = tmp_path / "big.spc"
    big.write_bytes(bytes([0, 0x4C]) + full[2:])
    with pytest.raises(FormatError, match="big-endian"):
        read(big)
    other = tmp_path / "other.spc"
    other.write_bytes(b"hello world, not a spectrum")
    with pytest.raises(FormatError, match="not an SPC file"):
        read(other)
