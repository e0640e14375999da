"""The table format as HDF5: ``values`` (n x p), ``axis`` (p,) and a ``meta`` group of columns."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from spectrakit.core.errors import FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import axis_info, merge_axis_options
from spectrakit.io._registry import register_format, register_writer


@register_format("hdf5", extensions=(".h5", ".hdf5", ".hdf"), description="table format, HDF5")
def read_hdf5(path: Path, *, unit=None, kind=None, laser_wavelength=None, group: str = "/"):
    """Read spectra written by :func:`write_hdf5` (``values``, ``axis``, group ``meta``)."""
    try:
        fh = h5py.File(path, "r")
    except OSError as exc:
        raise FormatError(
            f"{path.name} is not a readable HDF5 file",
            got=str(exc)[:120],
            fix="check the file is complete (not truncated)",
        ) from exc
    with fh:
        if group not in fh:
            raise FormatError(f"{path.name}: no group {group!r}", expected="an existing group")
        g = fh[group]
        missing = [k for k in ("values", "axis") if k not in g]
        if missing:
            raise FormatError(
                f"{path.name}: missing dataset(s) {', '.join(missing)}",
                expected="datasets 'values' (n x p) and 'axis' (p)",
                got="keys " + ", ".join(g.keys()),
            )
        values = np.asarray(g["values"])
        axis = np.asarray(g["axis"])
        stored = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in g.attrs.items()}
        meta = {}
        if "meta" in g:
            order = [str(c) for c in g["meta"].attrs.get("columns", list(g["meta"].keys()))]
            for name in order:
                col = np.asarray(g["meta"][name])
                if col.dtype.kind in "SO":
                    col = np.array([c.decode() if isinstance(c, bytes) else c for c in col])
                meta[name] = col
    return Spectra(
        values,
        axis,
        pd.DataFrame(meta) if meta else None,
        **merge_axis_options(
            stored, {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
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
