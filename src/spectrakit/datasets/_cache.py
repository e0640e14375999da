"""Download-once cache for public data sets: checksummed, atomic, resumable.

Files live in ``$SPECTRAKIT_DATA/<dataset>/`` (default ``~/.cache/spectrakit``). A download
goes to ``<name>.part`` and is renamed only after its SHA-256 matches, so a reader never
sees a partial file; an interrupted download resumes from the ``.part`` file where the
server supports HTTP ranges, and a per-file lock makes concurrent processes (e.g. one per
GPU) download it once. Files without a published checksum are pinned on first
download (the digest is stored next to them and checked on every later use).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from spectrakit.core.errors import DataError
from spectrakit.core.hashing import sha256_file as file_sha256  # its name here
from spectrakit.core.progress import progress

__all__ = [
    "RemoteDataset",
    "RemoteFile",
    "data_home",
    "fetch",
    "fetch_file",
    "file_sha256",
]

_BLOCK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One file of a public data set.

    Parameters
    ----------
    name : str
        File name in the cache folder.
    url : str or None
        Where to download it (``http(s)://`` or ``file://``); ``None`` when it can only be
        downloaded by hand (e.g. behind a login).
    sha256 : str, optional
        Published checksum; ``None`` pins the digest of the first download.
    unpack : bool, default=False
        The file is a zip archive to extract into the data set folder.
    """

    name: str
    url: str | None
    sha256: str | None = None
    unpack: bool = False


@dataclass(frozen=True)
class RemoteDataset:
    """A public data set: its files and where a person can get it."""

    name: str
    files: tuple[RemoteFile, ...]
    homepage: str
    description: str = ""
    citation: str = ""
    expected: tuple[str, ...] = field(default_factory=tuple)  # files present once unpacked


def data_home(path: str | os.PathLike | None = None) -> Path:
    """The cache root: ``path``, else ``$SPECTRAKIT_DATA``, else ``~/.cache/spectrakit``."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get("SPECTRAKIT_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "spectrakit"


def _pin_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _expected_digest(remote: RemoteFile, target: Path) -> str | None:
    if remote.sha256:
        return remote.sha256.lower()
    pin = _pin_path(target)
    return pin.read_text(encoding="utf-8").strip() if pin.exists() else None


def _verified(remote: RemoteFile, target: Path) -> bool:
    """Whether the cached file exists and matches its checksum (a mismatch deletes it)."""
    if not target.exists():
        return False
    expected = _expected_digest(remote, target)
    if expected is None or file_sha256(target) == expected:
        return True
    target.unlink()
    return False


def fetch_file(
    remote: RemoteFile,
    folder: str | os.PathLike,
    *,
    dataset: str = "",
    homepage: str = "",
    timeout: float = 30.0,
) -> Path:
    """Return the verified local copy of ``remote`` in ``folder``, downloading it if needed.

    Parameters
    ----------
    remote : RemoteFile
    folder : path-like
        Cache folder of the data set.
    dataset, homepage : str
        Used in error messages.
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    Path
        The file, whose SHA-256 matches ``remote.sha256`` (or its pinned digest).

    Raises
    ------
    DataError
        Offline / unreachable source (with manual download instructions), or a checksum
        mismatch (the bad download is removed).
    """
    folder = Path(folder)
    target = folder / remote.name
    if _verified(remote, target):
        return target
    label = dataset or remote.name
    if remote.url is None:
        raise DataError(
            f"{label} must be downloaded by hand",
            expected=f"the file {remote.name}",
            got=f"nothing at {target}",
            fix=f"download it from {homepage or 'the data set page'} and place it at {target}",
        )
    folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(target.with_name(target.name + ".lock")):
        if _verified(remote, target):  # another process finished it while we waited
            return target
        _download_verified(remote, target, label, timeout)
    return target


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Serialize downloads of one file across processes (POSIX advisory lock)."""
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform
        yield
        return
    with open(lock, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _download_verified(remote: RemoteFile, target: Path, label: str, timeout: float) -> None:
    """Download into ``<name>.part``, check the digest, then rename onto ``target``."""
    assert remote.url is not None
    part = target.with_name(target.name + ".part")
    try:
        _download(remote.url, part, timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        detail = getattr(exc, "reason", None) or exc
        if isinstance(exc, urllib.error.HTTPError):
            why = f"the server answered HTTP {exc.code}"
        elif remote.url.startswith("file:"):
            why = f"the source file cannot be read ({detail})"
        else:
            why = f"network unreachable ({detail})"
        raise DataError(
            f"could not download {label}: {why}",
            expected=f"a reachable {remote.url}",
            got=type(exc).__name__,
            fix=f"download it manually from {remote.url} and place it at {target}",
        ) from None
    digest = file_sha256(part)
    expected = _expected_digest(remote, target)
    if expected is not None and digest != expected:
        part.unlink()
        raise DataError(
            f"checksum mismatch for {label} ({remote.name}); the download was removed",
            expected=f"sha256 {expected}",
            got=f"sha256 {digest}",
            fix=f"retry, or download it from {remote.url} and place it at {target}",
        )
    os.replace(part, target)
    if remote.sha256 is None:
        pin = _pin_path(target)
        tmp = pin.with_name(pin.name + ".part")
        tmp.write_text(digest + "\n", encoding="utf-8")
        os.replace(tmp, pin)


def _download(url: str, part: Path, timeout: float) -> None:
    """Download ``url`` into ``part``, resuming an earlier partial download when possible."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "spectrakit"})
    if have and url.startswith(("http://", "https://")):
        request.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = have and getattr(response, "status", 200) == 206
        size = response.headers.get("Content-Length") if response.headers else None
        total = int(size) + (have if resumed else 0) if size and size.isdigit() else None
        name = part.name.removesuffix(".part")
        bar = progress(total=total, desc=f"download {name}", unit="B", unit_scale=True)
        with open(part, "ab" if resumed else "wb") as out, bar:
            bar.update(have if resumed else 0)
            for block in iter(lambda: response.read(_BLOCK), b""):
                out.write(block)
                bar.update(len(block))


def _unpack(archive: Path, folder: Path) -> None:
    """Extract a zip safely (no absolute paths or ``..``), atomically per member."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                raise DataError(
                    f"unsafe path in archive {archive.name}",
                    expected="relative member names",
                    got=info.filename,
                )
            dest = folder / name.name
            tmp = dest.with_name(dest.name + ".part")
            with zf.open(info) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, _BLOCK)
            os.replace(tmp, dest)


def fetch(
    dataset: RemoteDataset,
    *,
    home: str | os.PathLike | None = None,
    timeout: float = 30.0,
) -> Path:
    """Make every file of ``dataset`` available locally and return its folder.

    Files already cached and verified are not downloaded again; zip files marked
    ``unpack`` are extracted once (their ``expected`` members present means done).

    Parameters
    ----------
    dataset : RemoteDataset
    home : path-like, optional
        Cache root (default :func:`data_home`).
    timeout : float
        Network timeout in seconds.

    Returns
    -------
    Path
        ``<home>/<dataset.name>``.
    """
    folder = data_home(home) / dataset.name
    if dataset.expected and all((folder / f).exists() for f in dataset.expected):
        return folder
    for remote in dataset.files:
        path = fetch_file(
            remote, folder, dataset=dataset.name, homepage=dataset.homepage, timeout=timeout
        )
        if remote.unpack:
            _unpack(path, folder)
    missing = [f for f in dataset.expected if not (folder / f).exists()]
    if missing:
        raise DataError(
            f"{dataset.name} is incomplete",
            expected=", ".join(dataset.expected),
            got="missing " + ", ".join(missing),
            fix=f"download it from {dataset.homepage} and place the files in {folder}",
        )
    return folder
