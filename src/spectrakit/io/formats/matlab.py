"""MATLAB ``.mat`` files: v4/v5/v7 through :func:`scipy.io.loadmat`, v7.3 (HDF5) through h5py.

Arrays are found by name (``values=``/``axis=`` options, else common names, else the only
2D matrix); fields of a struct are named ``struct.field``. A vector as long as one side of
the matrix is the axis; other vectors with one entry per spectrum become metadata columns.
The orientation (spectra in rows or in columns) follows from the axis length.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from spectrakit.core.errors import DataError, FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import merge_axis_options
from spectrakit.io._limits import charge
from spectrakit.io._registry import register_format, register_writer
from spectrakit.io._worker import run_native

__all__ = ["read_mat", "write_mat"]

_VALUE_NAMES = ("values", "spectra", "X", "data", "intensities", "absorbance", "Y")
_AXIS_NAMES = (
    "axis",
    "wavenumbers",
    "wavenumber",
    "wn",
    "raman_shift",
    "ramanshift",
    "wavelengths",
    "wavelength",
    "wl",
    "x_axis",
    "xaxis",
)
_AXIS_KEYS = ("unit", "kind", "laser_wavelength")
_V73 = b"MATLAB 7.3 MAT-file"
_MI_COMPRESSED = 15


def _text(value: Any) -> str | None:
    arr = np.asarray(value)
    if arr.dtype.kind == "U":
        return "".join(arr.ravel().tolist()).strip()
    if arr.dtype == object and arr.size == 1:
        return _text(arr.ravel()[0])
    return None


def _strings(value: np.ndarray) -> np.ndarray | None:
    """A cell array of strings or a char matrix as a 1D array of str (else None)."""
    if value.dtype == object:
        out = [_text(v) for v in value.ravel()]
        return None if any(o is None for o in out) else np.array(out)
    if value.dtype.kind == "U" and value.ndim == 2 and value.shape[0] > 1:
        return np.array(["".join(r).strip() for r in value.tolist()])
    if value.dtype.kind == "U" and value.ndim == 1 and value.size > 1:
        return value.astype(str)
    return None


def _load_v5(path: Path) -> dict[str, Any]:
    """Variables of a v4-v7 file: scipy decodes them in a worker interpreter.

    scipy's C decoder crashes the whole process on some damaged files (a fuzzed file made
    it fault), so it runs where a crash is one clear error.
    """
    _check_v5_size(path)
    raw = run_native("mat5", path, "MATLAB")
    out: dict[str, Any] = {}
    for k, v in raw.items():
        _flatten(k, v, out, depth=0)
    return out


def _flatten(name: str, value: Any, out: dict[str, Any], depth: int) -> None:
    """Put the fields of a (1x1) MATLAB struct in ``out`` as ``name.field``."""
    arr = np.asarray(value)
    if arr.dtype.names and arr.size == 1 and depth < 3:
        record = arr.ravel()[0]
        for field in arr.dtype.names:
            _flatten(f"{name}.{field}", record[field], out, depth + 1)
    elif not arr.dtype.names:
        out[name] = value


def _named(arrays: dict[str, Any], candidates: tuple[str, ...]) -> list[str]:
    """Variables (or struct fields) called like one of ``candidates``, top level first."""
    found = [c for c in candidates if c in arrays]
    found += [k for c in candidates for k in arrays if k.endswith("." + c)]
    return found


def _load_v73(path: Path) -> dict[str, Any]:
    """Variables of a v7.3 (HDF5) file, decoded in a worker under the read's bounds."""
    return run_native("mat73", path, "MATLAB v7.3")


def _check_v5_size(path: Path) -> None:
    """Charge every (decompressed) data element of a v5 file to the read budget.

    ``miCOMPRESSED`` elements are inflated in a stream that is discarded as it goes, so a
    small file of deflated zeros is refused before :func:`scipy.io.loadmat` inflates it.
    """
    with open(path, "rb") as fh:
        head = fh.read(128)
        if len(head) < 128 or head[126:128] not in (b"IM", b"MI"):
            return  # v4 (uncompressed) or damaged: loadmat decides
        order = "<" if head[126:128] == b"IM" else ">"
        while tag := fh.read(8):
            if len(tag) < 8:
                return
            mtype, nbytes = struct.unpack(order + "II", tag)
            if mtype & 0xFFFF0000:  # small data element: 4 bytes inside the tag
                continue
            if mtype != _MI_COMPRESSED:
                charge(nbytes, "a MATLAB data element", path)
                fh.seek(nbytes + (-nbytes % 8), 1)
                continue
            _charge_inflated(fh, nbytes, path)


def _charge_inflated(fh: IO[bytes], nbytes: int, path: Path) -> None:
    inflate = zlib.decompressobj()
    left = nbytes
    while left > 0 and not inflate.eof:
        chunk = fh.read(min(left, 1 << 16))
        if not chunk:
            return
        left -= len(chunk)
        data = inflate.decompress(chunk, 1 << 20)
        while data:
            charge(len(data), "a compressed MATLAB variable", path)
            data = inflate.decompress(inflate.unconsumed_tail, 1 << 20)
    fh.seek(left, 1)


def _is_v73(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(_V73)) == _V73


def _vector(arr: np.ndarray) -> np.ndarray | None:
    if arr.dtype.kind not in "biuf":
        return None
    if arr.ndim == 1 or (arr.ndim == 2 and 1 in arr.shape):
        return arr.ravel()
    return None


def _find_values(arrays: dict[str, Any], name: str | None, path: Path) -> str:
    if name is not None:
        if name not in arrays:
            raise FormatError(
                f"{path.name}: no variable {name!r}",
                expected="one of " + ", ".join(arrays),
                got=repr(name),
            )
        return name
    named = _named(arrays, _VALUE_NAMES)
    if named:
        return named[0]
    mats = [
        k
        for k, v in arrays.items()
        if np.asarray(v).dtype.kind in "biuf" and np.asarray(v).ndim == 2 and min(v.shape) > 1
    ]
    if len(mats) == 1:
        return mats[0]
    raise FormatError(
        f"{path.name}: cannot tell which variable holds the spectra",
        expected="a variable named " + "/".join(_VALUE_NAMES) + " or a single 2D matrix",
        got="variables " + ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items()),
        fix="pass values='<variable name>' (--format mat with the Python API)",
    )


@register_format("mat", extensions=(".mat",), description="MATLAB .mat (v5 and v7.3)")
def read_mat(
    path: Path,
    *,
    values: str | None = None,
    axis: str | None = None,
    unit: str | None = None,
    kind: str | None = None,
    laser_wavelength=None,
) -> Spectra:
    """Read spectra from a MATLAB ``.mat`` file.

    Parameters
    ----------
    path : Path
        The file (any MATLAB version; v7.3 is read as HDF5).
    values : str, optional
        Variable holding the spectra matrix; guessed when omitted.
    axis : str, optional
        Variable holding the axis; guessed when omitted (a channel axis if none fits).
    unit, kind, laser_wavelength
        Axis information (the writer stores ``unit``/``kind``/``laser_wavelength``).

    Returns
    -------
    Spectra
        Spectra of shape (n, p); n-long vectors and cell arrays of strings become metadata.
    """
    arrays = _load_v73(path) if _is_v73(path) else _load_v5(path)
    vname = _find_values(arrays, values, path)
    mat = _numeric_matrix(arrays[vname], vname, path)
    stored = _stored_axis_info(arrays)
    ax = _find_axis(arrays, axis, vname, mat, path)
    if ax is None:
        ax = np.arange(mat.shape[1], dtype=np.float64)
        stored.setdefault("unit", "channel")
    elif ax.size != mat.shape[1]:
        mat = mat.T
    skip = {vname, *_AXIS_KEYS} | ({axis} if axis is not None else set())
    meta = _meta_columns(arrays, skip, mat.shape[0], ax)
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    return Spectra(mat, ax, meta or None, **merge_axis_options(stored, options))


def _numeric_matrix(value: Any, vname: str, path: Path) -> np.ndarray:
    """The spectra variable as a 2D numeric matrix (a vector becomes one row)."""
    mat = np.asarray(value)
    if mat.dtype.kind not in "biuf" or mat.ndim > 2:
        raise DataError(
            f"{path.name}: variable {vname!r} is not a numeric matrix",
            expected="a 2D numeric matrix",
            got=f"{mat.dtype} of shape {mat.shape}",
        )
    return np.atleast_2d(mat)


def _stored_axis_info(arrays: dict[str, Any]) -> dict[str, str]:
    """``unit``/``kind``/``laser_wavelength`` as the writer stored them (non-empty only)."""
    stored = {k: _text(arrays[k]) for k in _AXIS_KEYS if k in arrays}
    if stored.get("laser_wavelength") is None and "laser_wavelength" in arrays:
        stored["laser_wavelength"] = str(float(np.asarray(arrays["laser_wavelength"]).ravel()[0]))
    return {k: v for k, v in stored.items() if v}


def _meta_columns(
    arrays: dict[str, Any], skip: set[str], n: int, ax: np.ndarray
) -> dict[str, np.ndarray]:
    """Every other n-long vector or cell array of strings, except a copy of the axis."""
    meta = {}
    for k, v in arrays.items():
        if k in skip:
            continue
        arr = np.asarray(v)
        col = _strings(arr)
        if col is None:
            col = _vector(arr)
        if col is not None and col.size == n and not _same(col, ax):
            meta[k] = col
    return meta


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype.kind in "biuf" and a.shape == b.shape and bool(np.array_equal(a, b))


def _find_axis(
    arrays: dict[str, Any], name: str | None, vname: str, mat: np.ndarray, path: Path
) -> np.ndarray | None:
    sides = set(mat.shape)
    if name is not None:
        if name not in arrays:
            raise FormatError(f"{path.name}: no variable {name!r}", got=", ".join(arrays))
        ax = _vector(np.asarray(arrays[name]))
        if ax is None or ax.size not in sides:
            raise DataError(
                f"{path.name}: axis variable {name!r} does not fit the spectra",
                expected=f"a vector of length {mat.shape[1]} (or {mat.shape[0]})",
                got=f"shape {np.shape(arrays[name])}",
            )
        return ax.astype(np.float64)
    named = _named(arrays, _AXIS_NAMES)
    others = [k for k in arrays if k not in named and k != vname and k not in _AXIS_KEYS]
    for k in named + others:
        ax = _vector(np.asarray(arrays[k]))
        if ax is None or ax.size not in sides or ax.size < 2:
            continue
        d = np.diff(ax.astype(np.float64))
        monotonic = bool(np.all(d > 0) or np.all(d < 0))
        # A named axis is trusted; an unnamed vector only when strictly monotonic and it
        # matches the longer side (a meta vector could have the length of the shorter one).
        if k in named or (monotonic and ax.size == max(sides) and mat.shape[0] != mat.shape[1]):
            return ax.astype(np.float64)
    return None


@register_writer("mat", extensions=(".mat",))
def write_mat(spectra: Spectra, path: Path) -> None:
    """Write ``values`` (n, p), ``axis`` (1, p), ``unit``, ``kind`` and metadata (MATLAB v5).

    Parameters
    ----------
    spectra : Spectra
        What to write.
    path : Path
        Output ``.mat``.
    """
    from scipy.io import savemat

    data: dict[str, Any] = {
        "values": np.asarray(spectra.values),
        "axis": np.asarray(spectra.axis.values)[None, :],
        "unit": spectra.axis.unit,
        "kind": str(spectra.axis.kind),
    }
    if spectra.axis.laser_wavelength is not None:
        data["laser_wavelength"] = float(spectra.axis.laser_wavelength)
    for name in spectra.meta.columns:
        key = str(name)
        if key in data or not key.isidentifier():
            raise FormatError(
                f"metadata column {key!r} cannot be a MATLAB variable",
                expected="a valid identifier not named values/axis/unit/kind",
                got=repr(key),
                fix="rename the column",
            )
        col = spectra.meta[name].to_numpy()
        if col.dtype.kind in "biuf":
            data[key] = col[:, None]
        else:
            cell = np.empty((col.size, 1), dtype=object)
            cell[:, 0] = [str(v) for v in col]
            data[key] = cell
    with open(path, "wb") as fh:
        savemat(fh, data, do_compression=True)
