"""JCAMP-DX 4.24 / 5.01 spectra, including compressed (ASDF) tables and multi-block files.

Reads ``##XYDATA=(X++(Y..Y))`` in AFFN and in the compressed ASDF forms (SQZ, DIF, DUP, with
the DIF Y-check value that repeats the last ordinate at the start of the next line),
``##XYPOINTS=(XY..XY)`` and ``##PEAK TABLE``; applies ``XFACTOR``/``YFACTOR`` and builds the
abscissa from ``FIRSTX``/``LASTX``/``NPOINTS`` (or ``DELTAX``). Linked files (``##BLOCKS``)
give one spectrum per data block. Writes JCAMP-DX 5.01 with AFFN ``##XYDATA`` (``##XYPOINTS``
for uneven axes) and a LINK block for several spectra.

References: McDonald, R. S. & Wilks, P. A. (1988) "JCAMP-DX: A Standard Form for Exchange of
Infrared Spectra in Computer Readable Form", Appl. Spectrosc. 42, 151-162; Lampen, P. et al.
(1999) "JCAMP-DX for infrared spectroscopy", Pure Appl. Chem. 71, 2101-2110 (version 5.01).
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import merge_axis_options
from spectrakit.io._limits import charge, current_read
from spectrakit.io._registry import register_format, register_writer

__all__ = ["decode_asdf_line", "read_jcamp", "write_jcamp"]

_SQZ = {"@": 0, **{c: i + 1 for i, c in enumerate("ABCDEFGHI")}}
_SQZ.update({c: -(i + 1) for i, c in enumerate("abcdefghi")})
_DIF = {"%": 0, **{c: i + 1 for i, c in enumerate("JKLMNOPQR")}}
_DIF.update({c: -(i + 1) for i, c in enumerate("jklmnopqr")})
_DUP = {**{c: i + 1 for i, c in enumerate("STUVWXYZ")}, "s": 9}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]\d+)?"
# An AFFN line: numbers separated by blanks, commas or their own signs. The exponent needs
# an explicit sign so that "1E5" stays the SQZ pair 1, 55. Each number must end at a
# separator or a sign, so the pattern cannot backtrack exponentially on long digit runs.
_AFFN_LINE = re.compile(rf"[\s,]*{_NUMBER}(?:(?:[\s,]+|(?=[+-])){_NUMBER})*[\s,]*")
_AFFN_TOKEN = re.compile(_NUMBER)
# (XY..XY) tables: any exponent form; "?" marks a missing value.
_POINT_TOKEN = re.compile(r"\?|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_UNITS = {
    "1/CM": "cm-1",
    "CM-1": "cm-1",
    "CM^-1": "cm-1",
    "NANOMETERS": "nm",
    "NM": "nm",
    "MICROMETERS": "um",
    "MICRONS": "um",
    "UM": "um",
    "EV": "eV",
    "KEV": "keV",
    "CHANNEL": "channel",
    "CHANNELS": "channel",
}
#: decoded bytes per point: float64 abscissa and ordinate (plus the list of parsed values).
_BYTES_PER_POINT = 24
_DATA_TYPES = {"wavenumber": "INFRARED SPECTRUM", "raman_shift": "RAMAN SPECTRUM"}


def _label(raw: str) -> str:
    """Normalized LDR label: upper case without blanks, '-', '/' and '_' (as the spec says)."""
    return re.sub(r"[\s\-/_]", "", raw).upper()


def _tokens(line: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch in " ,\t;":
            i += 1
            continue
        if ch in _SQZ or ch in _DIF or ch in _DUP or ch.isdigit() or ch in "+-.":
            kind = "sqz" if ch in _SQZ else "dif" if ch in _DIF else "dup" if ch in _DUP else "affn"
            j = i + 1
            while j < n and (line[j].isdigit() or line[j] == "."):
                j += 1
            out.append((kind, line[i:j]))
            i = j
            continue
        raise ValueError(f"unexpected character {ch!r}")
    return out


def _digit_value(table: dict[str, int], token: str) -> float:
    lead = table[token[0]]
    rest = token[1:]
    if not rest:
        return float(lead)
    magnitude = float(f"{abs(lead)}{rest}")
    return -magnitude if lead < 0 else magnitude


def decode_asdf_line(line: str, limit: int | None = None) -> tuple[list[float], bool]:
    """Decode one line of an ``(X++(Y..Y))`` table.

    Parameters
    ----------
    line : str
        The line (AFFN, or ASDF: SQZ/DIF/DUP pseudo-digits).
    limit : int, optional
        Most values the line may expand to (a damaged DUP count raises ValueError instead
        of filling memory).

    Returns
    -------
    values : list of float
        The abscissa first, then the ordinates (DIF and DUP expanded).
    ends_in_dif : bool
        Whether the line ends in DIF form, so the next line starts with a Y-check value.

    Examples
    --------
    >>> decode_asdf_line("100@A0J0%T")
    ([100.0, 0.0, 10.0, 20.0, 20.0, 20.0], True)
    """
    if _AFFN_LINE.fullmatch(line):
        return [float(t) for t in _AFFN_TOKEN.findall(line)], False
    values: list[float] = []
    last_kind = ""
    last_diff = 0.0
    for kind, text in _tokens(line):
        if kind == "dup":
            if not values:
                raise ValueError("DUP count before any value")
            count = int(_digit_value(_DUP, text))
            if limit is not None and len(values) + count - 1 > limit:
                raise ValueError(f"DUP count {count} exceeds the number of points")
            if last_kind == "dif":
                for _ in range(count - 1):
                    values.append(values[-1] + last_diff)
            else:
                values.extend([values[-1]] * (count - 1))
            continue
        if kind == "dif":
            if len(values) < 2:
                raise ValueError("DIF value before any ordinate")
            last_diff = _digit_value(_DIF, text)
            values.append(values[-1] + last_diff)
        else:
            values.append(_digit_value(_SQZ, text) if kind == "sqz" else float(text))
        last_kind = kind if kind == "dif" else "abs"
    return values, last_kind == "dif"


@dataclass
class _Block:
    title: str
    ldrs: dict[str, str] = field(default_factory=dict)
    data: dict[str, list[str]] = field(default_factory=dict)


def _strip_comment(line: str) -> str:
    return line.split("$$", 1)[0].rstrip()


def _parse_blocks(text: str, name: str) -> list[_Block]:
    done: list[_Block] = []
    stack: list[_Block] = []
    current: list[str] | None = None  # lines of the open data table
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("##"):
            if current is not None:
                stripped = _strip_comment(line)
                if stripped:
                    current.append(stripped)
            continue
        current = None
        label_raw, _, value = line[2:].partition("=")
        label = _label(label_raw)
        value = value.strip()
        if label == "TITLE":
            stack.append(_Block(title=value))
            continue
        if label == "END":
            if stack:
                done.append(stack.pop())
            continue
        if not stack:
            stack.append(_Block(title=name))
        block = stack[-1]
        if label in ("XYDATA", "XYPOINTS", "PEAKTABLE"):
            current = block.data.setdefault(label, [_strip_comment(value)])
        else:
            block.ldrs[label] = _strip_comment(value)
    done.extend(reversed(stack))  # blocks missing their ##END=
    return done


def _number(block: _Block, key: str, path: Path) -> float | None:
    value = block.ldrs.get(key)
    if value is None or value == "":
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise FormatError(
            f"{path.name}: ##{key}= is not a number", expected="a number", got=repr(value)
        ) from None


def _point_limit(npoints: float | None, path: Path) -> int:
    """Most ordinates the table may expand to, charged against the read budget up front."""
    if npoints is not None and not (0 <= npoints < 2**53):
        raise FormatError(f"{path.name}: invalid ##NPOINTS=", got=f"{npoints:g}")
    state = current_read(path)
    if npoints is None:
        # No declared count: DUP runs may fill what is left of the budget (x and y, float64).
        return max(0, (state.budget - state.used) // _BYTES_PER_POINT)
    charge(int(npoints) * _BYTES_PER_POINT, f"##NPOINTS={int(npoints)}", path)
    return int(npoints) + 2


def _xydata(block: _Block, lines: list[str], path: Path) -> tuple[np.ndarray, np.ndarray]:
    form = lines[0].replace(" ", "").upper()
    if not form.startswith("(X++(Y..Y))"):
        raise FormatError(
            f"{path.name}: unsupported ##XYDATA form",
            expected="(X++(Y..Y))",
            got=lines[0],
            fix="export the spectrum as XYDATA=(X++(Y..Y)) or XYPOINTS=(XY..XY)",
        )
    xfactor = _number(block, "XFACTOR", path) or 1.0
    yfactor = _number(block, "YFACTOR", path) or 1.0
    npoints = _number(block, "NPOINTS", path)
    limit = _point_limit(npoints, path)
    ys, first_line_x = _ordinates(lines, limit, npoints, xfactor, path)
    if npoints is None:
        charge(len(ys) * _BYTES_PER_POINT, "##XYDATA", path)
    n = int(npoints) if npoints is not None else len(ys)
    if len(ys) != n or n == 0:
        raise FormatError(
            f"{path.name}: ##XYDATA holds {len(ys)} values",
            expected=f"{n} values (##NPOINTS)",
            got=str(len(ys)),
            fix="the file is truncated or corrupt; export it again",
        )
    x = _x_axis(block, path, first_line_x, n)
    return x, np.asarray(ys) * yfactor


def _ordinates(
    lines: list[str], limit: int, npoints: float | None, xfactor: float, path: Path
) -> tuple[list[float], float | None]:
    """The Y values of the ``##XYDATA`` lines (DIF Y-checks applied) and the first line's X."""
    ys: list[float] = []
    first_line_x = None
    check_pending = False
    for number, line in enumerate(lines[1:], start=1):
        try:
            values, ends_in_dif = decode_asdf_line(line, limit=limit - len(ys))
        except (ValueError, KeyError) as exc:
            if npoints is None and "exceeds" in str(exc):
                # the budget, not a declared count, stopped the expansion: say so
                charge((limit + 1) * _BYTES_PER_POINT, "##XYDATA (DUP runs)", path)
            raise FormatError(
                f"{path.name}: unreadable ##XYDATA line {number}",
                expected="AFFN or ASDF (SQZ/DIF/DUP) values",
                got=f"{line[:40]!r} ({exc})",
            ) from None
        if not values:
            continue
        if first_line_x is None:
            first_line_x = values[0] * xfactor
        ordinates = values[1:]
        if check_pending and ordinates:
            if ys and not np.isclose(ordinates[0], ys[-1], rtol=1e-9, atol=1e-9):
                raise FormatError(
                    f"{path.name}: DIF Y-check failed in ##XYDATA line {number}",
                    expected=f"{ys[-1]:g} (last value of the previous line)",
                    got=f"{ordinates[0]:g}",
                    fix="the file is corrupt; export it again",
                )
            ordinates = ordinates[1:]
        ys.extend(ordinates)
        check_pending = ends_in_dif
    return ys, first_line_x


def _x_axis(block: _Block, path: Path, first_line_x: float | None, n: int) -> np.ndarray:
    """``n`` evenly spaced X positions from ##FIRSTX (or the first line) to ##LASTX/##DELTAX."""
    firstx = _number(block, "FIRSTX", path)
    firstx = first_line_x if firstx is None else firstx
    lastx = _number(block, "LASTX", path)
    if lastx is None:
        deltax = _number(block, "DELTAX", path)
        if deltax is None or firstx is None:
            raise FormatError(
                f"{path.name}: cannot build the X axis",
                expected="##FIRSTX and ##LASTX (or ##DELTAX)",
                got="missing",
            )
        lastx = firstx + deltax * (n - 1)
    return np.linspace(float(firstx), float(lastx), n) if n > 1 else np.array([float(firstx)])


def _xypoints(block: _Block, lines: list[str], path: Path, label: str) -> tuple:
    form = lines[0].replace(" ", "").upper()
    width = 3 if form.startswith("(XYW") or form.startswith("(XYM") else 2
    xfactor = _number(block, "XFACTOR", path) or 1.0
    yfactor = _number(block, "YFACTOR", path) or 1.0
    numbers: list[float] = []
    for line in lines[1:]:
        leftover = _POINT_TOKEN.sub("", line).strip(" \t,;")
        if re.sub(r"[\s,;]", "", leftover):
            raise FormatError(
                f"{path.name}: unreadable ##{label} line",
                expected="numbers (x, y pairs separated by ';' or blanks)",
                got=repr(line[:40]),
            )
        numbers.extend(np.nan if t == "?" else float(t) for t in _POINT_TOKEN.findall(line))
    if not numbers or len(numbers) % width:
        raise FormatError(
            f"{path.name}: ##{label} is incomplete",
            expected=f"groups of {width} numbers",
            got=f"{len(numbers)} numbers",
            fix="the file is truncated or corrupt",
        )
    table = np.asarray(numbers).reshape(-1, width)
    return table[:, 0] * xfactor, table[:, 1] * yfactor


def _axis_of(block: _Block) -> dict[str, Any]:
    unit = _UNITS.get(block.ldrs.get("XUNITS", "").upper().replace(" ", ""), "arb")
    kind = None
    if unit == "cm-1" and "RAMAN" in block.ldrs.get("DATATYPE", "").upper():
        kind = "raman_shift"
    laser = block.ldrs.get("$LASERWAVELENGTH")
    return {"unit": unit, "kind": kind, "laser_wavelength": laser or None}


def _block_spectra(block: _Block, path: Path, options: dict[str, Any]) -> Spectra | None:
    for label in ("XYDATA", "XYPOINTS", "PEAKTABLE"):
        if label in block.data:
            lines = block.data[label]
            if label == "XYDATA":
                x, y = _xydata(block, lines, path)
            else:
                x, y = _xypoints(block, lines, path, label)
            break
    else:
        return None
    meta: dict[str, Any] = {"title": block.title}
    extra = block.ldrs.get("$SPECTRAKITMETA")
    if extra:
        # A foreign or damaged private label does not spoil the spectrum itself.
        with contextlib.suppress(ValueError, TypeError):
            meta.update(json.loads(extra))
    axis_options = merge_axis_options(_axis_of(block), options)
    order = np.argsort(x, kind="stable")
    if np.any(np.diff(x[order]) == 0):
        raise FormatError(
            f"{path.name}: block {block.title!r} repeats abscissa values",
            expected="distinct X values",
            got=f"{x.size - np.unique(x).size} duplicates",
        )
    return Spectra(y[order], x[order], {k: [v] for k, v in meta.items()}, **axis_options)


def _sniff_jcamp(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(2048).lstrip()
    return head.startswith(b"##")


@register_format(
    "jcamp",
    extensions=(".jdx", ".dx", ".jcamp", ".jcm"),
    description="JCAMP-DX 4.24/5.01 (AFFN and compressed ASDF, multi-block)",
    sniff=_sniff_jcamp,
)
def read_jcamp(
    path: Path, *, unit: str | None = None, kind: str | None = None, laser_wavelength=None
) -> dict[str, Spectra]:
    """Read every spectrum of a JCAMP-DX file, one block per data block.

    Parameters
    ----------
    path : Path
        The file.
    unit, kind, laser_wavelength
        Override the axis information (default from ``##XUNITS`` and ``##DATA TYPE``).

    Returns
    -------
    dict of str to Spectra
        ``{title: Spectra of shape (1, p)}``; :func:`spectrakit.read` stacks them when the
        axes agree.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        text = path.read_bytes().decode("latin-1")
    blocks = _parse_blocks(text, path.stem)
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    out: dict[str, Spectra] = {}
    for block in blocks:
        spectra = _block_spectra(block, path, options)
        if spectra is None:
            continue
        name = block.title or path.stem
        while name in out:
            name = f"{block.title} #{len(out) + 1}"
        out[name] = spectra
    if not out:
        kinds = ", ".join(sorted({k for b in blocks for k in b.ldrs if k == "NTUPLES"}))
        raise FormatError(
            f"{path.name} holds no spectrum",
            expected="##XYDATA, ##XYPOINTS or ##PEAK TABLE",
            got=f"##{kinds}" if kinds else "no data table",
            fix="export the spectrum as JCAMP-DX XYDATA",
        )
    return out


def _fmt(v: float) -> str:
    """Shortest text that reads back to the same float64 (exponents carry a sign)."""
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _fmt_y(v: float) -> str:
    """Shortest text that reads back to the same float32 intensity."""
    text = str(np.float32(v))
    return text[:-2] if text.endswith(".0") else text


def _data_type(spectra: Spectra) -> str:
    """``##DATA TYPE`` from the axis kind (and, for wavelengths, the spectral region)."""
    if spectra.axis.kind == "wavelength":
        top_nm = spectra.axis.convert("nm")[0].max
        if top_nm > 2500:
            return "INFRARED SPECTRUM"
        return "NEAR INFRARED SPECTRUM" if top_nm > 800 else "UV/VIS SPECTRUM"
    return _DATA_TYPES.get(str(spectra.axis.kind), "SPECTRUM")


def _block_lines(spectra: Spectra, row: int, title: str, block_id: int | None) -> list[str]:
    ax = spectra.axis
    x = ax.values
    y = spectra.values[row].astype(np.float64)
    unit = {"cm-1": "1/CM", "nm": "NANOMETERS", "um": "MICROMETERS"}.get(ax.unit, ax.unit.upper())
    lines = [
        "##TITLE=" + " ".join(title.split()),
        "##JCAMP-DX=5.01",
        f"##DATA TYPE={_data_type(spectra)}",
    ]
    if block_id is not None:
        lines.append(f"##BLOCK_ID={block_id}")
    lines += ["##ORIGIN=spectrakit", "##OWNER=public domain", f"##XUNITS={unit}"]
    lines += ["##YUNITS=ARBITRARY UNITS"]
    if ax.laser_wavelength is not None:
        lines.append(f"##$LASER WAVELENGTH={ax.laser_wavelength!r}")
    meta = {
        str(k): (v.item() if isinstance(v, np.generic) else v)
        for k, v in spectra.meta.iloc[row].items()
        if k not in ("title", "block")
    }
    if meta:
        lines.append("##$SPECTRAKIT META=" + json.dumps(meta, default=str))
    lines += [
        "##XFACTOR=1",
        "##YFACTOR=1",
        f"##FIRSTX={_fmt(x[0])}",
        f"##LASTX={_fmt(x[-1])}",
        f"##NPOINTS={x.size}",
        f"##FIRSTY={_fmt_y(y[0])}",
        f"##MINY={_fmt_y(y.min())}",
        f"##MAXY={_fmt_y(y.max())}",
    ]
    if ax.is_uniform and x.size > 1:
        lines += [f"##DELTAX={_fmt((x[-1] - x[0]) / (x.size - 1))}", "##XYDATA=(X++(Y..Y))"]
        line = ""
        for i in range(x.size):
            token = _fmt_y(y[i])
            if line and len(line) + 1 + len(token) > 80:
                lines.append(line)
                line = ""
            line = f"{_fmt(x[i])} {token}" if not line else f"{line} {token}"
        lines.append(line)
    else:
        lines.append("##XYPOINTS=(XY..XY)")
        lines += [f"{_fmt(a)}, {_fmt_y(b)}" for a, b in zip(x, y, strict=True)]
    lines.append("##END=")
    return lines


@register_writer("jcamp", extensions=(".jdx", ".dx", ".jcamp"))
def write_jcamp(spectra: Spectra, path: Path, *, title: str | None = None) -> None:
    """Write JCAMP-DX 5.01 with AFFN ``##XYDATA=(X++(Y..Y))`` (``##XYPOINTS`` if uneven).

    Parameters
    ----------
    spectra : Spectra
        One spectrum gives a plain file; several give a LINK block with one block each.
    path : Path
        Output file.
    title : str, optional
        Title of a single spectrum or of the link block; per-spectrum titles come from a
        ``title`` metadata column when present.
    """
    if np.isnan(spectra.values).any():
        raise FormatError(
            "JCAMP-DX output cannot hold NaN intensities",
            expected="finite values",
            got=f"NaN in {int(np.isnan(spectra.values).any(axis=1).sum())} spectra",
            fix="interpolate or drop the missing points first",
        )
    titles = (
        [str(t) for t in spectra.meta["title"]]
        if "title" in spectra.meta.columns
        else [f"spectrum {i + 1}" for i in range(spectra.n_spectra)]
    )
    if spectra.n_spectra == 1:
        lines = _block_lines(spectra, 0, title or titles[0], None)
    else:
        lines = [
            f"##TITLE={title or 'spectrakit export'}",
            "##JCAMP-DX=5.01",
            "##DATA TYPE=LINK",
            f"##BLOCKS={spectra.n_spectra}",
        ]
        for i in range(spectra.n_spectra):
            lines += _block_lines(spectra, i, titles[i], i + 1)
        lines.append("##END=")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
