"""NumPy arrays: ``.npy`` (a values matrix) and ``.npz`` (named arrays); never unpickled.

``.npz`` layout written and read: ``values`` (n, p), ``axis`` (p,), 0-d string arrays
``unit`` / ``kind`` and a 0-d float ``laser_wavelength``; every other array of length n is a
metadata column. Readers also accept the common names ``spectra``/``X`` for the values and
``wavenumbers``/``wavelengths`` for the axis.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from tokenize import TokenError
from typing import IO, Any

import numpy as np

from spectrakit.core.errors import DataError, FormatError
from spectrakit.core.spectra import Spectra
from spectrakit.io._axis_info import merge_axis_options
from spectrakit.io._limits import charge, check_count
from spectrakit.io._registry import register_format, register_writer

__all__ = ["read_npy", "read_npz", "write_npz"]

_VALUE_NAMES = ("values", "spectra", "X", "intensities", "data")
_AXIS_NAMES = ("axis", "wavenumbers", "wavenumber", "wavelengths", "wavelength", "raman_shift")
_AXIS_KEYS = ("unit", "kind", "laser_wavelength")
_UNIT_OF_NAME = {"wavenumbers": "cm-1", "wavenumber": "cm-1", "raman_shift": "cm-1"}


def _magic(path: Path) -> bytes:
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY" and not magic.startswith(b"PK"):
        raise FormatError(
            f"{path.name} is not a NumPy file",
            expected="a file written by numpy.save (.npy) or numpy.savez (.npz)",
            got=f"content starting with {magic!r}",
            fix="pass the right format (e.g. --format csv)",
        )
    return magic


def _load(path: Path) -> np.ndarray | dict[str, np.ndarray]:
    """The array of a ``.npy`` or the arrays of a ``.npz``, checked before any allocation."""
    if _magic(path).startswith(b"PK"):
        return _npz_arrays(path)
    with open(path, "rb") as fh:
        _array_header(fh, path, path.name, path.stat().st_size)
        fh.seek(0)
        try:
            return np.lib.format.read_array(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise _corrupt(path, exc) from exc


def _array_header(fh: IO[bytes], path: Path, member: str, size: int) -> None:
    """Refuse an array whose header promises more data than is stored, or Python objects.

    Checked before loading so a damaged header cannot make numpy allocate a huge array.
    """
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else None
        read_header = read_header or fmt.read_array_header_2_0
        shape, _, dtype = read_header(fh)
    except (ValueError, SyntaxError, TokenError, EOFError, TypeError, OverflowError) as exc:
        raise _corrupt(path, exc) from exc
    if dtype.hasobject:
        raise FormatError(
            f"{path.name}: {member} holds Python objects (pickled data)",
            expected="plain numeric/string arrays (never unpickled)",
            got=f"an object array ({dtype})",
            fix="save numeric arrays (np.save(..., arr.astype(float)))",
        )
    needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    available = size - fh.tell()
    if needed > available:
        raise FormatError(
            f"{path.name}: {member} is truncated",
            expected=f"{needed} bytes of data for shape {shape}",
            got=f"{available} bytes",
            fix="copy the complete file again",
        )
    charge(needed, member, path)


def _npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Arrays of a ``.npz``: members checked (names, sizes, dtypes) before decompression."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            check_count(len(infos), "archive members", path)
            charge(sum(i.file_size for i in infos), "the archive members", path)
            out = {}
            for info in infos:
                if not info.filename.endswith(".npy") or info.is_dir():
                    raise FormatError(
                        f"{path.name}: member {info.filename!r} is not a NumPy array",
                        expected="only .npy members (as numpy.savez writes)",
                        got=repr(info.filename),
                        fix="save the archive with numpy.savez / numpy.savez_compressed",
                    )
                with zf.open(info) as fh:
                    _array_header(fh, path, info.filename, info.file_size)
                with zf.open(info) as fh:
                    out[info.filename[:-4]] = np.lib.format.read_array(fh, allow_pickle=False)
            return out
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise _corrupt(path, exc) from exc


def _corrupt(path: Path, exc: BaseException) -> FormatError:
    return FormatError(
        f"{path.name} is not a readable NumPy file",
        got=(str(exc).splitlines() or [type(exc).__name__])[0][:120],
        fix="check the file is complete (not truncated) and was written by numpy.save/savez",
    )


def _as_matrix(arr: np.ndarray, path: Path, name: str) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise DataError(
            f"{path.name}: array {name!r} is not numeric",
            expected="a numeric array",
            got=f"dtype {arr.dtype}",
        )
    if arr.ndim == 1:
        return arr[None, :]
    if arr.ndim != 2:
        raise DataError(
            f"{path.name}: array {name!r} has {arr.ndim} dimensions",
            expected="(n_spectra, n_points) or (n_points,)",
            got=f"shape {arr.shape}",
            fix="reshape to 2D, e.g. arr.reshape(-1, arr.shape[-1])",
        )
    return arr


def _axis_from_option(axis: Any, path: Path) -> np.ndarray:
    if isinstance(axis, str | Path):
        p = Path(axis)
        if not p.is_absolute():
            p = path.parent / p
        if not p.exists():
            raise FormatError(f"axis file not found: {p.name}", fix="check the axis= path")
        return np.asarray(_load(p) if p.suffix == ".npy" else np.loadtxt(p), dtype=np.float64)
    return np.asarray(axis, dtype=np.float64)


def _check_axis_length(axis: np.ndarray, values: np.ndarray, path: Path, source: str) -> None:
    if axis.ndim != 1 or axis.size != values.shape[1]:
        raise DataError(
            f"{path.name}: axis from {source} does not match the spectra",
            expected=f"{values.shape[1]} axis values (one per column)",
            got=f"shape {axis.shape}",
            fix="pass the matching axis with axis=...",
        )


@register_format("npy", extensions=(".npy",), description="NumPy .npy matrix (n x p)")
def read_npy(
    path: Path,
    *,
    axis: Any = None,
    unit: str | None = None,
    kind: str | None = None,
    laser_wavelength=None,
) -> Spectra:
    """Read a ``.npy`` matrix of spectra (rows) with its axis.

    Parameters
    ----------
    path : Path
        The ``.npy`` file holding values of shape (n, p) or (p,).
    axis : array-like or path, optional
        Axis values (p,) or a path to them (``.npy`` or text). Without it the sibling file
        ``<stem>_axis.npy`` or ``axis.npy`` is used, else a channel axis 0..p-1.
    unit, kind, laser_wavelength
        Axis information (default ``arb``; ``channel`` for the channel axis).

    Returns
    -------
    Spectra
    """
    loaded = _load(path)
    if isinstance(loaded, dict):
        raise FormatError(
            f"{path.name} is a .npz archive, not a .npy array",
            expected="a single array written by numpy.save",
            got="arrays " + ", ".join(loaded),
            fix="pass format='npz'",
        )
    values = _as_matrix(loaded, path, path.name)
    source = "axis="
    if axis is None:
        for sibling in (path.with_name(f"{path.stem}_axis.npy"), path.with_name("axis.npy")):
            if sibling.exists() and sibling != path:
                axis, source = _axis_from_option(sibling, path), sibling.name
                break
    if axis is None:
        ax = np.arange(values.shape[1], dtype=np.float64)
        unit = unit or "channel"
    else:
        ax = _axis_from_option(axis, path)
        _check_axis_length(ax, values, path, source)
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    return Spectra(values, ax, **merge_axis_options(None, options))


def _pick(names: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in names), None)


def _scalar(arr: np.ndarray) -> str:
    return str(arr.item() if arr.ndim == 0 else arr.ravel()[0])


@register_format("npz", extensions=(".npz",), description="NumPy .npz: values, axis, unit, meta")
def read_npz(
    path: Path,
    *,
    values: str | None = None,
    axis: str | None = None,
    unit: str | None = None,
    kind: str | None = None,
    laser_wavelength=None,
) -> Spectra:
    """Read a ``.npz`` archive of named arrays.

    Parameters
    ----------
    path : Path
        The archive.
    values, axis : str, optional
        Names of the values (n, p) and axis (p,) arrays; guessed from common names.
    unit, kind, laser_wavelength
        Override the stored axis information.

    Returns
    -------
    Spectra
        Every other array of length n becomes a metadata column.
    """
    if not _magic(path).startswith(b"PK"):
        raise FormatError(
            f"{path.name} is not a .npz archive",
            expected="a zip archive written by numpy.savez",
            got="a single .npy array",
            fix="pass format='npy'",
        )
    arrays = _npz_arrays(path)
    names = list(arrays)
    vname = values or _pick(names, _VALUE_NAMES)
    if vname is None or vname not in arrays:
        raise FormatError(
            f"{path.name}: no spectra array",
            expected="an array named " + (repr(values) if values else " / ".join(_VALUE_NAMES)),
            got="arrays " + ", ".join(names),
            fix="pass values='<name>'",
        )
    mat = _as_matrix(arrays[vname], path, vname)
    aname = axis or _pick(names, _AXIS_NAMES)
    if aname is not None and aname not in arrays:
        raise FormatError(f"{path.name}: no array {aname!r}", got="arrays " + ", ".join(names))
    stored = {k: _scalar(arrays[k]) for k in _AXIS_KEYS if k in arrays and arrays[k].size == 1}
    ax = _npz_axis(arrays, aname, mat, path, stored)
    meta = _npz_meta(arrays, {vname, aname, *_AXIS_KEYS}, mat.shape[0])
    options = {"unit": unit, "kind": kind, "laser_wavelength": laser_wavelength}
    return Spectra(mat, ax, meta or None, **merge_axis_options(stored, options))


def _npz_axis(
    arrays: dict[str, np.ndarray],
    aname: str | None,
    mat: np.ndarray,
    path: Path,
    stored: dict[str, Any],
) -> np.ndarray:
    """The axis array ``aname`` (channel numbers without one); its unit is noted in ``stored``."""
    if aname is None:
        ax = np.arange(mat.shape[1], dtype=np.float64)
        stored.setdefault("unit", "channel")
    else:
        ax = np.asarray(arrays[aname], dtype=np.float64).ravel()
        _check_axis_length(ax, mat, path, f"array {aname!r}")
        if aname in _UNIT_OF_NAME:
            stored.setdefault("unit", _UNIT_OF_NAME[aname])
        elif aname.startswith("wavelength"):
            stored.setdefault("unit", "nm")
    return ax


def _npz_meta(arrays: dict[str, np.ndarray], skip: set, n: int) -> dict[str, np.ndarray]:
    """Every 1D array of length ``n`` not in ``skip``, as a metadata column (bytes as str)."""
    return {
        k: a.astype(str) if a.dtype.kind in "SU" else a
        for k, a in arrays.items()
        if k not in skip and a.ndim == 1 and a.shape[0] == n
    }


@register_writer("npz", extensions=(".npz",))
def write_npz(spectra: Spectra, path: Path, *, compress: bool = True) -> None:
    """Write ``values``, ``axis``, ``unit``, ``kind``, ``laser_wavelength`` and meta columns.

    Parameters
    ----------
    spectra : Spectra
        What to write.
    path : Path
        Output ``.npz``.
    compress : bool, default=True
        Deflate the members (as :func:`numpy.savez_compressed`).
    """
    reserved = {"values", "axis", *_AXIS_KEYS}
    clash = [c for c in map(str, spectra.meta.columns) if c in reserved]
    if clash:
        raise FormatError(
            "metadata column names clash with the .npz layout",
            expected="names other than " + ", ".join(sorted(reserved)),
            got=", ".join(clash),
            fix="rename those metadata columns",
        )
    arrays: dict[str, np.ndarray] = {
        "values": np.asarray(spectra.values),
        "axis": np.asarray(spectra.axis.values),
        "unit": np.array(spectra.axis.unit),
        "kind": np.array(str(spectra.axis.kind)),
    }
    if spectra.axis.laser_wavelength is not None:
        arrays["laser_wavelength"] = np.array(spectra.axis.laser_wavelength)
    for name in spectra.meta.columns:
        col = spectra.meta[name].to_numpy()
        arrays[str(name)] = col.astype(str) if col.dtype == object else col
    # The archive is written member by member (as numpy.savez does) so that pickling is
    # refused on every numpy version.
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, arr in arrays.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(arr), allow_pickle=False)
