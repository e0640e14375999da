"""The table format as Apache Parquet (axis unit kept in the schema metadata)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from spectrakit.errors import FormatError
from spectrakit.io._axis_info import axis_info, merge_axis_options
from spectrakit.io._limits import charge, check_count
from spectrakit.io._registry import register_format, register_writer
from spectrakit.spectra import Spectra

_KEY = b"spectrakit.axis"
_log = logging.getLogger(__name__)


@register_format("parquet", extensions=(".parquet", ".pq"), description="table format, Parquet")
def read_parquet(path: Path, *, unit=None, kind=None, laser_wavelength=None):
    """Read a table-format Parquet file."""
    try:
        _check_size(pq.ParquetFile(path).metadata, path)
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise FormatError(
            f"{path.name} is not a readable Parquet file",
            got=(str(exc).splitlines() or [type(exc).__name__])[0][:120],
            fix="check the file is complete (not truncated) and really Parquet",
        ) from exc
    meta = table.schema.metadata or {}
    try:
        stored = json.loads(meta[_KEY]) if _KEY in meta else None
    except ValueError:
        stored = None  # a damaged axis note: the unit falls back to "arb"
    if not isinstance(stored, dict):
        stored = None
    return Spectra.from_pandas(
        _to_pandas(table, path),
        source=path.name,
        **merge_axis_options(
            stored, {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
        ),
    )


def _check_size(meta: pq.FileMetaData, path: Path) -> None:
    """Charge rows x columns (8 bytes each, as decoded) before reading.

    Run-length and dictionary encoding let a few kilobytes declare millions of values.
    """
    check_count(meta.num_row_groups, "row groups", path)
    charge(8.0 * meta.num_rows * max(1, meta.num_columns), "the Parquet table", path)


def _to_pandas(table: pa.Table, path: Path) -> pd.DataFrame:
    """The table as pandas; pandas metadata naming an unknown dtype is ignored (logged)."""
    try:
        return table.to_pandas()
    except (TypeError, ValueError, KeyError, AttributeError, pa.ArrowException) as exc:
        _log.warning(
            "%s: ignoring its pandas metadata (%s: %s)", path.name, type(exc).__name__, exc
        )
    try:
        return table.to_pandas(ignore_metadata=True)
    except (TypeError, ValueError, pa.ArrowException) as exc:
        raise FormatError(
            f"{path.name}: columns cannot be converted to a table",
            got=f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:100]}",
            fix="write plain numeric/string columns",
        ) from exc


@register_writer("parquet", extensions=(".parquet", ".pq"))
def write_parquet(spectra: Spectra, path: Path) -> None:
    """Write a table-format Parquet file."""
    table = pa.Table.from_pandas(spectra.to_pandas(), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_KEY] = json.dumps(axis_info(spectra.axis)).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
