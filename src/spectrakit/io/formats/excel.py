"""Excel workbooks (.xlsx, .xlsm): every sheet that holds spectra becomes one block.

A sheet is read as the text readers read a table, so every layout they know works in a
sheet too: one spectrum per row with numeric column headers (the axis) beside metadata
columns, the transposed layout (the axis down the first column, one spectrum per further
column, optional metadata rows) and the two-column (axis, intensity) layout of one spectrum.
Title rows above the table (a row with one filled cell) and empty leading columns are
skipped; messages name the sheet and the worksheet row. Formula cells give the value Excel
saved with the workbook.

Sheets without spectra (a notes or a reference-values sheet) are left out (logged); a sheet
that looks like spectra but cannot be read is left out with a warning when other sheets read,
and refused when none does or when it was asked for with ``sheet=``. Sheets on one axis stack
into one :class:`Spectra` in :func:`spectrakit.read` (a ``block`` column holds the sheet
name); :func:`spectrakit.read_blocks` keeps them apart.

Reading needs ``openpyxl`` (``pip install 'spectrakit[excel]'``). The workbook's XML is
charged against the read limits before it is parsed, so a zip bomb is refused, and entity
expansion is refused by ``defusedxml``.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from spectrakit.core.errors import FormatError, SpectraError
from spectrakit.core.spectra import Spectra
from spectrakit.io._limits import charge, check_count
from spectrakit.io._registry import register_format, register_unread
from spectrakit.io._text_fields import is_number
from spectrakit.io.formats.csv_table import _sniff_table, read_csv
from spectrakit.io.formats.long_table import read_long

__all__ = ["read_excel"]

_log = logging.getLogger(__name__)
_FIELD_BREAK = re.compile(r"[\t\r\n]+")
#: positions in the text readers' messages: a file line, or a data row (below the header)
_PLACE = re.compile(r"\b(lines?|row) (\d+)")
#: bytes charged per cell handed out by the sheet parser (a float and its slot)
_CELL_BYTES = 8


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError as exc:
        raise FormatError(
            "reading Excel workbooks needs openpyxl",
            expected="openpyxl installed",
            got="not installed",
            fix="pip install 'spectrakit[excel]', or save the sheet as CSV",
        ) from exc
    return openpyxl


def _check_archive(path: Path) -> None:
    """Refuse a file that is no zip archive, or whose XML would decode past the read budget."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise FormatError(
            f"{path.name} is not an Excel workbook",
            expected="an .xlsx/.xlsm workbook (a zip archive)",
            got="not a zip archive (an old .xls, or a renamed text file?)",
            fix="save it from Excel as .xlsx or CSV, or pass the right format",
        ) from exc
    check_count(len(members), "archive members", path)
    xml = sum(m.file_size for m in members if m.filename.lower().endswith((".xml", ".rels")))
    charge(xml, "the workbook's XML", path)


def _damaged(path: Path, exc: BaseException) -> FormatError:
    return FormatError(
        f"{path.name} is a damaged Excel workbook",
        expected="a workbook Excel or LibreOffice opens",
        got=f"{type(exc).__name__}: {str(exc)[:120]}".rstrip(": "),
        fix="open it in Excel and save it again, or export the sheet as CSV",
    )


def _open_book(fh: Any, path: Path) -> Any:
    """The workbook, read-only with the values Excel saved; a damaged archive is refused."""
    openpyxl = _openpyxl()
    try:
        return openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, zip and XML errors alike
        raise _damaged(path, exc) from exc


def _cell_text(value: object) -> str:
    """One cell as a text-table field (floats at full precision, no field breaks)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return _FIELD_BREAK.sub(" ", str(value)).strip()


def _sheet_rows(sheet: Any, path: Path) -> list[list[str]]:
    """The sheet's rows as text fields, trailing empty cells and rows dropped.

    Every cell the parser hands out is charged against the read budget, so a sheet whose
    few cells sit at the far corner of the grid cannot expand without bound.
    """
    sheet.reset_dimensions()  # a stated dimension may be wrong, or hostile
    rows: list[list[str]] = []
    for values in sheet.iter_rows(values_only=True):
        charge(_CELL_BYTES * max(1, len(values)), "the sheet's cells", path)
        cells = [_cell_text(v) for v in values]
        while cells and not cells[-1]:
            cells.pop()
        rows.append(cells)
    while rows and not rows[-1]:
        rows.pop()
    lead = min((next(i for i, c in enumerate(r) if c) for r in rows if r), default=0)
    return [r[lead:] for r in rows]


def _title_rows(rows: list[list[str]]) -> int:
    """Rows above the table: empty, or one filled cell (a title), before a row of two or more."""
    for i, row in enumerate(rows):
        if sum(1 for c in row if c) >= 2:
            return i
    return len(rows)


def _looks_long(table: list[list[str]]) -> bool:
    """Two columns of numbers (after an optional header row): one spectrum, axis first."""
    body = table[1:] if table and not all(map(is_number, table[0][:2])) else table
    return len(body) >= 3 and all(len(r) == 2 and is_number(r[0]) for r in body[:20])


def _located(exc: SpectraError, path: Path, sheet: str, skip: int) -> SpectraError:
    """``exc`` naming the sheet, with the text table's positions as worksheet rows.

    ``skip`` rows (titles) sit above the table's header; a data row ``n`` of the table is
    worksheet row ``skip + 1 + n``, a line ``n`` of its text is worksheet row ``skip + n``.
    """

    def rows(text: str | None) -> str | None:
        if text is None:
            return None
        return _PLACE.sub(lambda m: f"row {int(m[2]) + skip + (m[1] == 'row')}", text)

    message = exc.message.replace(path.name, "", 1).lstrip(" :")
    fix = exc.fix
    if "NaN" in message:
        fix = (
            f"{fix} (an empty cell reads as NaN, and so does a formula whose value the "
            "workbook never saved: open and save it in Excel)"
        )
    return type(exc)(
        f"{path.name}, sheet {sheet!r}: {rows(message)}", expected=exc.expected,
        got=rows(exc.got), fix=fix,
    )  # fmt: skip


def _read_sheet(
    rows: list[list[str]], text: Path, options: dict[str, Any], transposed: bool | None
) -> Spectra | None:
    """One sheet's table through the text readers, or ``None`` when it holds no spectra."""
    with open(text, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter="\t", lineterminator="\n").writerows(rows)
    if _sniff_table(text):
        return read_csv(text, sep="\t", transposed=transposed, **options)
    if _looks_long(rows):
        return read_long(text, **options)
    return None


def _chosen(book: Any, sheet: str | int | None, path: Path) -> list[str]:
    names = [ws.title for ws in book.worksheets]
    if sheet is None:
        return names
    if isinstance(sheet, int) and not isinstance(sheet, bool) and -len(names) <= sheet < len(names):
        return [names[sheet]]
    if isinstance(sheet, str) and sheet in names:
        return [sheet]
    raise FormatError(
        f"{path.name} has no sheet {sheet!r}",
        expected="a sheet name or 0-based index: " + ", ".join(repr(n) for n in names),
        got=repr(sheet),
        fix="pass one of the sheets listed",
    )


def _read_sheets(
    book: Any, names: list[str], path: Path, options: dict[str, Any], transposed: bool | None
) -> tuple[dict[str, Spectra], list[SpectraError]]:
    blocks: dict[str, Spectra] = {}
    failed: list[SpectraError] = []
    with tempfile.TemporaryDirectory(prefix="spectrakit-xlsx-") as tmp:
        for name in names:
            rows = _sheet_rows(book[name], path)
            skip = _title_rows(rows)
            try:
                spectra = _read_sheet(rows[skip:], Path(tmp) / path.name, options, transposed)
            except SpectraError as exc:
                failed.append(_located(exc, path, name, skip))
                continue
            if spectra is None:
                _log.info("%s: sheet %r holds no spectra; left out", path.name, name)
            else:
                blocks[name] = spectra
    return blocks, failed


@register_format(
    "excel",
    extensions=(".xlsx", ".xlsm"),
    description="Excel workbook: each sheet a table of spectra (any layout of the CSV reader)",
)
def read_excel(
    path: Path,
    *,
    unit: str | None = None,
    kind: str | None = None,
    laser_wavelength: float | None = None,
    sheet: str | int | None = None,
    transposed: bool | None = None,
) -> Spectra | dict[str, Spectra]:
    """Read the spectra of an Excel workbook.

    Parameters
    ----------
    path : Path
        The ``.xlsx``/``.xlsm`` workbook.
    unit, kind, laser_wavelength
        Axis information the sheet does not carry (a header such as ``wavenumber (cm-1)``
        or a ``# axis`` comment row sets it as in a CSV file).
    sheet : str or int, optional
        Read only this sheet (name, or 0-based index); every sheet by default.
    transposed : bool, optional
        State the orientation (spectra as columns) instead of detecting it.

    Returns
    -------
    Spectra or dict of str to Spectra
        Spectra of shape (n_spectra, n_points); one block per sheet holding spectra when
        there are several.
    """
    _check_archive(path)
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    with open(path, "rb") as fh:  # a file object: openpyxl judges paths by their extension
        book = _open_book(fh, path)
        try:
            names = _chosen(book, sheet, path)
            blocks, failed = _read_sheets(book, names, path, options, transposed)
        except SpectraError:
            raise
        except Exception as exc:  # a damaged part of the archive, met while reading a sheet
            raise _damaged(path, exc) from exc
        finally:
            book.close()
    if failed and (not blocks or sheet is not None):
        raise failed[0]
    for exc in failed:
        _log.warning("%s; that sheet is left out", exc.message)
    if not blocks:
        raise FormatError(
            f"{path.name} holds no table of spectra",
            expected="a sheet with numeric column headers (the axis), spectra as columns "
            "beside an axis column, or two columns (axis, intensity)",
            got="sheets " + ", ".join(repr(n) for n in names),
            fix="lay one sheet out as a table of spectra (see the formats page)",
        )
    return next(iter(blocks.values())) if len(blocks) == 1 else blocks


register_unread(
    (".xls", ".xlsb", ".ods"),
    "a binary Excel (.xls, .xlsb) or OpenDocument spreadsheet",
    "open it in Excel or LibreOffice and save it as .xlsx (or export the sheet as CSV)",
)
