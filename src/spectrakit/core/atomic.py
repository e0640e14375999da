"""Atomic output that never destroys data spectrakit did not write.

* :func:`atomic_path` writes a file through a temporary sibling renamed over the target.
* :func:`atomic_dir` builds a folder in a temporary sibling and swaps it in when complete.
  An existing folder is replaced only when it is empty or recognised as an earlier output
  of the same kind (a model bundle by default); a file or any other folder is refused with
  a :class:`~spectrakit.errors.ConfigError` unless overwriting is allowed explicitly
  (``overwrite=True`` or inside :func:`overwrite_allowed`). An existing bundle stays in
  place until the new one is complete; the swap is one ``renameat2`` exchange on Linux.
* Temporaries are named ``.<name>.spectrakit-tmp-<host>-<pid>-*``; folders also hold a
  marker file. A later write to the same path removes the temporaries of a process that
  is gone -- those, and only those.
* Outputs get the permissions a plain ``open()``/``mkdir()`` would give
  (``0666 & ~umask`` files, ``0777 & ~umask`` folders; a replaced file keeps its mode),
  not the private ``0600``/``0700`` of :mod:`tempfile`.
* An error raised while writing names the user's path, never the hidden temporary one.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import fnmatch
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from spectrakit.core.errors import ConfigError, SpectraError

__all__ = [
    "atomic_dir",
    "atomic_path",
    "check_output_dir",
    "check_output_file",
    "clean_stale",
    "is_bundle_dir",
    "overwrite_allowed",
    "owned_by",
    "register_bundle_test",
    "umask",
]

TMP_TAG = ".spectrakit-tmp-"
MARKER = ".spectrakit-partial"
_OVERWRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("overwrite", default=False)
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


# ---------------------------------------------------------------------- policy
@contextlib.contextmanager
def overwrite_allowed(flag: bool = True) -> Iterator[None]:
    """Within the block, :func:`atomic_dir` and the checks replace what they would refuse.

    The command line enters it for ``--overwrite``; library code may pass ``overwrite=``.
    """
    token = _OVERWRITE.set(bool(flag))
    try:
        yield
    finally:
        _OVERWRITE.reset(token)


def _overwrite(flag: bool | None) -> bool:
    return _OVERWRITE.get() if flag is None else bool(flag)


def umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    old = os.umask(0o022)
    os.umask(old)
    return old


#: tests recognising a folder as an earlier model bundle, registered by the bundle package
#: (the core reads no bundle format; see :func:`register_bundle_test`)
_BUNDLE_TESTS: list[Callable[[Path], bool]] = []


def register_bundle_test(test: Callable[[Path], bool]) -> Callable[[Path], bool]:
    """Register ``test`` as the recogniser of model bundle folders (used by the bundle package).

    :func:`is_bundle_dir`, the default ``replaceable`` test of :func:`atomic_dir` and
    :func:`check_output_dir`, asks the registered tests. Registering the same test twice
    keeps one.
    """
    if test not in _BUNDLE_TESTS:
        _BUNDLE_TESTS.append(test)
    return test


def is_bundle_dir(path: str | os.PathLike) -> bool:
    """True for a folder that holds exactly a spectrakit bundle (its config + recorded files).

    A bundle folder holding anything else (a user's notes) is not one: replacing it would
    lose that file. The bundle package (:func:`spectrakit.bundle.config.is_bundle_dir`)
    recognises it; before that package is imported no folder is recognised, so the default
    is to refuse, never to replace.
    """
    return any(test(Path(path)) for test in _BUNDLE_TESTS)


def owned_by(*patterns: str) -> Callable[[Path], bool]:
    """A ``replaceable`` test: every entry of the folder matches one of the glob ``patterns``.

    Examples
    --------
    >>> is_report = owned_by("metrics.json", "report.html", "figures")
    """

    def test(path: Path) -> bool:
        return all(any(fnmatch.fnmatchcase(e.name, p) for p in patterns) for e in path.iterdir())

    return test


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _describe(path: Path) -> str:
    if path.is_symlink():
        return "a symbolic link"
    if path.is_dir():
        entries = sorted(e.name for e in path.iterdir())
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        return f"a folder holding {len(entries)} entries ({shown})"
    return "an existing file"


def check_output_file(path: str | os.PathLike, *, overwrite: bool | None = None) -> Path:
    """Refuse an output file path that holds a folder, or a file unless overwriting.

    Raises
    ------
    ConfigError
        ``path`` is a folder, or an existing file and overwriting is not allowed.
    """
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise ConfigError(
            f"output {path} is a folder",
            expected="a file name",
            got=_describe(path),
            fix="give a file path such as out.csv",
        )
    if _exists(path) and not _overwrite(overwrite):
        raise ConfigError(
            f"output {path} already exists",
            expected="a new path",
            got=_describe(path),
            fix="choose another path, or pass --overwrite to replace it",
        )
    return path


def _refuse_working_folder(path: Path) -> None:
    here = Path.cwd().resolve()
    real = path.resolve()
    if real == here or real in here.parents:
        raise ConfigError(
            f"output folder {path} is the working folder or one of its parents",
            expected="a new folder name",
            got=str(path),
            fix="give a new folder such as --out model-dir",
        )


def check_output_dir(
    path: str | os.PathLike,
    *,
    overwrite: bool | None = None,
    replaceable: Callable[[Path], bool] | None = is_bundle_dir,
    what: str = "a model bundle",
) -> Path:
    """Refuse an output folder path that holds data this output would destroy.

    An absent path, an empty folder and a folder ``replaceable`` recognises as an earlier
    output of the same kind are accepted; a file or any other folder needs overwriting.
    The working folder and its parents are always refused.

    Raises
    ------
    ConfigError
        When writing ``path`` would destroy data spectrakit did not write.
    """
    path = Path(path)
    if not _exists(path):
        return path
    _refuse_working_folder(path)
    real_dir = path.is_dir() and not path.is_symlink()
    if real_dir and (not any(path.iterdir()) or (replaceable is not None and replaceable(path))):
        return path
    if not _overwrite(overwrite):
        raise ConfigError(
            f"output {path} already exists and is not {what}",
            expected=f"a new or empty folder, or {what} to replace",
            got=_describe(path),
            fix="choose another path, or pass --overwrite to replace it",
        )
    return path


# ---------------------------------------------------------------------- temporaries
def _host() -> str:
    import socket

    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"


def _tmp_prefix(target: Path) -> str:
    return f".{target.name}{TMP_TAG}{_host()}-{os.getpid()}-"


_TMP_NAME = re.compile(re.escape(TMP_TAG) + r"(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-")


def _owner_gone(name: str) -> bool:
    """True when the temporary ``name`` was made on this host by a process that is gone."""
    match = _TMP_NAME.search(name)
    if match is None or match["host"] != _host():
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def _marker_text(folder: Path) -> str:
    match = _TMP_NAME.search(folder.name)
    return f"{match['pid'] if match else '?'} {_host()}\n"


def _marked(folder: Path) -> bool:
    try:
        return (folder / MARKER).read_text(encoding="utf-8") == _marker_text(folder)
    except (OSError, UnicodeError):
        return False


def _mark(folder: Path) -> None:
    (folder / MARKER).write_text(_marker_text(folder), encoding="utf-8")


def clean_stale(target: str | os.PathLike) -> list[Path]:
    """Remove the temporaries of ``target`` left by a killed spectrakit process.

    Only entries named like our temporaries, made on this host by a process that no longer
    runs, are removed; a folder must also hold our marker file.

    Returns
    -------
    list of Path
        What was removed.
    """
    target = Path(target)
    removed = []
    with contextlib.suppress(OSError):
        for entry in target.parent.glob(f".{_glob_escape(target.name)}{TMP_TAG}*"):
            if entry.is_symlink() or not _owner_gone(entry.name):
                continue
            if entry.is_dir() and _marked(entry):
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.is_file():
                entry.unlink()
            else:
                continue
            removed.append(entry)
    return removed


def _glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where unsupported."""
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _swap_in(tmp: Path, target: Path) -> None:
    """Move the finished ``tmp`` to ``target``; the old target survives until then."""
    if not _exists(target):
        os.replace(tmp, target)
        return
    if _exchange(tmp, target):  # tmp now holds the old content: ours to remove
        _mark(tmp)  # a crash while removing it leaves a temporary the next write removes
        _remove(tmp)
        return
    old = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target), dir=target.parent))
    old.rmdir()
    os.replace(target, old)
    os.replace(tmp, target)
    _remove(old)


def _user_path(exc: BaseException, tmp: Path, target: Path) -> None:
    """Rewrite ``exc`` so that it names ``target`` instead of the hidden ``tmp``."""
    hidden, shown = str(tmp), str(target)

    def fix(value: object) -> object:
        return value.replace(hidden, shown) if isinstance(value, str) else value

    if isinstance(exc, OSError):
        for attr in ("filename", "filename2"):
            setattr(exc, attr, fix(getattr(exc, attr, None)))
    if isinstance(exc, SpectraError):
        for attr in ("message", "expected", "got", "fix"):
            setattr(exc, attr, fix(getattr(exc, attr)))
        exc.args = (exc._format(),)
    else:
        exc.args = tuple(fix(a) for a in exc.args)


def _file_mode(target: Path) -> int:
    with contextlib.suppress(OSError):
        if target.is_file():
            return stat.S_IMODE(target.stat().st_mode)
    return 0o666 & ~umask()


# ---------------------------------------------------------------------- writers
@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    On any exception the temporary file is removed and ``path`` is left untouched, so a
    reader never sees a half-written file. The file gets the mode of the file it replaces,
    or ``0666 & ~umask``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    target = Path(path)
    if target.is_dir() and not target.is_symlink():
        check_output_file(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    fd, name = tempfile.mkstemp(
        prefix=_tmp_prefix(target), suffix=suffix or target.suffix or ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        os.chmod(tmp, _file_mode(target))
        yield tmp
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        _user_path(exc, tmp, target)
        raise


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike,
    *,
    overwrite: bool | None = None,
    replaceable: Callable[[Path], bool] | None = is_bundle_dir,
    what: str = "a model bundle",
) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : path-like
        The output folder.
    overwrite : bool, optional
        Replace a file or a folder that is not ``replaceable``; default: refuse, unless
        inside :func:`overwrite_allowed`.
    replaceable : callable, optional
        Recognises a folder as an earlier output that may be replaced (default: a bundle).
    what : str, default="a model bundle"
        The kind of output, for the error message.

    Raises
    ------
    ConfigError
        When ``path`` holds data that this output would destroy.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(target) as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> sorted(p.name for p in target.iterdir())
    ['a.txt']
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    policy = {"overwrite": overwrite, "replaceable": replaceable, "what": what}
    check_output_dir(target, **policy)
    tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(target), dir=target.parent))
    try:
        _mark(tmp)
        os.chmod(tmp, 0o777 & ~umask())
        yield tmp
        (tmp / MARKER).unlink()
        check_output_dir(target, **policy)  # changed while we wrote?
        _swap_in(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _user_path(exc, tmp, target)
        raise
