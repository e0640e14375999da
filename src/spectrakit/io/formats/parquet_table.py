"""The table format as Apache Parquet (axis unit kept in the schema metadata)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.core.table_columns import axis_column_names, split_table_columns
from spectrakit.io._axis_info import axis_info, merge_axis_options
from spectrakit.io._limits import charge, check_count
from spectrakit.io._registry import register_format, register_writer

_KEY = b"spectrakit.core.axis"
_log = logging.getLogger(__name__)


def _unreadable(path: Path, exc: Exception) -> FormatError:
    return FormatError(
        f"{Path(path).name} is not a readable Parquet file",
        got=(str(exc).splitlines() or [type(exc).__name__])[0][:120],
        fix="check the file is complete (not truncated) and really Parquet",
    )


def _axis_options(schema: pa.Schema, options: dict[str, Any]) -> dict[str, Any]:
    meta = schema.metadata or {}
    stored = json.loads(meta[_KEY]) if _KEY in meta else None
    return merge_axis_options(stored, options)


#: the axis options stored in a Parquet schema, merged with the caller's
schema_axis_options = _axis_options


@register_format("parquet", extensions=(".parquet", ".pq"), description="table format, Parquet")
def read_parquet(path: Path, *, unit=None, kind=None, laser_wavelength=None):
    """Read a table-format Parquet file."""
    try:
        _check_size(pq.ParquetFile(path).metadata, path)
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from exc
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


def spectra_table(spectra: Spectra) -> pa.Table:
    """The table format as Arrow: metadata columns, then one float32 column per point.

    The intensity columns wrap a transposed copy of the block (no pandas frame).
    """
    names = axis_column_names(spectra.axis)
    overlap = set(map(str, spectra.meta.columns)) & set(names)
    if overlap:  # the error of Spectra.to_pandas
        return pa.Table.from_pandas(spectra.to_pandas(), preserve_index=False)
    columns = np.ascontiguousarray(np.asarray(spectra.values, dtype=np.float32).T)
    n = spectra.n_spectra
    arrays = [
        pa.Array.from_buffers(pa.float32(), n, [None, pa.py_buffer(columns[j])])
        for j in range(columns.shape[0])
    ]
    meta = pa.Table.from_pandas(spectra.meta.reset_index(drop=True), preserve_index=False)
    return pa.Table.from_arrays(list(meta.columns) + arrays, names=list(meta.column_names) + names)


def _write_options(spectra: Spectra) -> dict[str, Any]:
    """Writer options: dictionaries for metadata only (float noise does not repeat)."""
    return {"use_dictionary": [str(c) for c in spectra.meta.columns], "write_statistics": False}


@register_writer("parquet", extensions=(".parquet", ".pq"))
def write_parquet(spectra: Spectra, path: Path) -> None:
    """Write a table-format Parquet file."""
    table = pa.Table.from_pandas(spectra.to_pandas(), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_KEY] = json.dumps(axis_info(spectra.axis)).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def _batch_spectra(batch: pa.RecordBatch, name: str, options: dict[str, Any]) -> Spectra:
    """One record batch as Spectra: float columns straight to NumPy, metadata via pandas.

    Anything but plain float or integer spectral columns goes through
    :meth:`Spectra.from_pandas`, which words the errors.
    """
    spectral, meta, axis = split_table_columns(batch.schema.names)
    index = {col: i for i, col in enumerate(batch.schema.names)}
    columns = [batch.column(index[c]) for c in spectral]
    plain = (
        bool(columns)
        and len(batch) > 0
        and all(
            (pa.types.is_floating(c.type) or pa.types.is_integer(c.type)) and c.null_count == 0
            for c in columns
        )
    )
    if not plain or len(index) != len(batch.schema.names):
        return Spectra.from_pandas(batch.to_pandas(), source=name, **options)
    values = np.empty((len(batch), len(columns)), dtype=np.float32)
    for j, col in enumerate(columns):
        values[:, j] = col.to_numpy(zero_copy_only=False)
    table = pa.Table.from_batches([batch.select([index[c] for c in meta])]) if meta else None
    frame = table.to_pandas() if table is not None else pd.DataFrame(index=range(len(batch)))
    return Spectra(values, axis, frame.reset_index(drop=True), **options)


def iter_parquet(path: Path, block_size: int = 4096, **axis_options: Any) -> Iterator[Spectra]:
    """Read a table-format Parquet file block by block (``block_size`` rows at a time).

    Memory stays proportional to one block (and to one row group of the file), whatever
    the size of the file. Spectral columns go from Arrow to NumPy directly (no pandas frame
    of the intensities). Arrow's read-ahead buffering is off: with it, every row group
    read stays allocated until the file is closed.
    """
    try:
        source = pq.ParquetFile(path, pre_buffer=False)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable(path, exc) from exc
    options = _axis_options(source.schema_arrow, axis_options)
    for batch in source.iter_batches(batch_size=block_size):
        yield _batch_spectra(batch, Path(path).name, options)


def parquet_rows(path: Path) -> int | None:
    """Number of spectra in a Parquet file, from its footer (None when it cannot be read)."""
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (pa.ArrowException, OSError):
        return None


class ParquetBlockWriter:
    """Append Spectra blocks (same axis) to one table-format Parquet file at ``path``.

    Use as a context manager; ``path`` should be a temporary file that replaces the
    target on success (see :func:`spectrakit.io.atomic_path`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._writer: pq.ParquetWriter | None = None

    def write(self, spectra: Spectra) -> None:
        """Append one block (float32 intensity columns, no dictionary or statistics)."""
        table = spectra_table(spectra)
        if self._writer is None:
            meta = dict(table.schema.metadata or {})
            meta[_KEY] = json.dumps(axis_info(spectra.axis)).encode()
            schema = table.schema.with_metadata(meta)
            self._writer = pq.ParquetWriter(self.path, schema, **_write_options(spectra))
        self._writer.write_table(table.cast(self._writer.schema))

    def __enter__(self) -> ParquetBlockWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
