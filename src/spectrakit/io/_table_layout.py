"""Sniffing the layout of a delimited text table: separator, decimal mark, orientation.

Tables from spreadsheets and instrument software come in several layouts besides the
table format's comma-separated, one-spectrum-per-row, decimal-point form:

* semicolon (or tab) separators, as spreadsheets write them in locales with a decimal comma;
* decimal commas (``0,125``) in values and in the numeric header names;
* transposed tables: the first column is the axis and every further column one spectrum
  (``wavenumber,s1,s2,...``), optionally with leading metadata rows whose first cell
  names the field (``label,a,b,...``).

:func:`sniff_layout` reads the start of the file and returns a :class:`TableLayout`; a layout
that cannot be read unambiguously (decimal commas inside a comma-separated file, decimal
commas mixed with decimal points) is refused with a message that names what was found.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import split_table_columns
from spectrakit.io._text_fields import SEPARATORS as _SEPARATORS

__all__ = ["TableLayout", "decimal_point", "sniff_layout"]

#: rows sampled from the start of the file
_SAMPLE_ROWS = 20
#: characters read per sampled line (a wide table's rows can be megabytes long)
_LINE_BUDGET = 1 << 16
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_COMMA_NUMBER = re.compile(r"^[+-]?\d+,\d+(?:[eE][+-]?\d+)?$")
_POINT_NUMBER = re.compile(r"^[+-]?\d*\.\d+(?:[eE][+-]?\d+)?$")
_AXIS_WORDS = re.compile(
    r"^$|wave|raman|shift|cm-1|cm\^-1|1/cm|\bnm\b|\bum\b|µm|energy|\bev\b|\bkev\b|channel|"
    r"pixel|axis|^x$|frequency",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TableLayout:
    """How a delimited table is laid out.

    Attributes
    ----------
    sep : str
        Field separator.
    decimal : {".", ","}
        Decimal mark of the numbers.
    transposed : bool
        Spectra are columns (the first column is the axis).
    header : list of str
        Header fields, numeric names written with a decimal point.
    meta_rows : int
        Transposed tables: metadata rows between the header and the axis rows.
    """

    sep: str
    decimal: str = "."
    transposed: bool = False
    header: list[str] = field(default_factory=list)
    meta_rows: int = 0

    def describe(self) -> str:
        """The layout in words, e.g. ``semicolon-separated, decimal comma, transposed``."""
        words = [f"{_SEP_NAMES.get(self.sep, repr(self.sep))}-separated"]
        words.append("decimal comma" if self.decimal == "," else "decimal point")
        if self.transposed:
            words.append("transposed (one spectrum per column)")
        return ", ".join(words)


def decimal_point(text: str, decimal: str) -> str:
    """``text`` with a decimal comma turned into a point when it is a decimal-comma number."""
    text = text.strip()
    if decimal == "," and _COMMA_NUMBER.match(text):
        return text.replace(",", ".")
    return text


def _sample(path: Path, skip: int) -> tuple[list[str], list[bool]]:
    """The header line and up to ``_SAMPLE_ROWS`` lines after it, and which were truncated."""
    lines, cut = [], []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        for i, line in enumerate(iter(lambda: fh.readline(_LINE_BUDGET), "")):
            whole = line.endswith(("\n", "\r"))
            if not whole and i == skip:  # the header is always read whole
                while not whole:
                    more = fh.readline(_LINE_BUDGET)
                    line, whole = line + more, not more or more.endswith(("\n", "\r"))
            elif not whole:
                rest = fh.readline()  # skip the rest of a long row
                whole = not rest
            if i >= skip and line.strip():
                lines.append(line.rstrip("\r\n"))
                cut.append(not whole and i > skip)
            if len(lines) > _SAMPLE_ROWS:
                break
    return lines, cut


def _rows(lines: list[str], sep: str) -> list[list[str]]:
    try:
        return [next(csv.reader([line], delimiter=sep), []) for line in lines]
    except csv.Error:
        return []


def _is_number(text: str, decimal: str) -> bool:
    try:
        float(decimal_point(text, decimal))
    except ValueError:
        return False
    return True


def _decimal(rows: list[list[str]], sep: str, path: Path) -> str:
    cells = [c.strip() for row in rows for c in row]
    commas = sum(bool(_COMMA_NUMBER.match(c)) for c in cells)
    points = sum(bool(_POINT_NUMBER.match(c)) for c in cells)
    if not commas:
        return "."
    name = _SEP_NAMES.get(sep, repr(sep))
    if sep == ",":
        raise FormatError(
            f"{path.name}: comma-separated table with decimal commas in quoted fields",
            expected="a separator other than the decimal mark",
            got=f"{commas} quoted numbers like '1,5' in a comma-separated file",
            fix="save the table with ';' as separator (or with decimal points)",
        )
    if points:
        raise FormatError(
            f"{path.name}: {name}-separated table mixes decimal commas and decimal points",
            expected="one decimal mark throughout the file",
            got=f"{commas} numbers like '1,5' and {points} like '1.5'",
            fix="save the table again with one decimal mark",
        )
    return ","


def _meta_row_count(rows: list[list[str]], decimal: str) -> int | None:
    """Leading metadata rows of a transposed table, or ``None`` when it is not one."""
    k = 0
    while k < len(rows) and not _is_number(rows[k][0], decimal):
        k += 1
    numeric = rows[k:]
    if len(numeric) < 2:
        return None
    # the axis column is numeric throughout; a stray text cell in the body is left to the
    # reader, which names its line
    ok = all(_is_number(r[0], decimal) and any(_is_number(c, decimal) for c in r[1:])
             for r in numeric)  # fmt: skip
    return k if ok else None


def _transposed(header: list[str], rows: list[list[str]], decimal: str) -> int | None:
    if len(header) < 3 or not rows or any(len(r) != len(header) for r in rows):
        return None
    spectral, _, _ = split_table_columns(header[1:])
    if spectral and not _AXIS_WORDS.search(header[0].strip()):
        return None  # numeric column names after a metadata column: the row layout
    if spectral and not header[0].strip() and _is_row_index([r[0] for r in rows]):
        return None  # a row-layout table written with its row index (pandas index=True)
    return _meta_row_count(rows, decimal)


def _is_row_index(cells: list[str]) -> bool:
    return [c.strip() for c in cells] == [str(i) for i in range(len(cells))]


def _candidate(path: Path, lines: list[str], cut: list[bool], sep: str) -> TableLayout | None:
    rows = _rows(lines, sep)
    whole = [r for r, c in zip(rows, cut, strict=False) if not c]
    if not whole or len(whole[0]) < 2:
        return None
    cells = [r[:-1] if c else r for r, c in zip(rows, cut, strict=False)]
    decimal = _decimal(cells, sep, path)
    header = [decimal_point(h, decimal) for h in rows[0]]
    meta_rows = _transposed(header, whole[1:], decimal)
    if meta_rows is not None:
        return TableLayout(sep, decimal, True, header, meta_rows)
    spectral, _, _ = split_table_columns(header)
    return TableLayout(sep, decimal, False, header) if spectral else None


def sniff_layout(path: Path, skip: int = 0, sep: str | None = None) -> TableLayout | None:
    """The layout of the delimited table in ``path``, or ``None`` when it is not a table.

    Parameters
    ----------
    path : Path
        The file.
    skip : int, default=0
        Lines before the header (e.g. an axis comment line).
    sep : str, optional
        Separator; by default tab, semicolon and comma are tried, and of those that give a
        header of at least 2 fields and a readable table, the one with the most sampled
        rows as wide as the header (then the widest header) wins.

    Returns
    -------
    TableLayout or None

    Raises
    ------
    FormatError
        The decimal mark cannot be told from the separator, or two decimal marks are mixed.
    """
    lines, cut = _sample(path, skip)
    if not lines:
        return None
    found = [_candidate(path, lines, cut, s) for s in ((sep,) if sep else _SEPARATORS)]
    found = [f for f in found if f is not None]
    if not found:
        return None

    def score(layout: TableLayout) -> tuple[int, int]:  # rows as wide as the header, width
        rows = _rows([line for line, c in zip(lines, cut, strict=False) if not c], layout.sep)
        return sum(len(r) == len(layout.header) for r in rows), len(layout.header)

    return max(found, key=score)
