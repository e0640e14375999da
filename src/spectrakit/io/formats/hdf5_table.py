"""The table format as HDF5: ``values`` (n x p), ``axis`` (p,) and a ``meta`` group of columns.

libhdf5 can loop for minutes on a damaged file inside one native call, so the file is
decoded in a worker process under the read's time and memory bound
(:mod:`spectrakit.io._worker`), and every dataset's size is checked against the read budget
before it is read (gzip-compressed chunks may hold far more than the file size).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import pandas as pd

from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import axis_info, merge_axis_options
from spectrakit.io._registry import register_format, register_writer
from spectrakit.io._worker import run_native


@register_format("hdf5", extensions=(".h5", ".hdf5", ".hdf"), description="table format, HDF5")
def read_hdf5(path: Path, *, unit=None, kind=None, laser_wavelength=None, group: str = "/"):
    """Read spectra written by :func:`write_hdf5` (``values``, ``axis``, group ``meta``).

    Parameters
    ----------
    path : Path
        The file.
    unit, kind, laser_wavelength
        Override the stored axis attributes.
    group : str, default="/"
        Group holding the table.

    Returns
    -------
    Spectra
        Values of shape (n, p) with the ``meta`` columns.
    """
    raw = run_native("table", path, "HDF5", group)
    meta = raw["meta"]
    return Spectra(
        raw["values"],
        raw["axis"],
        pd.DataFrame(meta) if meta else None,
        **merge_axis_options(
            raw["attrs"], {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
        ),
    )


@register_writer("hdf5", extensions=(".h5", ".hdf5", ".hdf"))
def write_hdf5(spectra: Spectra, path: Path, *, compression: str | None = "gzip") -> None:
    """Write values, axis (with unit attributes) and metadata columns."""
    with h5py.File(path, "w") as fh:
        fh.create_dataset("values", data=spectra.values, compression=compression)
        fh.create_dataset("axis", data=spectra.axis.values)
        for k, v in axis_info(spectra.axis).items():
            fh.attrs[k] = v
        g = fh.create_group("meta")
        g.attrs["columns"] = [str(c) for c in spectra.meta.columns]
        for name in spectra.meta.columns:
            col = spectra.meta[name]
            if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
                g.create_dataset(str(name), data=col.to_numpy())
            else:
                data = col.astype(str).to_numpy().astype(object)
                g.create_dataset(str(name), data=data, dtype=h5py.string_dtype())
