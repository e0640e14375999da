"""The table format as Apache Parquet (axis unit kept in the schema metadata)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from spectrakit.errors import FormatError
from spectrakit.io._axis_info import axis_info, merge_axis_options
from spectrakit.io._registry import register_format, register_writer
from spectrakit.spectra import Spectra

_KEY = b"spectrakit.axis"


def _unreadable(path: Path, exc: Exception) -> FormatError:
    return FormatError(
        f"{Path(path).name} is not a readable Parquet file",
        got=str(exc).splitlines()[0][:120],
        fix="check the file is complete (not truncated) and really Parquet",
    )


def _axis_options(schema: pa.Schema, options: dict[str, Any]) -> dict[str, Any]:
    meta = schema.metadata or {}
    stored = json.loads(meta[_KEY]) if _KEY in meta else None
    return merge_axis_options(stored, options)


@register_format("parquet", extensions=(".parquet", ".pq"), description="table format, Parquet")
def read_parquet(path: Path, *, unit=None, kind=None, laser_wavelength=None):
    """Read a table-format Parquet file."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(path, exc) from exc
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    return Spectra.from_pandas(
        table.to_pandas(), source=path.name, **_axis_options(table.schema, options)
    )


@register_writer("parquet", extensions=(".parquet", ".pq"))
def write_parquet(spectra: Spectra, path: Path) -> None:
    """Write a table-format Parquet file."""
    table = pa.Table.from_pandas(spectra.to_pandas(), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_KEY] = json.dumps(axis_info(spectra.axis)).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def iter_parquet(path: Path, block_size: int = 4096, **axis_options: Any) -> Iterator[Spectra]:
    """Read a table-format Parquet file block by block (``block_size`` rows at a time).

    Memory stays proportional to one block, whatever the size of the file.
    """
    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _unreadable(path, exc) from exc
    options = _axis_options(source.schema_arrow, axis_options)
    for batch in source.iter_batches(batch_size=block_size):
        yield Spectra.from_pandas(batch.to_pandas(), source=Path(path).name, **options)


class ParquetBlockWriter:
    """Append Spectra blocks (same axis) to one table-format Parquet file at ``path``.

    Use as a context manager; ``path`` should be a temporary file that replaces the
    target on success (see :func:`spectrakit.io.atomic_path`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._writer: pq.ParquetWriter | None = None

    def write(self, spectra: Spectra) -> None:
        """Append one block."""
        table = pa.Table.from_pandas(spectra.to_pandas(), preserve_index=False)
        if self._writer is None:
            meta = dict(table.schema.metadata or {})
            meta[_KEY] = json.dumps(axis_info(spectra.axis)).encode()
            schema = table.schema.with_metadata(meta)
            self._writer = pq.ParquetWriter(self.path, schema)
        self._writer.write_table(table.cast(self._writer.schema))

    def __enter__(self) -> ParquetBlockWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
