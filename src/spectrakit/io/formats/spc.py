"""Thermo Galactic GRAMS ``.spc`` files (new LSB format 0x4B and old format 0x4D).

New format: a 512-byte header; X evenly spaced from ``ffirst``/``flast`` or an explicit
float32 X array (``TXVALS``); one or more subfiles (``TMULTI``), each a 32-byte subheader
followed by its Y values, optionally preceded by its own X array (``TXYXYS``). Y values are
IEEE float32 when the exponent is 0x80, else integers scaled by ``2**(exp - 32)`` (32-bit) or
``2**(exp - 16)`` (16-bit, ``TSPREC``). The old format has a 256-byte header whose last 32
bytes are the first subheader, and stores 32-bit integers with their two 16-bit words
swapped. Every subfile is returned.

Reference: Galactic Industries (1997) "Thermo Galactic GRAMS SPC file format" (SPC.H, the
public file-format specification).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import merge_axis_options
from spectrakit.io._limits import charge, check_count, check_distinct_offsets
from spectrakit.io._registry import register_format

__all__ = ["FXTYPE_UNITS", "read_spc"]

# ftflgs bits
TSPREC, TCGRAM, TMULTI, TRANDM, TORDRD, TALABS, TXYXYS, TXVALS = (1 << i for i in range(8))
_NEW_HEADER = struct.Struct("<BBBbIddIBBBBI9s9sH32s130s30sIIBBHf48sfIfB187s")
_OLD_HEADER = struct.Struct("<BBhfffBBHBBBB8sHH28s130s30s")
_SUBHEADER = struct.Struct("<BbHfffIIf4s")
_FLOAT_EXP = -128  # 0x80 as a signed char
#: decoded bytes per point of a subfile: float64 X and Y, their Spectra copies (float32 Y).
_SUBFILE_BYTES = 28

#: fxtype code -> (unit, kind); codes without a spectral unit map to ``arb``.
FXTYPE_UNITS: dict[int, tuple[str, str | None]] = {
    1: ("cm-1", "wavenumber"),
    2: ("um", None),
    3: ("nm", None),
    13: ("cm-1", "raman_shift"),
    14: ("eV", None),
    16: ("channel", None),  # diode number
    17: ("channel", None),
    22: ("channel", None),  # data points
}


class _Reader:
    """Bounds-checked reads from the file bytes (a short file gives FormatError)."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.path = path
        self.name = path.name

    def need(self, offset: int, size: int, what: str) -> None:
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise FormatError(
                f"{self.name} is truncated",
                expected=f"{what} at bytes {offset}-{offset + size}",
                got=f"a file of {len(self.data)} bytes",
                fix="copy the complete file again",
            )

    def unpack(self, fmt: struct.Struct, offset: int, what: str) -> tuple:
        self.need(offset, fmt.size, what)
        return fmt.unpack_from(self.data, offset)

    def array(self, dtype: str, count: int, offset: int, what: str) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        self.need(offset, size, what)
        return np.frombuffer(self.data, dtype=dtype, count=count, offset=offset)


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def _scale_y(raw: np.ndarray, exp: int, bits: int) -> np.ndarray:
    return raw.astype(np.float64) * 2.0 ** (exp - bits)


def _read_y(r: _Reader, offset: int, n: int, exp: int, flags: int, old: bool) -> tuple:
    if exp == _FLOAT_EXP:
        return r.array("<f4", n, offset, "float Y values").astype(np.float64), offset + 4 * n
    if flags & TSPREC:
        return _scale_y(r.array("<i2", n, offset, "16-bit Y values"), exp, 16), offset + 2 * n
    raw = r.array("<u2" if old else "<i4", 2 * n if old else n, offset, "32-bit Y values")
    if old:
        # Old format: the high 16-bit word comes first.
        words = raw.reshape(-1, 2).astype(np.uint32)
        raw = ((words[:, 0] << 16) | words[:, 1]).view(np.int32)
    return _scale_y(raw, exp, 32), offset + 4 * n


def _axis_options(fxtype: int) -> dict[str, Any]:
    unit, kind = FXTYPE_UNITS.get(fxtype, ("arb", None))
    return {"unit": unit, "kind": kind}


def _read_new(r: _Reader) -> tuple[list[tuple[np.ndarray, np.ndarray, dict]], dict]:
    h = r.unpack(_NEW_HEADER, 0, "the 512-byte header")
    flags, _, _, fexp, fnpts, ffirst, flast, fnsub, fxtype = h[:9]
    info = {"fxtype": fxtype, "comment": _text(h[17])}
    nsub = fnsub if flags & TMULTI else 1
    if nsub < 1 or nsub > len(r.data) // 32:
        raise FormatError(f"{r.name}: invalid subfile count", got=str(fnsub))
    check_count(nsub, "subfiles", r.path)
    pos = 512
    x_shared = None
    if not flags & TXYXYS:
        if fnpts < 1:
            raise FormatError(f"{r.name}: invalid number of points", got=str(fnpts))
        r.need(pos, 2 * fnpts, f"{fnpts} data points")
        if flags & TXVALS:
            x_shared = r.array("<f4", fnpts, pos, "the X array").astype(np.float64)
            pos += 4 * fnpts
        else:
            x_shared = np.linspace(ffirst, flast, fnpts)
    elif fnpts > 0:
        return _read_xyxy_directory(r, fnpts, nsub, fexp, flags), info
    subs = []
    for i in range(nsub):
        sub = r.unpack(_SUBHEADER, pos, f"subfile {i + 1} header")
        subexp, subnpts, subtime = sub[1], sub[6], sub[3]
        pos += _SUBHEADER.size
        # Multifiles scale each subfile by its own exponent; single files use fexp.
        exp = subexp if flags & TMULTI and subexp != 0 else fexp
        if flags & TXYXYS:
            if subnpts < 1:
                raise FormatError(f"{r.name}: subfile {i + 1} has no points", got=str(subnpts))
            x = r.array("<f4", subnpts, pos, f"subfile {i + 1} X values").astype(np.float64)
            pos += 4 * subnpts
            n = subnpts
        else:
            x, n = x_shared, fnpts
        charge(_SUBFILE_BYTES * n, f"subfile {i + 1}", r.path)
        y, pos = _read_y(r, pos, n, exp, flags, old=False)
        subs.append((x, y, {"subfile": i + 1, "z": float(subtime)}))
    return subs, info


def _read_xyxy_directory(r: _Reader, dir_offset: int, nsub: int, fexp: int, flags: int) -> list:
    """``TXYXYS`` files with a subfile directory at byte ``fnpts`` (ssfposn, ssfsize, ssftime)."""
    entry = struct.Struct("<IIf")
    table = [
        r.unpack(entry, dir_offset + i * entry.size, "the subfile directory") for i in range(nsub)
    ]
    heads = [r.unpack(_SUBHEADER, t[0], f"subfile {i + 1} header") for i, t in enumerate(table)]
    width = 6 if flags & TSPREC else 8
    spans = [(t[0], _SUBHEADER.size + width * h[6]) for t, h in zip(table, heads, strict=True)]
    check_distinct_offsets(spans, "subfile directory", r.path)
    subs = []
    for i, ((ssfposn, _, ssftime), sub) in enumerate(zip(table, heads, strict=True)):
        n = sub[6]
        charge(_SUBFILE_BYTES * n, f"subfile {i + 1}", r.path)
        pos = ssfposn + _SUBHEADER.size
        x = r.array("<f4", n, pos, f"subfile {i + 1} X values").astype(np.float64)
        exp = sub[1] if flags & TMULTI and sub[1] != 0 else fexp
        y, _ = _read_y(r, pos + 4 * n, n, exp, flags, old=False)
        subs.append((x, y, {"subfile": i + 1, "z": float(ssftime)}))
    return subs


def _read_old(r: _Reader) -> tuple[list[tuple[np.ndarray, np.ndarray, dict]], dict]:
    h = r.unpack(_OLD_HEADER, 0, "the 256-byte header")
    flags, _, oexp, onpts, ofirst, olast, fxtype = h[:7]
    n = int(onpts)
    if n < 1 or n != onpts:
        raise FormatError(f"{r.name}: invalid number of points", got=str(onpts))
    r.need(256, 2 * n, f"{n} data points")
    info = {"fxtype": fxtype, "comment": _text(h[17])}
    x = np.linspace(ofirst, olast, n)
    subs = []
    pos = 224  # the first subheader is the last 32 bytes of the header
    while pos < len(r.data):
        sub = r.unpack(_SUBHEADER, pos, f"subfile {len(subs) + 1} header")
        subexp = sub[1]
        exp = subexp if subexp == _FLOAT_EXP or 0 < subexp < 128 else oexp
        charge(_SUBFILE_BYTES * n, f"subfile {len(subs) + 1}", r.path)
        y, pos = _read_y(r, pos + _SUBHEADER.size, n, exp, flags, old=True)
        subs.append((x, y, {"subfile": len(subs) + 1, "z": float(sub[3])}))
        if not flags & TMULTI:
            break
    return subs, info


@register_format("spc", extensions=(".spc",), description="Thermo Galactic GRAMS SPC")
def read_spc(
    path: Path, *, unit: str | None = None, kind: str | None = None, laser_wavelength=None
) -> dict[str, Spectra]:
    """Read every subfile of an SPC file.

    Parameters
    ----------
    path : Path
        The ``.spc`` file.
    unit, kind, laser_wavelength
        Override the axis information derived from the ``fxtype`` code.

    Returns
    -------
    dict of str to Spectra
        One Spectra of shape (1, p) per subfile (meta ``subfile``, ``z``, ``comment``);
        :func:`spectrakit.read` stacks them when they share an X axis.
    """
    r = _Reader(path.read_bytes(), path)
    r.need(0, 2, "the file version byte")
    version = r.data[1]
    if version == 0x4B:
        subs, info = _read_new(r)
    elif version == 0x4D:
        subs, info = _read_old(r)
    elif version == 0x4C:
        raise FormatError(
            f"{path.name} is a big-endian (0x4C) SPC file",
            expected="the little-endian new format (0x4B) or the old format (0x4D)",
            got="version byte 0x4C",
            fix="re-save it as a PC (little-endian) SPC file in GRAMS or the instrument software",
        )
    else:
        raise FormatError(
            f"{path.name} is not an SPC file",
            expected="version byte 0x4B or 0x4D",
            got=f"0x{version:02X}",
        )
    options = merge_axis_options(
        _axis_options(info["fxtype"]),
        {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength},
    )
    out = {}
    for x, y, meta in subs:
        if not np.all(np.isfinite(y)):
            raise FormatError(
                f"{path.name}: subfile {meta['subfile']} holds non-finite values",
                expected="finite intensities",
                got="NaN or inf",
                fix="the file is corrupt or uses an unsupported encoding",
            )
        meta = {**meta, "comment": info["comment"]}
        out[f"{path.stem}[{meta['subfile']}]" if len(subs) > 1 else path.stem] = Spectra(
            y, x, {k: [v] for k, v in meta.items()}, **options
        )
    return out
