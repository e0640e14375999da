"""A corpus on disk as a lazy, row-chunked ``dask.array``: Zarr, HDF5 or Parquet.

Layouts (the spectrakit table format in each container):

- Zarr: a group with ``values`` (n, p) and ``axis`` (p,) arrays, the axis attributes
  (``unit``, ``kind``, ``laser_wavelength``) on the group and optional 1-D ``meta/<column>``
  arrays;
- HDF5: what :func:`spectrakit.write` writes to ``.h5`` (``values``, ``axis``, ``meta``);
- Parquet: what :func:`spectrakit.write` writes to ``.parquet`` (one row group is one chunk).

Workers read their own rows from the file (the path must be visible to them: a shared file
system), so no spectrum passes through the scheduler or the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError, FormatError
from spectrakit.io import merge_axis_options

__all__ = ["Corpus", "open_corpus"]

_KINDS = {".zarr": "zarr", ".h5": "hdf5", ".hdf5": "hdf5", ".hdf": "hdf5"}
_KINDS.update({".parquet": "parquet", ".pq": "parquet"})


@dataclass
class Corpus:
    """Values as a dask array of row chunks, with the axis and the metadata table.

    Attributes
    ----------
    path : Path
    kind : {"zarr", "hdf5", "parquet"}
    values : dask.array.Array of shape (n, p)
    axis : SpectralAxis
    meta : DataFrame of n rows (possibly without columns)
    """

    path: Path
    kind: str
    values: Any
    axis: SpectralAxis
    meta: pd.DataFrame

    @property
    def row_chunks(self) -> tuple[int, ...]:
        """Rows of every chunk, in order."""
        return tuple(int(c) for c in self.values.chunks[0])


class _H5Rows:
    """Picklable row-slice access to an HDF5 dataset (each read opens the file)."""

    def __init__(self, path: str, name: str, shape: tuple[int, ...], dtype: Any) -> None:
        self.path, self.name, self.shape, self.dtype = path, name, shape, np.dtype(dtype)
        self.ndim = len(shape)

    def __getitem__(self, key: Any) -> np.ndarray:
        import h5py

        with h5py.File(self.path, "r") as fh:
            return np.asarray(fh[self.name][key])


def _read_row_group(path: str, group: int, columns: list[str]) -> np.ndarray:
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read_row_group(group, columns=columns)
    return np.column_stack([table.column(c).to_numpy() for c in columns]).astype(np.float64)


def _axis(values: np.ndarray, attrs: dict[str, Any]) -> SpectralAxis:
    opts = merge_axis_options({k: str(v) for k, v in attrs.items()}, {})
    opts.pop("allow_nan", None)
    return SpectralAxis(np.asarray(values, dtype=np.float64), **opts)


def _open_zarr(path: Path, rows: int | None) -> Corpus:
    import dask.array as da
    import zarr

    group = zarr.open_group(str(path), mode="r")
    if "values" not in group or "axis" not in group:
        raise FormatError(
            f"{path.name} is not a spectra store",
            expected="a Zarr group with 'values' (n, p) and 'axis' (p,) arrays",
            got=", ".join(sorted(group.array_keys())) or "no arrays",
        )
    values = da.from_zarr(str(path), component="values")
    meta = {}
    if "meta" in group:
        meta = {k: np.asarray(v[:]) for k, v in group["meta"].arrays()}
    axis = _axis(np.asarray(group["axis"][:]), dict(group.attrs))
    return _finish(path, "zarr", values, axis, pd.DataFrame(meta), rows)


def _open_hdf5(path: Path, rows: int | None) -> Corpus:
    import dask.array as da
    import h5py

    with h5py.File(path, "r") as fh:
        if "values" not in fh or "axis" not in fh:
            raise FormatError(f"{path.name} is not a spectra table", expected="'values', 'axis'")
        ds = fh["values"]
        proxy = _H5Rows(str(path), "values", ds.shape, ds.dtype)
        default = ds.chunks[0] if ds.chunks else 65536
        axis = _axis(fh["axis"][:], dict(fh.attrs))
        meta = {}
        if "meta" in fh:
            for name in fh["meta"].attrs.get("columns", list(fh["meta"])):
                col = fh["meta"][str(name)][:]
                meta[str(name)] = col.astype(str) if col.dtype.kind in "OS" else col
    values = da.from_array(proxy, chunks=(rows or default, ds.shape[1]), lock=False)
    return _finish(path, "hdf5", values, axis, pd.DataFrame(meta), None)


def _open_parquet(path: Path, rows: int | None) -> Corpus:
    import dask.array as da
    import pyarrow.parquet as pq
    from dask import delayed

    from spectrakit.core.spectra import split_table_columns
    from spectrakit.io.formats.parquet_table import schema_axis_options as _axis_options

    source = pq.ParquetFile(path)
    names = source.schema_arrow.names
    spectral, meta_cols, axis_values = split_table_columns(names)
    if not spectral:
        raise FormatError(f"{path.name} has no spectral columns", expected="numeric names")
    stored = _axis_options(source.schema_arrow, {})
    blocks = [
        da.from_delayed(
            delayed(_read_row_group)(str(path), g, list(spectral)),
            shape=(source.metadata.row_group(g).num_rows, len(spectral)),
            dtype=np.float64,
        )
        for g in range(source.num_row_groups)
    ]
    values = da.concatenate(blocks, axis=0)
    meta = source.read(columns=list(meta_cols)).to_pandas() if meta_cols else pd.DataFrame()
    axis = SpectralAxis(axis_values, **{k: v for k, v in stored.items() if k != "allow_nan"})
    return _finish(path, "parquet", values, axis, meta, rows)


def _finish(path, kind, values, axis, meta, rows) -> Corpus:
    if values.ndim != 2 or values.shape[1] != axis.n_points:
        raise DataError(
            f"{path.name}: values and axis do not match",
            expected=f"(n, {axis.n_points})",
            got=str(values.shape),
        )
    if rows is not None:
        values = values.rechunk((int(rows), values.shape[1]))
    if len(meta.columns) and len(meta) != values.shape[0]:
        raise DataError(f"{path.name}: metadata rows", expected=values.shape[0], got=len(meta))
    return Corpus(Path(path), kind, values, axis, meta.reset_index(drop=True))


def open_corpus(path: str | Path, rows: int | None = None) -> Corpus:
    """Open ``path`` lazily; ``rows`` re-chunks it to that many spectra per task.

    Parameters
    ----------
    path : str or Path
        ``.zarr`` directory, ``.h5``/``.hdf5`` file or ``.parquet`` file.
    rows : int, optional
        Spectra per chunk (default: the file's own chunks / row groups).
    """
    path = Path(path)
    kind = _KINDS.get(path.suffix.lower())
    if kind is None:
        raise FormatError(
            f"cannot map over {path.name}",
            expected="a .zarr, .h5/.hdf5 or .parquet corpus",
            got=path.suffix or "no extension",
            fix="convert it first: spectrakit convert in.csv corpus.parquet",
        )
    if not path.exists():
        raise FormatError(f"{path} does not exist", expected="an existing corpus")
    if rows is not None and int(rows) < 1:
        raise DataError("invalid chunk size", expected="a positive number of spectra", got=rows)
    opener = {"zarr": _open_zarr, "hdf5": _open_hdf5, "parquet": _open_parquet}[kind]
    return opener(path, rows)
