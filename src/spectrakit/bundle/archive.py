"""Single-file bundles: pack a bundle directory into a .zip and unpack it safely.

Everything is checked before anything is written. The central directory first: member
names (empty, ``.``, ``..``, absolute or drive paths, backslashes, links, duplicates,
folders other than the one the bundle was zipped in, names outside the file policy of
:mod:`spectrakit.bundle.policy`), the member count, the declared sizes against
:data:`MAX_MEMBER_BYTES` and :data:`MAX_TOTAL_BYTES`, and the compression ratio of each
member and of the whole archive against :data:`MAX_RATIO` (zip bombs). Then every member is
decompressed once without being written, which checks its CRC and that it holds exactly its
declared size (a short or overlong member is refused). Only then is the bundle extracted,
again refusing a member that yields more than declared. Every refusal is one line naming
the limit. Nothing in a bundle is ever executed; this module only moves bytes.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from spectrakit.bundle.policy import CONFIG, check_file_name, check_regular_file
from spectrakit.core.atomic import atomic_dir, atomic_path
from spectrakit.core.errors import BundleError

__all__ = [
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "pack_bundle",
    "unpack_bundle",
]

MAX_MEMBER_BYTES = 2 * 1024**3  # one weights file of up to 2 GiB
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_MEMBERS = 256
#: uncompressed / compressed, for each member above RATIO_FLOOR bytes and for the whole
#: archive: float weights compress about 1.1:1 and JSON about 10:1, a zip bomb by hundreds
MAX_RATIO = 20.0
RATIO_FLOOR = 1024**2
_CHUNK = 1 << 20


def _refuse(zip_name: str, what: str, fix: str = "do not load this archive") -> BundleError:
    return BundleError(f"{zip_name}: {what}", fix=fix)


def pack_bundle(bundle_dir: str | os.PathLike, zip_path: str | os.PathLike) -> Path:
    """Write the files of ``bundle_dir`` into ``zip_path`` (atomic).

    Every entry must follow the bundle file policy: regular files with allowed names, no
    links, no folders.

    Parameters
    ----------
    bundle_dir : path-like
        A bundle directory (``config.json``, ``model.safetensors``, ...).
    zip_path : path-like
        Output ``.zip`` file.

    Returns
    -------
    Path
        ``zip_path``.
    """
    src = Path(bundle_dir)
    if not (src / CONFIG).is_file():
        raise BundleError(
            f"{src} is not a bundle directory", expected="a folder with config.json", got="none"
        )
    entries = sorted(src.iterdir())
    for path in entries:
        check_regular_file(path, where=str(src))
        check_file_name(path.name, where=str(src))
    out = Path(zip_path)
    with (
        atomic_path(out, suffix=".zip") as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        for path in entries:
            zf.write(path, path.name)
    return out


def _member_path(info: zipfile.ZipInfo, zip_name: str) -> PurePosixPath:
    """The checked relative path of one member (names and type only)."""
    name = info.filename
    if name.strip() in ("", ".", "./") or name.rstrip("/").split("/")[-1] in ("", "."):
        raise _refuse(zip_name, f"member {name!r} has no usable name (limit: plain file names)")
    if name.startswith(("/", "\\")) or "\\" in name or ":" in name.split("/")[0]:
        raise _refuse(zip_name, f"member {name!r} has an absolute or drive path")
    path = PurePosixPath(name)
    if any(part in ("..", ".", "") for part in name.rstrip("/").split("/")):
        raise _refuse(zip_name, f"member {name!r} escapes the bundle folder ('..' or '.')")
    mode = (info.external_attr >> 16) & 0o170000
    if mode and stat.S_ISLNK(mode):
        raise _refuse(zip_name, f"member {name!r} is a symbolic link (regular files only)")
    if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise _refuse(zip_name, f"member {name!r} is not a regular file")
    return path


def _check_sizes(info: zipfile.ZipInfo, zip_name: str) -> None:
    size, packed = info.file_size, info.compress_size
    if size > MAX_MEMBER_BYTES:
        raise _refuse(
            zip_name,
            f"member {info.filename!r} declares {size} bytes, over MAX_MEMBER_BYTES "
            f"({MAX_MEMBER_BYTES})",
        )
    if size > RATIO_FLOOR and size > MAX_RATIO * max(packed, 1):
        raise _refuse(
            zip_name,
            f"member {info.filename!r} has a suspicious compression ratio "
            f"{size / max(packed, 1):.0f}:1, over MAX_RATIO ({MAX_RATIO:.0f}:1); "
            "it looks like a zip bomb",
        )


def _prefix(files: list[tuple[zipfile.ZipInfo, PurePosixPath]]) -> str:
    """The one folder a bundle was zipped in ('' when config.json is at the top)."""
    roots = {p.parts[0] for _, p in files if len(p.parts) > 1}
    if CONFIG not in {p.as_posix() for _, p in files} and len(roots) == 1:
        return next(iter(roots))
    return ""


def _layout(infos: list[zipfile.ZipInfo], zip_name: str) -> list[tuple[zipfile.ZipInfo, str]]:
    """``(member, bundle file name)`` of every file member, after all name checks."""
    if len(infos) > MAX_MEMBERS:
        raise _refuse(zip_name, f"{len(infos)} members, over MAX_MEMBERS ({MAX_MEMBERS})")
    paths = [_member_path(i, zip_name) for i in infos]
    files = [(i, p) for i, p in zip(infos, paths, strict=True) if not i.is_dir()]
    prefix = _prefix(files)
    for info, p in zip(infos, paths, strict=True):
        if info.is_dir() and p.parts != (prefix,):
            raise _refuse(zip_name, f"member {p.as_posix()!r} is a folder (bundles are flat)")
    out: list[tuple[zipfile.ZipInfo, str]] = []
    seen: set[str] = set()
    for info, p in files:
        rel = p.parts[1:] if prefix and p.parts[0] == prefix else p.parts
        if len(rel) != 1:
            raise _refuse(zip_name, f"member {p.as_posix()!r} is inside a folder (flat bundles)")
        check_file_name(rel[0], where=zip_name)
        if rel[0].lower() in seen:
            raise _refuse(zip_name, f"member {p.as_posix()!r} appears twice (names are unique)")
        seen.add(rel[0].lower())
        out.append((info, rel[0]))
    return out


def _check_totals(members: list[tuple[zipfile.ZipInfo, str]], zip_name: str) -> None:
    for info, _ in members:
        _check_sizes(info, zip_name)
    total = sum(i.file_size for i, _ in members)
    packed = sum(i.compress_size for i, _ in members)
    if total > MAX_TOTAL_BYTES:
        raise _refuse(
            zip_name, f"declares {total} bytes unpacked, over MAX_TOTAL_BYTES ({MAX_TOTAL_BYTES})"
        )
    if total > RATIO_FLOOR and total > MAX_RATIO * max(packed, 1):
        raise _refuse(
            zip_name,
            f"has a suspicious compression ratio {total / max(packed, 1):.0f}:1 over the "
            f"archive, over MAX_RATIO ({MAX_RATIO:.0f}:1); it looks like a zip bomb",
        )
    if CONFIG not in {name for _, name in members}:
        names = ", ".join(sorted(n for _, n in members)[:5]) or "(empty)"
        raise BundleError(
            f"{zip_name} does not contain a bundle",
            expected="config.json at the top level",
            got=names,
        )


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, zip_name: str, sink=None) -> None:
    """Decompress one member (CRC checked by zipfile), refusing any size but the declared."""
    seen = 0
    try:
        with zf.open(info) as fin:
            while chunk := fin.read(_CHUNK):
                seen += len(chunk)
                if seen > info.file_size:
                    raise _refuse(
                        zip_name,
                        f"member {info.filename!r} is larger than its declared "
                        f"{info.file_size} bytes",
                    )
                if sink is not None:
                    sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError) as exc:
        detail = " ".join(str(exc).split())[:100] or type(exc).__name__
        raise _refuse(
            zip_name,
            f"member {info.filename!r} is damaged ({detail})",
            fix="copy the archive again or pack the bundle again",
        ) from None
    if seen != info.file_size:
        raise _refuse(
            zip_name,
            f"member {info.filename!r} is shorter than declared ({seen} of {info.file_size} bytes)",
            fix="copy the archive again or pack the bundle again",
        )


def unpack_bundle(zip_path: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Extract a bundle archive into ``dest`` after validating every member.

    Parameters
    ----------
    zip_path : path-like
        Archive written by :func:`pack_bundle` (or any zip of a bundle folder).
    dest : path-like
        Destination folder (created atomically; replaced if it exists).

    Returns
    -------
    Path
        The folder holding ``config.json``.
    """
    src = Path(zip_path)
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BundleError(
            f"{src.name} is not a readable zip archive",
            got=" ".join(str(exc).split())[:100],
            fix="pass the bundle folder or a complete .zip",
        ) from None
    with zf:
        members = _layout(zf.infolist(), src.name)
        _check_totals(members, src.name)
        for info, _ in members:  # CRC and true sizes, before anything is written
            _stream(zf, info, src.name)
        with atomic_dir(dest) as tmp:
            for info, name in members:
                with open(tmp / name, "xb") as fout:
                    _stream(zf, info, src.name, fout)
    return Path(dest)
