"""Two-column (axis, intensity) text files: one spectrum per file, or a folder of them.

Accepted: comma, tab, semicolon or whitespace separated; an optional header line such as
``wavenumber,intensity`` (a unit in it, e.g. ``wavelength (nm)``, sets the axis unit); ``#``
comment lines; ascending or descending axes. The writer stores a folder of such files, one
per spectrum, with the metadata of each spectrum in a ``# meta {...}`` JSON comment line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.errors import AxisError, DataError, FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import merge_axis_options
from spectrakit.io._registry import register_format, register_writer
from spectrakit.io._text_fields import guess_separator as _guess_separator
from spectrakit.io._text_fields import is_number as _is_number

__all__ = ["read_long", "read_long_folder", "write_long", "write_long_folder"]

_EXTENSIONS = (".csv", ".tsv", ".txt", ".xy", ".dat", ".asc")
_AXIS_PREFIX = "# axis "
_META_PREFIX = "# meta "
#: header words -> (unit, kind) of the axis column; explicit units are tried before the
#: generic words ("wavelength (um)" is in micrometres).
_HEADER_UNITS = (
    (re.compile(r"raman|shift"), ("cm-1", "raman_shift")),
    (re.compile(r"cm-1|cm\^-1|1/cm|cm⁻¹"), ("cm-1", None)),
    (re.compile(r"\bnm\b|nanomet"), ("nm", None)),
    (re.compile(r"\bum\b|µm|μm|micromet|micron"), ("um", None)),
    (re.compile(r"\bkev\b"), ("keV", None)),
    (re.compile(r"\bev\b"), ("eV", None)),
    (re.compile(r"wavenumber"), ("cm-1", None)),
    (re.compile(r"wavelength"), ("nm", None)),
    (re.compile(r"channel|pixel|index"), ("channel", None)),
)


def _lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{path.name} is not a text file",
            expected="a two-column text file (axis, intensity)",
            got="binary content",
            fix="pass the right format (e.g. format='spc' or 'opus')",
        ) from exc
    return text.splitlines()


def _split(line: str, sep: str | None) -> list[str]:
    parts = line.split(sep) if sep else line.split()
    return [p.strip() for p in parts]


def _header_axis(header: list[str]) -> dict[str, Any]:
    # a blank-separated header may split the axis label: "wavelength (nm) intensity"
    name = " ".join(header[:-1] if len(header) > 2 else header[:1]).lower()
    for pattern, (unit, kind) in _HEADER_UNITS:
        if pattern.search(name):
            return {"unit": unit, "kind": kind}
    return {}


def _comment_header_axis(comment: str | None, sep: str | None) -> dict[str, Any]:
    """Axis info of a column-name comment just above the data (``# Raman shift (cm-1)``).

    It counts only when it looks like column names: no ``=`` or ``:`` (which mark key-value
    notes), and two fields in the data's separator (any number for blank-separated data).
    """
    if comment is None:
        return {}
    text = comment.lstrip("#").strip()
    fields = _split(text, sep)
    if (sep is not None and len(fields) != 2) or "=" in text or ":" in text:
        return {}
    return _header_axis(fields) if len(fields) >= 2 else {}


def _parse(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any], dict[str, Any]]:
    """Axis (p,), intensity (p,), axis info, meta of one long file."""
    rows, stored, meta, comment = _read_rows(path)
    sep = _guess_separator(rows[0][1])
    first = _split(rows[0][1], sep)
    if all(_is_number(f) for f in first) and not stored:
        stored = _comment_header_axis(comment, sep)
    if not all(_is_number(f) for f in first):
        if not stored:
            stored = _header_axis(first)
        rows = rows[1:]
        if not rows:
            raise DataError(
                f"{path.name} has a header but no data",
                expected="rows of 'axis, intensity' after the header",
                got="header only",
            )
        sep = _guess_separator(rows[0][1]) if sep is None else sep
    axis, values = _columns(path, rows, sep)
    return axis, values, stored, meta


def _read_rows(
    path: Path,
) -> tuple[list[tuple[int, str]], dict[str, Any], dict[str, Any], str | None]:
    """Numbered data lines (at least one), ``# axis`` info, ``# meta`` object, last comment.

    The last comment is the last other comment line before the data (it may name the
    columns).
    """
    stored: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    rows: list[tuple[int, str]] = []
    comment: str | None = None
    for number, raw in enumerate(_lines(path), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if not rows and not raw.startswith((_AXIS_PREFIX, _META_PREFIX)):
                comment = line
            if raw.startswith(_AXIS_PREFIX):
                stored = dict(t.split("=", 1) for t in raw[len(_AXIS_PREFIX) :].split() if "=" in t)
            elif raw.startswith(_META_PREFIX):
                try:
                    meta = dict(json.loads(raw[len(_META_PREFIX) :]))
                except (ValueError, TypeError) as exc:
                    raise FormatError(
                        f"{path.name}: unreadable '# meta' line",
                        expected="a JSON object",
                        got=raw[:60],
                    ) from exc
            continue
        rows.append((number, line))
    if not rows:
        raise FormatError(
            f"{path.name} holds no data", expected="rows of 'axis, intensity'", got="no rows"
        )
    return rows, stored, meta, comment


def _columns(
    path: Path, rows: list[tuple[int, str]], sep: str | None
) -> tuple[np.ndarray, np.ndarray]:
    """Axis (p,) and intensity (p,) of the numbered data lines ``rows``."""
    axis = np.empty(len(rows))
    values = np.empty(len(rows))
    for i, (number, line) in enumerate(rows):
        fields = _split(line, sep)
        if len(fields) != 2:
            raise FormatError(
                f"{path.name}: line {number} has {len(fields)} fields",
                expected="2 fields per line (axis, intensity)",
                got=repr(line[:60]),
                fix="repair the line, or use the table format for many spectra per file",
            )
        axis[i] = _number(path, fields[0], number, "axis value", fix=None)
        values[i] = _number(path, fields[1], number, "intensity")
    return axis, values


def _number(
    path: Path,
    text: str,
    number: int,
    what: str,
    fix: str | None = "repair the value or remove the line",
) -> float:
    """``text`` as a float, else one :class:`DataError` naming ``what`` and the line."""
    try:
        return float(text)
    except ValueError:
        raise DataError(
            f"{path.name}: non-numeric {what} in line {number}",
            expected="a number",
            got=repr(text),
            fix=fix,
        ) from None


def _to_spectra(path: Path, options: dict[str, Any]) -> Spectra:
    axis, values, stored, meta = _parse(path)
    axis_options = merge_axis_options(stored, options)
    try:
        return Spectra(values, axis, {k: [v] for k, v in meta.items()} or None, **axis_options)
    except AxisError as exc:
        raise AxisError(
            f"{path.name}: {exc.message}", expected=exc.expected, got=exc.got, fix=exc.fix
        ) from None


def _sniff_long(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="strict") as fh:
            head = [line.strip() for _, line in zip(range(50), fh, strict=False)]
    except (UnicodeDecodeError, OSError):
        return False
    data = [line for line in head if line and not line.startswith("#")]
    if not data:
        return False
    # The first data line decides (after a header, which may hold blanks); a ragged line
    # further down gets a clear error when the file is read.
    first = _split(data[0], _guess_separator(data[0]))
    if len(data) > 1 and not all(_is_number(f) for f in first):
        first = _split(data[1], _guess_separator(data[1]))
    return len(first) == 2


@register_format(
    "long",
    extensions=_EXTENSIONS,
    description="two-column text file: axis, intensity (one spectrum)",
    sniff=_sniff_long,
    priority=5,
)
def read_long(
    path: Path, *, unit: str | None = None, kind: str | None = None, laser_wavelength=None
) -> Spectra:
    """Read one spectrum from a two-column text file.

    Parameters
    ----------
    path : Path
        The file.
    unit, kind, laser_wavelength
        Axis information when the file does not carry it (the header ``wavenumber`` means
        ``cm-1``, ``wavelength`` means ``nm``).

    Returns
    -------
    Spectra
        One spectrum of shape (1, n_points).
    """
    return _to_spectra(path, {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength})


def _folder_files(path: Path) -> list[Path]:
    return sorted(
        p
        for p in path.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in _EXTENSIONS
    )


def _sniff_folder(path: Path) -> bool:
    """A folder with a two-column numeric file among its first files (a table may sort first)."""
    from spectrakit.io.formats._folder_table import has_text_rows

    return any(_sniff_long(p) and not has_text_rows(p) for p in _folder_files(path)[:20])


@register_format(
    "long_folder",
    description="folder of two-column text files, one spectrum per file, with an optional "
    "metadata table joined by file name",
    sniff=_sniff_folder,
    directory=True,
    priority=0,
)
def read_long_folder(
    path: Path, *, unit: str | None = None, kind: str | None = None, laser_wavelength=None
) -> dict[str, Spectra]:
    """Read every two-column file of a folder, with a ``file`` column and the folder's table.

    A file with text in its data rows is the folder's metadata table: one of its columns
    names the spectrum files (with or without extension), and its other columns are joined
    onto the spectra by it (numeric columns as float; a file without a row gets NaN and a
    warning).

    Parameters
    ----------
    path : Path
        The folder (files ending in .csv, .tsv, .txt, .xy, .dat or .asc).
    unit, kind, laser_wavelength
        Axis information when the files do not carry it.

    Returns
    -------
    dict of str to Spectra
        ``{folder name: Spectra}`` of shape (n_files, p) when the files share one axis, else
        ``{file name: Spectra}`` of one spectrum each (see :func:`spectrakit.combine`).

    Raises
    ------
    FormatError
        No spectrum file; several metadata tables; a table without a file column or with a
        file named twice.
    """
    from spectrakit.io.formats._folder_table import has_text_rows

    files = _folder_files(path)
    tables = [p for p in files if has_text_rows(p)]
    files = [p for p in files if p not in tables]
    if not files:
        raise FormatError(
            f"folder {path.name} holds no spectrum files",
            expected="two-column files ending in " + ", ".join(_EXTENSIONS),
            got=", ".join(p.name for p in tables[:3]) or "none",
        )
    if len(tables) > 1:
        raise FormatError(
            f"folder {path.name} holds {len(tables)} metadata tables",
            expected="at most one table naming the spectrum files",
            got=", ".join(p.name for p in tables[:4]),
            fix="merge them into one, or move the others out of the folder",
        )
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    blocks = {p.name: _to_spectra(p, options).assign(file=p.name) for p in files}
    first = next(iter(blocks.values())).axis
    if all(s.axis.allclose(first, rtol=1e-9, atol=1e-9) for s in blocks.values()):
        blocks = {path.resolve().name: Spectra.concat(list(blocks.values()))}
    return _with_table(blocks, tables[0], files) if tables else blocks


def _with_table(blocks: dict[str, Spectra], table_path: Path, files: list[Path]) -> dict:
    """``blocks`` with the metadata table's columns joined by file name."""
    from spectrakit.io.formats._folder_table import file_keys, join_on_files, read_meta_table

    keys = file_keys(files)
    table, column = read_meta_table(table_path, keys)
    return {
        name: s.with_meta(join_on_files(s.meta, table, column, keys, table_path.name))
        for name, s in blocks.items()
    }


def _axis_comment(spectra: Spectra) -> str:
    ax = spectra.axis
    text = f"{_AXIS_PREFIX}unit={ax.unit} kind={ax.kind}"
    if ax.laser_wavelength is not None:
        text += f" laser_wavelength={ax.laser_wavelength!r}"
    return text


def _write_one(spectra: Spectra, row: int, path: Path, sep: str) -> None:
    meta = {
        str(k): (v.item() if isinstance(v, np.generic) else v)
        for k, v in spectra.meta.iloc[row].items()
        if k != "file"
    }
    lines = [_axis_comment(spectra)]
    if meta:
        lines.append(_META_PREFIX + json.dumps(meta, default=str))
    lines.append(f"{spectra.axis.kind}{sep}intensity")
    x = spectra.axis.values
    y = spectra.values[row]
    lines.extend(f"{a!r}{sep}{float(b)!r}" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@register_writer("long", extensions=_EXTENSIONS)
def write_long(spectra: Spectra, path: Path, *, sep: str = ",") -> None:
    """Write one spectrum as a two-column file (use the folder writer for several).

    Parameters
    ----------
    spectra : Spectra
        Exactly one spectrum.
    path : Path
        Output file.
    sep : str, default=","
        Field separator.
    """
    if spectra.n_spectra != 1:
        raise FormatError(
            "a two-column file holds one spectrum",
            expected="1 spectrum",
            got=str(spectra.n_spectra),
            fix="write format='long_folder' (one file per spectrum) or the table format",
        )
    _write_one(spectra, 0, path, sep)


def _file_names(spectra: Spectra) -> list[str]:
    if "file" in spectra.meta.columns:
        names = [Path(str(n)).name for n in spectra.meta["file"]]
        if len(set(names)) == len(names) and all(
            Path(n).suffix.lower() in _EXTENSIONS for n in names
        ):
            return names
    width = max(4, len(str(spectra.n_spectra)))
    return [f"spectrum_{i:0{width}d}.csv" for i in range(spectra.n_spectra)]


@register_writer("long_folder")
def write_long_folder(spectra: Spectra, path: Path, *, sep: str = ",") -> None:
    """Write a folder with one two-column file per spectrum.

    Parameters
    ----------
    spectra : Spectra
        Spectra of shape (n, p); file names come from a ``file`` meta column when it holds
        unique names, else ``spectrum_0000.csv``, ...
    path : Path
        Output folder (created).
    sep : str, default=","
        Field separator.
    """
    path.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(_file_names(spectra)):
        _write_one(spectra, i, path / name, sep)
