"""Bruker OPUS binary files: every data block (AB, ScSm, ScRf, IgSm, ...) with its axis.

Layout: a 24-byte header (magic ``0A 0A FE FE``, version float64, directory offset, maximum
and current number of blocks), then a directory of 12-byte entries (block type int32,
length in 32-bit words, byte offset). The block type packs, from the low bits: complex part
(2 bits), channel (2 bits: 1 sample, 2 reference), parameter kind (6 bits: 1 = data status),
data kind (7 bits: 1 spectrum, 2 interferogram, 3 phase, 4 absorbance, 5 transmittance, ...),
derivative (2 bits) and extended kind (3 bits). Parameter blocks are sequences of
``NAME NUL type(int16) size(int16, in 16-bit words) value`` ended by ``END``; the data status
block of each data block gives NPT, FXV, LXV, CSF, DPF and DXU (x unit).

The layout follows the public descriptions in the open-source readers brukeropus
(J. Duran) and opusFC (Q. Chen); the code here is independent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import merge_axis_options
from spectrakit.io._limits import charge, check_count, check_distinct_offsets
from spectrakit.io._registry import register_format

__all__ = ["MAGIC", "block_name", "read_opus"]

MAGIC = b"\x0a\x0a\xfe\xfe"
_DATA_STATUS = 1
_SAMPLE_ORIGIN = 10
_OPTICS = 6
_PARAMS = (_SAMPLE_ORIGIN, _OPTICS)
#: decoded bytes per point of a block: float64 X and Y plus the float32 Spectra copy.
_POINT_BYTES = 20
_KIND_NAMES = {
    1: "Sc",
    2: "Ig",
    3: "Ph",
    4: "AB",
    5: "TR",
    6: "KM",
    7: "TRC",
    10: "RAM",
    11: "EM",
    12: "REFL",
    14: "PW",
    15: "LRF",
    16: "ATR",
    17: "PAS",
}
_CHANNELS = {1: "Sm", 2: "Rf"}
_DXU_UNITS = {"WN": "cm-1", "MI": "um", "WL": "nm", "NM": "nm", "PNT": "channel"}


@dataclass(frozen=True)
class _Entry:
    type_code: int
    offset: int
    size: int

    @property
    def fields(self) -> tuple[int, int, int, int, int, int]:
        t = self.type_code
        return (t & 3, (t >> 2) & 3, (t >> 4) & 63, (t >> 10) & 127, (t >> 17) & 3, (t >> 19) & 7)


def block_name(type_code: int) -> str:
    """Conventional OPUS name of a data block type (``AB``, ``ScSm``, ``IgRf``, ...).

    Parameters
    ----------
    type_code : int
        The 32-bit block type from the file directory.

    Returns
    -------
    str

    Examples
    --------
    >>> block_name(4 << 10), block_name((1 << 10) | (1 << 2)), block_name((2 << 10) | (2 << 2))
    ('AB', 'ScSm', 'IgRf')
    """
    complex_part, channel, _, kind, deriv, _ = _Entry(type_code, 0, 0).fields
    name = _KIND_NAMES.get(kind, f"Data{kind}") + _CHANNELS.get(channel, "")
    if deriv:
        name += f"_d{deriv}"
    if complex_part == 2:
        name += "_im"
    return name


def _truncated(name: str, what: str, need: int, size: int) -> FormatError:
    return FormatError(
        f"{name} is truncated",
        expected=f"{what} ending at byte {need}",
        got=f"a file of {size} bytes",
        fix="copy the complete file again",
    )


def _directory(data: bytes, path: Path) -> list[_Entry]:
    name = path.name
    if len(data) < 24:
        raise _truncated(name, "the 24-byte header", 24, len(data))
    if data[:4] != MAGIC:
        raise FormatError(
            f"{name} is not a Bruker OPUS file",
            expected="the OPUS magic bytes 0A 0A FE FE",
            got=data[:4].hex(" "),
        )
    dir_offset, _, n_blocks = struct.unpack_from("<3i", data, 12)
    if dir_offset < 24 or n_blocks <= 0:
        raise FormatError(f"{name}: invalid OPUS directory", got=f"{n_blocks} blocks")
    check_count(n_blocks, "directory entries", path)
    end = dir_offset + 12 * n_blocks
    if end > len(data):
        raise _truncated(name, "the block directory", end, len(data))
    entries = []
    for i in range(n_blocks):
        type_code, words, offset = struct.unpack_from("<3i", data, dir_offset + 12 * i)
        if offset <= 0:
            continue
        entries.append(_Entry(type_code, offset, 4 * words))
    return entries


def _block_bytes(data: bytes, entry: _Entry, name: str) -> bytes:
    end = entry.offset + entry.size
    if entry.size < 0 or end > len(data):
        raise _truncated(name, f"block {block_name(entry.type_code)}", end, len(data))
    return data[entry.offset : end]


def _params(raw: bytes, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pos = 0
    while pos + 8 <= len(raw):
        key = raw[pos : pos + 3].decode("latin-1")
        if key == "END":
            break
        kind, words = struct.unpack_from("<hh", raw, pos + 4)
        size = 2 * words
        value_bytes = raw[pos + 8 : pos + 8 + size]
        if len(value_bytes) < size or size < 0:
            raise FormatError(f"{name}: parameter block is truncated", got=f"parameter {key}")
        if kind == 0 and size >= 4:
            out[key] = struct.unpack_from("<i", value_bytes)[0]
        elif kind == 1 and size >= 8:
            out[key] = struct.unpack_from("<d", value_bytes)[0]
        else:
            out[key] = value_bytes.split(b"\x00", 1)[0].decode("latin-1")
        pos += 8 + size
    return out


def _status_key(entry: _Entry) -> tuple[int, ...]:
    f = entry.fields
    return (f[0], f[1], f[3], f[4], f[5])


def _is_spectrum(e: _Entry) -> bool:
    f = e.fields
    # parameters, text, series (gc) files and directories are not spectra
    return not (f[2] != 0 or f[3] == 0 or f[5] != 0 or f[3] in (8, 9, 13))


def _data_blocks(data: bytes, path: Path) -> tuple[dict[str, tuple], dict[str, Any]]:
    """``{block label: (entry, data status)}`` and the sample/optics parameters."""
    name = path.name
    entries = _directory(data, path)
    used = [e for e in entries if _is_spectrum(e) or e.fields[2] in (_DATA_STATUS, *_PARAMS)]
    check_distinct_offsets([(e.offset, e.size) for e in used], "block directory", path)
    # A type may occur several times: the k-th data block pairs with the k-th status block.
    status: dict[tuple[int, ...], list[dict[str, Any]]] = {}
    extra: dict[str, Any] = {}
    for e in entries:
        kind = e.fields[2]
        if kind == _DATA_STATUS:
            status.setdefault(_status_key(e), []).append(_params(_block_bytes(data, e, name), name))
        elif kind in _PARAMS:
            extra.update(_params(_block_bytes(data, e, name), name))
    blocks: dict[str, tuple] = {}
    seen: dict[tuple[int, ...], int] = {}
    for e in entries:
        if not _is_spectrum(e):
            continue
        key = _status_key(e)
        k = seen.get(key, 0)
        seen[key] = k + 1
        if k >= len(status.get(key, [])):
            continue  # a data block without its data status cannot be placed on an axis
        label = block_name(e.type_code)
        blocks[f"{label}#{k + 1}" if k else label] = (e, status[key][k])
    return blocks, extra


def _spectrum(data: bytes, entry: _Entry, params: dict, path: Path, options: dict) -> Spectra:
    name = path.name
    label = block_name(entry.type_code)
    missing = [k for k in ("NPT", "FXV", "LXV") if k not in params]
    if missing:
        raise FormatError(
            f"{name}: data status of block {label} lacks {', '.join(missing)}",
            expected="NPT, FXV and LXV",
            got=", ".join(params) or "no parameters",
        )
    n = int(params["NPT"])
    raw = _block_bytes(data, entry, name)
    if n < 1 or 4 * n > len(raw):
        raise _truncated(name, f"{n} points of block {label}", entry.offset + 4 * n, len(data))
    charge(_POINT_BYTES * n, f"block {label}", path)
    dtype = "<i4" if params.get("DPF") == 2 else "<f4"
    y = np.frombuffer(raw, dtype=dtype, count=n).astype(np.float64) * float(params.get("CSF", 1.0))
    if not np.all(np.isfinite(y)):
        raise FormatError(
            f"{name}: block {label} holds non-finite values",
            expected="finite intensities",
            got="NaN or inf",
            fix="the file is corrupt",
        )
    x = np.linspace(float(params["FXV"]), float(params["LXV"]), n)
    unit = _DXU_UNITS.get(str(params.get("DXU", "")).upper(), "arb")
    kind = "raman_shift" if unit == "cm-1" and entry.fields[3] == 10 else None
    axis = merge_axis_options({"unit": unit, "kind": kind}, options)
    return Spectra(y, x, {"block": [label]}, **axis)


def _sniff(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == MAGIC


def _default_block(blocks: dict[str, Spectra]) -> str:
    """``AB`` when present, else the first spectrum block (what :func:`spectrakit.read` gives)."""
    return "AB" if "AB" in blocks else next(iter(blocks))


@register_format(
    "opus",
    extensions=(".0", ".1", ".2", ".3", ".4", ".5", ".6", ".7", ".8", ".9", ".opus"),
    description="Bruker OPUS binary (AB, ScSm, ScRf, IgSm, ... blocks)",
    sniff=_sniff,
    pick=_default_block,
)
def read_opus(
    path: Path,
    *,
    block: str | None = None,
    unit: str | None = None,
    kind: str | None = None,
    laser_wavelength=None,
) -> dict[str, Spectra]:
    """Read the data blocks of an OPUS file.

    Parameters
    ----------
    path : Path
        The OPUS file (extension ``.0``, ``.1``, ... or ``.opus``).
    block : str, optional
        One block name (``"AB"``, ``"ScSm"``, ``"ScRf"``, ``"IgSm"``, ...). Default: every
        data block; :func:`spectrakit.read` then takes ``AB`` when present, else the first.
    unit, kind, laser_wavelength
        Override the axis information (from ``DXU``; the laser from ``LWN``).

    Returns
    -------
    dict of str to Spectra
        ``{block name: Spectra of shape (1, p)}`` with a ``block`` metadata column.
    """
    data = path.read_bytes()
    blocks, extra = _data_blocks(data, path)
    if not blocks:
        raise FormatError(
            f"{path.name} holds no spectrum block",
            expected="a data block with its data status parameters",
            got="none",
        )
    if block is not None and block not in blocks:
        raise FormatError(
            f"{path.name} has no block {block!r}",
            expected="one of " + ", ".join(blocks),
            got=repr(block),
            fix="pass block=" + " or block=".join(repr(b) for b in blocks),
        )
    laser = laser_wavelength
    if laser is None and extra.get("LWN"):
        laser = 1e7 / float(extra["LWN"])
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser}
    names = [block] if block is not None else list(blocks)
    out = {}
    for name in names:
        entry, params = blocks[name]
        s = _spectrum(data, entry, params, path, options)
        if extra.get("SNM"):
            s = s.assign(sample=str(extra["SNM"]))
        out[name] = s
    return out
