"""Bruker OPUS files built byte for byte: header, directory, parameter and data blocks."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from spectrakit.core.errors import FormatError
from spectrakit.io import read, read_blocks
from spectrakit.io.formats.opus import MAGIC, block_name


def type_code(complex_part=3, channel=0, params=0, data=0, deriv=0, extended=0) -> int:
    return complex_part | channel << 2 | params << 4 | data << 10 | deriv << 17 | extended << 19


def param_block(**values) -> bytes:
    out = b""
    for key, value in values.items():
        if isinstance(value, int):
            kind, payload = 0, struct.pack("<i", value)
        elif isinstance(value, float):
            kind, payload = 1, struct.pack("<d", value)
        else:
            raw = value.encode("latin-1") + b"\x00"
            kind, payload = 2, raw + b"\x00" * (-len(raw) % 4)
        out += key.encode() + b"\x00" + struct.pack("<hh", kind, len(payload) // 2) + payload
    return out + b"END\x00" + struct.pack("<hh", 0, 0)


def opus_file(blocks: list[tuple[int, bytes]]) -> bytes:
    """Header (24 bytes), directory (12 bytes per block), then the blocks."""
    n = len(blocks) + 1  # the directory lists itself
    directory_offset = 24
    pos = directory_offset + 12 * n
    entries = [struct.pack("<3i", type_code(0, 0, 0, 13), n * 3, directory_offset)]
    body = b""
    for code, payload in blocks:
        payload += b"\x00" * (-len(payload) % 4)
        entries.append(struct.pack("<3i", code, len(payload) // 4, pos + len(body)))
        body += payload
    header = MAGIC + struct.pack("<d", 920622.0) + struct.pack("<3i", directory_offset, n, n)
    return header + b"".join(entries) + body


def data_and_status(channel, data, y, fxv, lxv, dxu="WN", csf=1.0, dpf=1):
    status = param_block(DPF=dpf, NPT=len(y), FXV=fxv, LXV=lxv, CSF=csf, DXU=dxu)
    raw = np.asarray(y, dtype="<i4" if dpf == 2 else "<f4").tobytes()
    return [
        (type_code(3, channel, 0, data), raw),
        (type_code(3, channel, 1, data), status),
    ]


WN = np.linspace(4000.0, 400.0, 901)  # OPUS stores FXV > LXV for wavenumber spectra


def absorbance() -> np.ndarray:
    return 0.8 * np.exp(-0.5 * ((WN - 1716.0) / 12.0) ** 2)


def sample_file() -> bytes:
    single = 1000.0 * np.exp(-0.5 * ((WN - 2000.0) / 800.0) ** 2)
    ifg = np.cos(np.arange(2048) / 5.0)
    return opus_file(
        data_and_status(1, 1, single, 4000.0, 400.0)  # ScSm
        + data_and_status(2, 1, single * 1.1, 4000.0, 400.0)  # ScRf
        + data_and_status(1, 2, ifg, 0.0, 2047.0, dxu="PNT")  # IgSm
        + data_and_status(3, 4, absorbance() / 0.5, 4000.0, 400.0, csf=0.5)  # AB, scaled
        + [(type_code(0, 0, 10), param_block(SNM="aspirin tablet", SFM="solid"))]
    )


def test_block_names():
    assert block_name(type_code(3, 3, 0, 4)) == "AB"
    assert block_name(type_code(3, 1, 0, 1)) == "ScSm"
    assert block_name(type_code(3, 2, 0, 2)) == "IgRf"
    assert block_name(type_code(3, 1, 0, 3)) == "PhSm"


def test_default_block_is_absorbance(tmp_path):
    path = tmp_path / "sample.0"
    path.write_bytes(sample_file())
    s = read(path)
    assert s.meta["block"].tolist() == ["AB"] and s.meta["sample"].tolist() == ["aspirin tablet"]
    assert s.axis.unit == "cm-1" and s.axis.values[0] == 400.0
    assert s.axis.values[np.argmax(s.values[0])] == pytest.approx(1716.0)
    np.testing.assert_allclose(s.values[0], absorbance()[::-1], rtol=1e-6, atol=1e-7)


def test_read_blocks_and_choice(tmp_path):
    path = tmp_path / "sample.0"
    path.write_bytes(sample_file())
    blocks = read_blocks(path)
    assert list(blocks) == ["ScSm", "ScRf", "IgSm", "AB"]
    assert blocks["IgSm"].axis.unit == "channel" and blocks["IgSm"].n_points == 2048
    rf = read(path, block="ScRf")
    np.testing.assert_allclose(rf.values, blocks["ScSm"].values * 1.1, rtol=1e-6)
    with pytest.raises(FormatError, match="one of ScSm, ScRf, IgSm, AB"):
        read(path, block="TR")


def test_without_absorbance_first_block_is_default(tmp_path):
    path = tmp_path / "single.1"
    path.write_bytes(opus_file(data_and_status(1, 1, [1.0, 2.0, 3.0], 1000.0, 1002.0)))
    s = read(path)
    assert s.meta["block"].tolist() == ["ScSm"] and s.values.tolist() == [[1.0, 2.0, 3.0]]


def test_repeated_block_types_are_all_kept(tmp_path):
    # two absorbance blocks (e.g. before and after a correction) with their own status
    first = data_and_status(3, 4, [1.0, 2.0], 100.0, 101.0)
    second = data_and_status(3, 4, [5.0, 6.0, 7.0], 100.0, 102.0)
    path = tmp_path / "two.0"
    path.write_bytes(opus_file(first + second))
    blocks = read_blocks(path)
    assert list(blocks) == ["AB", "AB#2"]
    assert blocks["AB#2"].values.tolist() == [[5.0, 6.0, 7.0]]


def test_int32_data_and_raman_laser(tmp_path):
    optics = (type_code(0, 0, 6), param_block(LWN=9394.0))
    path = tmp_path / "raman.0"
    blocks = data_and_status(1, 10, [5, 7, 9], 100.0, 300.0, dpf=2, csf=2.0)
    path.write_bytes(opus_file([*blocks, optics]))
    s = read(path)
    assert s.values.tolist() == [[10.0, 14.0, 18.0]]
    assert s.axis.kind == "raman_shift"
    assert s.axis.laser_wavelength == pytest.approx(1e7 / 9394.0)


def test_truncated_and_foreign(tmp_path):
    full = sample_file()
    path = tmp_path / "cut.0"
    for size in (10, 30, len(full) // 2, len(full) - 8):
        path.write_bytes(full[:size])
        with pytest.raises(FormatError, match="truncated"):
            read_blocks(path, format="opus")
    path.write_bytes(b"PK\x03\x04" + full[4:])
    with pytest.raises(FormatError, match="not a Bruker OPUS file"):
        read(path, format="opus")
