"""The table format as CSV: one row per spectrum, numeric column names are the axis."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit.core.errors import AxisError, FormatError
from spectrakit.core.spectra import Spectra, split_table_columns
from spectrakit.io._axis_info import merge_axis_options, parse_axis_comment, render_axis_comment
from spectrakit.io._registry import register_format, register_writer


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
        header = next(csv.reader([line], delimiter=_default_sep(path)))
    except (csv.Error, StopIteration):
        return False
    spectral, meta, _ = split_table_columns(header)
    # Two columns, both numeric or both names, is the long (axis, intensity) layout.
    return bool(spectral) and not (len(header) == 2 and (not meta or not spectral))


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
def read_csv(path: Path, *, unit=None, kind=None, laser_wavelength=None, sep=None):
    """Read a table-format CSV (``sep`` defaults to comma, tab for ``.tsv``)."""
    first = _first_line(path)
    stored = parse_axis_comment(first)
    skip = 1 if stored is not None else 0
    sep = sep or _default_sep(path)
    header = next(csv.reader([_nth_line(path, skip)], delimiter=sep), [])
    spectral, _, axis_values = split_table_columns(header)
    if len(set(axis_values.tolist())) != len(axis_values):
        vals, counts = np.unique(axis_values, return_counts=True)
        raise AxisError(
            f"{path.name}: duplicate axis columns",
            expected="each axis position once in the header",
            got=f"{vals[counts > 1][0]:g} appears {counts[counts > 1][0]} times",
            fix="average or drop the duplicated columns",
        )
    try:
        df = pd.read_csv(path, sep=sep, skiprows=skip)
    except pd.errors.EmptyDataError as exc:
        raise FormatError(f"{path.name} is empty", expected="a header row and spectra") from exc
    except pd.errors.ParserError as exc:
        found = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(exc))
        raise FormatError(
            f"{path.name}: ragged rows",
            expected=f"{len(header)} fields per row (as in the header)",
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
    if spectral and df[spectral].isna().to_numpy().any():
        short = _find_short_row(path, skip + 1, len(header), sep)
        if short is not None:
            raise FormatError(
                f"{path.name}: ragged rows",
                expected=f"{len(header)} fields per row (as in the header)",
                got=f"{short[1]} fields in line {short[0] + skip}",
                fix="repair the truncated row",
            )
    return Spectra.from_pandas(
        df,
        source=path.name,
        **merge_axis_options(
            stored, {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
        ),
    )


def _nth_line(path: Path, n: int) -> str:
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for i, line in enumerate(fh):
            if i == n:
                return line.rstrip("\r\n")
    return ""


@register_writer("csv", extensions=(".csv", ".tsv", ".txt"))
def write_csv(
    spectra: Spectra, path: Path, *, sep: str | None = None, unit_header: bool = True
) -> None:
    """Write the table format, tab-separated for ``.tsv``.

    The first line records unit/kind unless ``unit_header=False``.
    """
    sep = sep or _default_sep(path)
    df = spectra.to_pandas()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if unit_header:
            fh.write(render_axis_comment(spectra.axis) + "\n")
        df.to_csv(fh, sep=sep, index=False)
