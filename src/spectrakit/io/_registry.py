"""Format registry: a new file format is one module that registers a reader (and writer).

A reader is ``reader(path: Path, **options) -> Spectra | dict[str, Spectra]``; a dict holds
named blocks (instruments, OPUS data blocks, JCAMP blocks, ...). A writer is
``writer(spectra: Spectra, path: Path, **options) -> None`` and is always called on a
temporary path that replaces the target only on success (atomic output).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.atomic import atomic_dir, atomic_path
from spectrakit.core.errors import AxisError, FormatError, SpectraError
from spectrakit.core.registry import Registry
from spectrakit.core.spectra import Spectra
from spectrakit.io._limits import ReadLimits, reading, within_read
from spectrakit.io.meta_names import canonical_meta

__all__ = [
    "FORMATS",
    "Format",
    "available_formats",
    "read",
    "read_blocks",
    "register_format",
    "register_unread",
    "write",
    "writer_for",
]

Reader = Callable[..., "Spectra | dict[str, Spectra]"]
Writer = Callable[..., None]


@dataclass
class Format:
    """A registered file format."""

    name: str
    extensions: tuple[str, ...]
    description: str
    reader: Reader | None = None
    writer: Writer | None = None
    sniff: Callable[[Path], bool] | None = None
    directory: bool = False
    #: sniff priority: higher is tried first among formats sharing an extension.
    priority: int = 0
    options: dict[str, str] = field(default_factory=dict)
    #: for multi-block formats: name of the block :func:`read` returns (e.g. OPUS "AB").
    pick: Callable[[dict[str, Spectra]], str] | None = None


#: every file format by name; importing :mod:`spectrakit.io.formats` registers the built-ins.
FORMATS: Registry[Format] = Registry(
    "format",
    error=FormatError,
    key=lambda fmt: fmt.name,
    case_sensitive=False,
    modules=("spectrakit.io.formats",),
    hint="Omit format=... (--format) to let the extension choose",
)


def register_format(
    name: str,
    *,
    extensions: tuple[str, ...] = (),
    description: str = "",
    sniff: Callable[[Path], bool] | None = None,
    directory: bool = False,
    priority: int = 0,
    pick: Callable[[dict[str, Spectra]], str] | None = None,
) -> Callable[[Reader], Reader]:
    """Decorator registering ``reader`` under ``name``; returns the reader unchanged.

    Use ``register_format.writer(name)`` to register the matching writer.
    """

    def deco(reader: Reader) -> Reader:
        fmt = FORMATS.registered(name)
        if fmt is None:
            fmt = FORMATS.add(name, Format(name, tuple(e.lower() for e in extensions), description))
        reader = within_read(reader)
        fmt.reader = reader
        fmt.extensions = tuple(e.lower() for e in extensions) or fmt.extensions
        fmt.description = description or fmt.description
        fmt.sniff = sniff
        fmt.directory = directory
        fmt.priority = priority
        fmt.pick = pick
        return reader

    return deco


def register_writer(name: str, *, extensions: tuple[str, ...] = ()) -> Callable[[Writer], Writer]:
    """Decorator registering a writer for format ``name``."""

    def deco(writer: Writer) -> Writer:
        fmt = FORMATS.registered(name) or FORMATS.add(
            name, Format(name, tuple(e.lower() for e in extensions), "")
        )
        fmt.writer = writer
        if extensions and not fmt.extensions:
            fmt.extensions = tuple(e.lower() for e in extensions)
        return writer

    return deco


register_format.writer = register_writer  # type: ignore[attr-defined]

#: extensions of formats spectrakit knows of but does not decode: extension -> (what, fix)
_UNREAD: dict[str, tuple[str, str]] = {}


def register_unread(extensions: tuple[str, ...], what: str, fix: str) -> None:
    """Name formats that are refused with a specific fix instead of "unknown extension".

    Parameters
    ----------
    extensions : tuple of str
        File extensions, with the dot (``".xls"``).
    what : str
        What such a file is, for the message ("a binary Excel workbook").
    fix : str
        How to get a file spectrakit reads ("save it as .xlsx").
    """
    for ext in extensions:
        _UNREAD[ext.lower()] = (what, fix)


def available_formats() -> dict[str, Format]:
    """All registered formats by name (readers and writers)."""
    return dict(FORMATS)


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for ext in sorted({e for f in FORMATS.values() for e in f.extensions}, key=len, reverse=True):
        if name.endswith(ext):
            return ext
    return path.suffix.lower()


def _known_extensions() -> str:
    return ", ".join(sorted({e for f in FORMATS.values() for e in f.extensions}))


def writer_for(path: str | os.PathLike, format: str | None = None) -> Format:
    """The format :func:`write` would use for ``path``; raises before anything is written.

    Raises
    ------
    FormatError
        When no writer exists for ``format`` or for the extension of ``path``.
    """
    return _resolve(Path(path), format, for_writing=True)


def _resolve(path: Path, format: str | None, *, for_writing: bool) -> Format:
    if format is not None:
        fmt = FORMATS.lookup(format)
        if for_writing and fmt.writer is None:
            writable = sorted(n for n, f in FORMATS.items() if f.writer)
            raise FormatError(
                f"spectrakit cannot write {fmt.name} files",
                expected="one of " + ", ".join(writable),
                got=repr(format),
                fix="write the table format (.csv, .parquet, .h5) instead",
            )
        return fmt
    if not for_writing and path.is_dir():
        candidates = [f for f in FORMATS.values() if f.directory and f.reader]
    else:
        ext = _suffix(path)
        candidates = [
            f
            for f in FORMATS.values()
            if ext in f.extensions and not f.directory and (f.writer if for_writing else f.reader)
        ]
    candidates.sort(key=lambda f: -f.priority)
    if not for_writing:
        for fmt in candidates:
            if fmt.sniff is None or fmt.sniff(path):
                return fmt
        if candidates:
            raise FormatError(
                f"{path.name} does not look like any format for its extension",
                expected=" or ".join(f"{f.name} ({f.description})" for f in candidates),
                got="content that matches none of them",
                fix="check the file, or pass format=... (--format on the command line)",
            )
    elif candidates:
        return candidates[0]
    else:
        _refuse_read_only(path)
    ext = path.suffix.lower()
    if ext in _UNREAD and not path.is_dir():
        what, fix = _UNREAD[ext]
        raise FormatError(
            f"{path.name} is {what}, which spectrakit does not "
            + ("write" if for_writing else "read"),
            expected="a format spectrakit reads and writes, e.g. .xlsx or .csv",
            got=f"a {ext} file",
            fix=fix,
        )
    what = "folder" if path.is_dir() else f"extension {path.suffix or '(none)'!r}"
    raise FormatError(
        f"cannot tell the format of {path.name}",
        expected="a known extension: " + _known_extensions(),
        got=what,
        fix="rename the file or pass format=... (--format on the command line)",
    )


def _refuse_read_only(path: Path) -> None:
    """A known extension whose format spectrakit reads but cannot write."""
    ext = _suffix(path)
    readable = sorted(f.name for f in FORMATS.values() if ext in f.extensions and f.reader)
    if readable:
        writable = sorted(
            f"{n} ({', '.join(f.extensions)})" if f.extensions else n
            for n, f in FORMATS.items()
            if f.writer
        )
        raise FormatError(
            f"spectrakit has no {' / '.join(readable)} writer (it reads {ext} files only)",
            expected="an output in a writable format: " + "; ".join(writable),
            got=path.name,
            fix=f"write one of those formats instead, e.g. {path.with_suffix('.csv').name}",
        )


def read_blocks(
    path: str | os.PathLike,
    format: str | None = None,
    *,
    limits: ReadLimits | None = None,
    allow_nan: bool = False,
    **options: Any,
) -> dict:
    """Read every block of a file as ``{name: Spectra}``.

    Multi-block files (a Dig4Bio folder, OPUS data blocks, multi-block JCAMP-DX) keep their
    blocks separate because they may have different axes; single-block files return one
    entry named after the file.

    Parameters
    ----------
    path : str or path-like
        File or folder.
    format : str, optional
        Registered format name; guessed from extension and content when omitted.
    limits : ReadLimits, optional
        Decoding budget and time bound (default: :class:`ReadLimits` with the overrides of
        the ``SPECTRAKIT_READ_LIMITS`` environment variable).
    allow_nan : bool, default=False
        Keep NaN intensities (e.g. to count them) instead of refusing the file.
    **options
        Passed to the reader (e.g. ``unit="nm"``).

    Returns
    -------
    dict of str to Spectra
    """
    p = Path(path)
    if not p.exists():
        raise FormatError(
            f"no such file or folder: {p}", fix="check the path (relative to the current folder)"
        )
    if not p.is_dir() and p.stat().st_size == 0:
        raise FormatError(f"{p.name} is empty", expected="spectra", got="0 bytes")
    with reading(p, limits, allow_nan=allow_nan):
        fmt = _resolve(p, format, for_writing=False)
        assert fmt.reader is not None
        result = _call_reader(fmt, p, options)
    if isinstance(result, Spectra):
        result = {p.stem: result}
    if not result:
        raise FormatError(f"{p.name} holds no spectra", expected="at least one spectrum")
    return {name: _canonical(s) for name, s in result.items()}


def _canonical(spectra: Spectra) -> Spectra:
    """One metadata vocabulary whichever reader produced the block (``fold_idx`` -> ``fold``)."""
    meta = canonical_meta(spectra.meta)
    return spectra if meta is spectra.meta else spectra.with_meta(meta)


def _call_reader(fmt: Format, p: Path, options: dict[str, Any]) -> Any:
    """Run a reader; every failure comes out as one clear :class:`SpectraError`."""
    assert fmt.reader is not None
    try:
        return fmt.reader(p, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise FormatError(
                f"the {fmt.name} reader does not take that option",
                got=str(exc).split("got ")[-1],
            ) from exc
        raise _unreadable(p, fmt, exc) from exc
    except SpectraError as exc:
        if p.name in exc.message:
            raise
        # Name the file: "intensities contain NaN" alone does not say where.
        raise type(exc)(
            f"{p.name}: {exc.message}", expected=exc.expected, got=exc.got, fix=exc.fix
        ) from exc
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except RecursionError as exc:
        raise _unreadable(p, fmt, exc) from None
    except Exception as exc:
        # A damaged file makes the decoding libraries (zlib, h5py, pyarrow, numpy, scipy)
        # fail deep inside; the user needs to know the file is unreadable, not where it broke.
        raise _unreadable(p, fmt, exc) from exc


def _unreadable(p: Path, fmt: Format, exc: BaseException) -> FormatError:
    detail = (str(exc).splitlines() or [""])[0][:100]
    return FormatError(
        f"{p.name} is not a readable {fmt.name} file",
        got=f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__,
        fix="check the file is complete and undamaged (copy it again), "
        "or pass the right format (--format)",
    )


def read(path: str | os.PathLike, format: str | None = None, **options: Any) -> Spectra:
    """Read spectra from a file or folder in any registered format.

    Blocks with one shared axis are stacked (a ``block`` metadata column tells them apart);
    blocks with different axes raise :class:`~spectrakit.core.errors.AxisError` pointing to
    :func:`read_blocks` and :func:`spectrakit.combine`.

    Parameters
    ----------
    path : str or path-like
        File or folder.
    format : str, optional
        Registered format name (see :func:`available_formats`); guessed when omitted.
    **options
        Reader options, e.g. ``unit="nm"`` for tables without unit information, and
        ``limits=``/``allow_nan=`` as in :func:`read_blocks`.

    Returns
    -------
    Spectra

    Examples
    --------
    >>> import spectrakit as sk  # doctest: +SKIP
    >>> s = sk.read("spectra.csv")  # doctest: +SKIP
    """
    blocks = read_blocks(path, format, **options)
    if len(blocks) == 1:
        return next(iter(blocks.values()))
    pick = _resolve(Path(path), format, for_writing=False).pick
    if pick is not None:
        return blocks[pick(blocks)]
    items = list(blocks.items())
    first = items[0][1].axis
    if all(s.axis.allclose(first) for _, s in items):
        tagged = [s if "block" in s.meta.columns else s.assign(block=name) for name, s in items]
        return Spectra.concat(tagged)
    raise AxisError(
        f"{Path(path).name} holds {len(items)} blocks with different axes",
        expected="one shared axis",
        got="; ".join(f"{n}: {s.axis.describe()}" for n, s in items[:4]),
        fix="use spectrakit.read_blocks(path) and spectrakit.combine(list(blocks.values()))",
    )


def write(
    spectra: Spectra, path: str | os.PathLike, format: str | None = None, **options: Any
) -> Path:
    """Write spectra atomically (a failed write leaves no partial file).

    Parameters
    ----------
    spectra : Spectra
        What to write.
    path : str or path-like
        Output file (folder for folder formats).
    format : str, optional
        Registered format with a writer; guessed from the extension when omitted.
    **options
        Passed to the writer.

    Returns
    -------
    Path
        The written path.
    """
    if not isinstance(spectra, Spectra):
        raise FormatError("can only write Spectra", got=type(spectra).__name__)
    p = Path(path)
    fmt = _resolve(p, format, for_writing=True)
    assert fmt.writer is not None
    if fmt.directory:
        with atomic_dir(p) as tmp:
            fmt.writer(spectra, tmp, **options)
    else:
        with atomic_path(p) as tmp:
            fmt.writer(spectra, tmp, **options)
    return p


def check_rows_equal_length(rows: list[np.ndarray], source: str) -> None:
    """Raise a clear error when parsed rows differ in length (ragged text files)."""
    lengths = {r.size for r in rows}
    if len(lengths) > 1:
        expected = max(lengths, key=[r.size for r in rows].count)
        bad = next(i for i, r in enumerate(rows) if r.size != expected)
        raise FormatError(
            f"{source}: ragged rows",
            expected=f"{expected} values in every row",
            got=f"{rows[bad].size} values in row {bad + 1}",
            fix="repair the truncated or extra values",
        )
