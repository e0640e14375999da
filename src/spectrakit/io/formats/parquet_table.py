"""The table format as Apache Parquet (axis unit kept in the schema metadata)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import axis_info, merge_axis_options
from spectrakit.io._registry import register_format, register_writer

_KEY = b"spectrakit.core.axis"


@register_format("parquet", extensions=(".parquet", ".pq"), description="table format, Parquet")
def read_parquet(path: Path, *, unit=None, kind=None, laser_wavelength=None):
    """Read a table-format Parquet file."""
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FormatError(
            f"{path.name} is not a readable Parquet file",
            got=str(exc).splitlines()[0][:120],
            fix="check the file is complete (not truncated) and really Parquet",
        ) from exc
    meta = table.schema.metadata or {}
    stored = json.loads(meta[_KEY]) if _KEY in meta else None
    return Spectra.from_pandas(
        table.to_pandas(),
        source=path.name,
        **merge_axis_options(
            stored, {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
        ),
    )


@register_writer("parquet", extensions=(".parquet", ".pq"))
def write_parquet(spectra: Spectra, path: Path) -> None:
    """Write a table-format Parquet file."""
    table = pa.Table.from_pandas(spectra.to_pandas(), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_KEY] = json.dumps(axis_info(spectra.axis)).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
