"""The table format as CSV: one row per spectrum, numeric column names are the axis."""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit.core.errors import AxisError, DataError, FormatError
from spectrakit.core.spectra import Spectra, split_table_columns
from spectrakit.io._axis_info import axis_info, merge_axis_options, parse_axis_comment
from spectrakit.io._registry import register_format, register_writer
from spectrakit.io._table_layout import TableLayout, decimal_point, sniff_layout
from spectrakit.io.formats._transposed import read_transposed

#: header width above which the table is read row by row (pandas costs ~5 KB per column).
_WIDE = 4096
#: axis information kept as columns (constant over the rows) of the written table.
_AXIS_COLUMNS = {
    "unit": "axis_unit",
    "kind": "axis_kind",
    "laser_wavelength": "axis_laser_wavelength",
}


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        return fh.readline().rstrip("\r\n")


def _default_sep(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _sniff_table(path: Path) -> bool:
    line = _first_line(path)
    if parse_axis_comment(line) is not None:
        return True
    try:
        layout = sniff_layout(path, sep="\t" if path.suffix.lower() == ".tsv" else None)
    except FormatError:
        return True  # a table whose layout is refused: reading it says why
    if layout is None:
        return False
    if layout.transposed:
        return True
    spectral, meta, _ = split_table_columns(layout.header)
    # Two columns, both numeric or both names, is the long (axis, intensity) layout.
    return bool(spectral) and not (len(layout.header) == 2 and (not meta or not spectral))


def _layout(path: Path, skip: int, sep: str | None, decimal: str | None, transposed):
    """The file's layout (sniffed, then the explicit ``sep``/``decimal``/``transposed``)."""
    if sep is None and path.suffix.lower() == ".tsv":
        sep = "\t"
    found = sniff_layout(path, skip, sep)
    if found is None:
        line = _nth_line(path, skip)
        sep = sep or ","
        found = TableLayout(sep, decimal or ".", False, next(csv.reader([line], delimiter=sep), []))
    if transposed is not None and bool(transposed) != found.transposed:
        raise FormatError(
            f"{path.name}: the table is not laid out as stated",
            expected="spectra as columns" if transposed else "one spectrum per row",
            got=found.describe(),
            fix="leave the layout to be detected, or state the one the file has",
        )
    if decimal is not None and decimal != found.decimal:
        header = [
            decimal_point(h, decimal)
            for h in next(csv.reader([_nth_line(path, skip)], delimiter=found.sep), [])
        ]
        found = replace(found, decimal=decimal, header=header)  # fmt: skip
    return found


def _find_short_row(path: Path, skip: int, width: int, sep: str) -> tuple[int, int] | None:
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for i, row in enumerate(csv.reader(fh, delimiter=sep)):
            if i >= skip and row and len(row) != width:
                return i + 1, len(row)
    return None


@register_format(
    "csv",
    extensions=(".csv", ".tsv", ".txt"),
    description="table format: one spectrum per row, numeric column names = axis",
    sniff=_sniff_table,
    priority=10,
)
def read_csv(
    path: Path,
    *,
    unit=None,
    kind=None,
    laser_wavelength=None,
    sep: str | None = None,
    decimal: str | None = None,
    transposed: bool | None = None,
):
    """Read a table-format CSV.

    The separator (comma, semicolon or tab; tab for ``.tsv``), the decimal mark (point or
    comma) and the orientation (one spectrum per row, or transposed: the axis in the first
    column and one spectrum per further column) are detected from the file; ``sep``,
    ``decimal`` and ``transposed`` state them instead. A layout that cannot be read
    unambiguously is refused with a message naming the layout found.
    """
    first = _first_line(path)
    stored = parse_axis_comment(first)
    skip = 1 if stored is not None else 0
    layout = _layout(path, skip, sep, decimal, transposed)
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    if layout.transposed:
        return read_transposed(path, skip, layout, stored, options)
    sep, decimal, header = layout.sep, layout.decimal, layout.header
    spectral, _, axis_values = split_table_columns(header)
    _check_unique_axis(path, axis_values)
    if len(header) > _WIDE:
        wide = _read_wide(path, skip, layout, stored, options)
        return snap_rounded_axis(wide, spectral)
    df = _read_frame(path, skip, sep, decimal, len(header))
    if decimal != ".":
        df = df.rename(columns=dict(zip(df.columns, header, strict=False)))
    _check_complete_rows(path, df, spectral, skip, len(header), sep)
    df, from_columns = _pop_axis_columns(df, path)
    stored = from_columns or stored
    spectra = Spectra.from_pandas(df, source=path.name, **merge_axis_options(stored, options))
    return snap_rounded_axis(spectra, spectral)


def _check_unique_axis(path: Path, axis_values: np.ndarray) -> None:
    """Refuse a header that names one axis position twice."""
    if len(set(axis_values.tolist())) != len(axis_values):
        vals, counts = np.unique(axis_values, return_counts=True)
        raise AxisError(
            f"{path.name}: duplicate axis columns",
            expected="each axis position once in the header",
            got=f"{vals[counts > 1][0]:g} appears {counts[counts > 1][0]} times",
            fix="average or drop the duplicated columns",
        )


def _read_frame(path: Path, skip: int, sep: str, decimal: str, n_fields: int) -> pd.DataFrame:
    """The table as a DataFrame; empty, ragged or binary files give one clear FormatError."""
    try:
        return pd.read_csv(path, sep=sep, skiprows=skip, decimal=decimal)
    except pd.errors.EmptyDataError as exc:
        raise FormatError(f"{path.name} is empty", expected="a header row and spectra") from exc
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(exc))
        raise FormatError(
            f"{path.name}: ragged rows",
            expected=f"{n_fields} fields per row (as in the header)",
            got=f"{found[2]} fields in line {found[1]}" if found else str(exc)[:120],
            fix="repair the row with extra fields",
        ) from exc
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"{path.name} is not a text file",
            expected="UTF-8 CSV",
            got="binary content",
            fix="pass the right format (e.g. format='spc')",
        ) from exc


def _check_complete_rows(
    path: Path, df: pd.DataFrame, spectral: list, skip: int, n_fields: int, sep: str
) -> None:
    """Refuse a truncated row (pandas pads it with NaN) naming its line and field count."""
    if spectral and df[spectral].isna().to_numpy().any():
        short = _find_short_row(path, skip + 1, n_fields, sep)
        if short is not None:
            raise FormatError(
                f"{path.name}: ragged rows",
                expected=f"{n_fields} fields per row (as in the header)",
                got=f"{short[1]} fields in line {short[0] + skip}",
                fix="repair the truncated row",
            )


def _wide_rows(path: Path, skip: int, layout: TableLayout, idx: list[int]):
    """Spectral values of each row of a wide table, one float64 row at a time."""
    sep, header = layout.sep, layout.header
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for number, row in enumerate(csv.reader(fh, delimiter=sep), start=1):
            if number <= skip + 1 or not row:
                continue
            if len(row) != len(header):
                raise FormatError(
                    f"{path.name}: ragged rows",
                    expected=f"{len(header)} fields per row (as in the header)",
                    got=f"{len(row)} fields in line {number}",
                    fix="repair the row",
                )
            text = np.array([row[i].strip() or "nan" for i in idx])
            if layout.decimal != ".":
                text = np.char.replace(text, layout.decimal, ".")
            try:
                yield text.astype(np.float64)
            except ValueError:
                bad = next(t for t in text if not _is_float(t))
                raise DataError(
                    f"{path.name}: non-numeric intensity in line {number}",
                    expected="numbers in every spectral column",
                    got=repr(str(bad)[:40]),
                    fix="repair the value or remove that row",
                ) from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_wide(path: Path, skip: int, layout: TableLayout, stored, options: dict):
    """A table with thousands of columns, read without one pandas column per point.

    pandas keeps several kilobytes per column; a 1 MB file of 90,000 points would take
    hundreds of megabytes. Metadata columns still go through pandas (their types).
    """
    spectral, meta_cols, axis = split_table_columns(layout.header)
    wanted = set(spectral)
    idx = [i for i, h in enumerate(layout.header) if h in wanted]
    rows = list(_wide_rows(path, skip, layout, idx))
    if not rows:
        raise DataError(f"{path.name} has a header but no spectra", got="0 rows")
    meta = None
    if meta_cols:
        meta = pd.read_csv(path, sep=layout.sep, skiprows=skip, usecols=meta_cols,
                           decimal=layout.decimal)  # fmt: skip
    if meta is not None:
        meta, from_columns = _pop_axis_columns(meta, path)
        stored = from_columns or stored
    axis_options = merge_axis_options(stored, options)
    return Spectra(np.vstack(rows), axis, meta if meta is not None and len(meta.columns) else None,
                   **axis_options)  # fmt: skip


def _pop_axis_columns(df: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, dict | None]:
    """The table without its ``axis_unit``/``axis_kind``/... columns, and their values."""
    present = [c for c in _AXIS_COLUMNS.values() if c in df.columns]
    if not present:
        return df, None
    stored = {}
    for key, col in _AXIS_COLUMNS.items():
        if col not in df.columns:
            continue
        values = df[col].dropna().astype(str).unique()
        if len(values) > 1:
            raise FormatError(
                f"{path.name}: column {col} differs between rows",
                expected="one axis for the whole table",
                got=", ".join(values[:3]),
                fix="split the table by axis",
            )
        if len(values):
            stored[key] = values[0]
    return df.drop(columns=present), stored


def snap_rounded_axis(spectra: Spectra, names: list[str]) -> Spectra:
    """Rebuild an even grid that rounding in the header made look uneven.

    A header printed with ``d`` decimals places each point within half a unit of the last
    digit; when an even grid from the first to the last point fits every header value to that
    precision, that grid is the axis (uniformity is judged against the printed precision).
    """
    ax = spectra.axis
    if ax.n_points < 3 or ax.is_uniform:
        return spectra
    decimals = [len(n.strip().split(".")[1]) if "." in n else 0 for n in map(str, names)]
    if any(c in str(n).lower() for n in names for c in "e"):
        return spectra  # exponent notation: precision is relative, not fixed
    grid = np.linspace(ax.values[0], ax.values[-1], ax.n_points)
    if np.max(np.abs(grid - ax.values)) > 0.5 * 10.0 ** -max(decimals) * (1 + 1e-9):
        return spectra
    return Spectra(
        spectra.values, grid, spectra.meta, unit=ax.unit, kind=ax.kind,
        laser_wavelength=ax.laser_wavelength, allow_nan=True,
    )  # fmt: skip


def _nth_line(path: Path, n: int) -> str:
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for i, line in enumerate(fh):
            if i == n:
                return line.rstrip("\r\n")
    return ""


def table_frame(spectra: Spectra, *, unit_header: bool = True) -> pd.DataFrame:
    """The table layout of ``spectra``: metadata, then the axis columns, then the spectra.

    Parameters
    ----------
    spectra : Spectra
        Spectra of shape (n_spectra, n_points).
    unit_header : bool, default=True
        Add the ``axis_unit``/``axis_kind`` (and ``axis_laser_wavelength``) columns, constant
        over the rows, after the metadata.

    Returns
    -------
    pandas.DataFrame
        One row per spectrum; the spectral columns are named by their axis values.
    """
    df = spectra.to_pandas()
    if unit_header:
        clash = [c for c in _AXIS_COLUMNS.values() if c in spectra.meta.columns]
        if clash:
            raise FormatError(
                "metadata columns clash with the axis columns of the table layout",
                got=", ".join(clash),
                fix="rename them, or pass unit_header=False",
            )
        at = len(spectra.meta.columns)
        for key, value in reversed(list(axis_info(spectra.axis).items())):
            df.insert(at, _AXIS_COLUMNS[key], value)
    return df


@register_writer("csv", extensions=(".csv", ".tsv", ".txt"))
def write_csv(
    spectra: Spectra, path: Path, *, sep: str | None = None, unit_header: bool = True
) -> None:
    """Write the table format, tab-separated for ``.tsv``.

    The axis unit/kind go in columns ``axis_unit``/``axis_kind`` (and
    ``axis_laser_wavelength``) after the metadata, so that any CSV reader (plain
    ``pandas.read_csv`` too) sees one header row and one row per spectrum; pass
    ``unit_header=False`` to leave them out.
    """
    sep = sep or _default_sep(path)
    df = table_frame(spectra, unit_header=unit_header)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, sep=sep, index=False)
