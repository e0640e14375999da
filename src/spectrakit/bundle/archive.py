"""Single-file bundles: pack a bundle directory into a .zip and unpack it safely.

Unpacking refuses anything that could escape or exhaust the destination: absolute paths,
``..`` components, symbolic links, nested folders deeper than allowed, members or a total
size above the limits, and suspicious compression ratios (zip bombs). Nothing in a bundle is
ever executed; this module only moves bytes.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from spectrakit.core.atomic import atomic_dir, atomic_path
from spectrakit.core.errors import BundleError

__all__ = ["MAX_MEMBER_BYTES", "MAX_TOTAL_BYTES", "pack_bundle", "unpack_bundle"]

MAX_MEMBER_BYTES = 2 * 1024**3  # one weights file of up to 2 GiB
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_MEMBERS = 256
MAX_RATIO = 200.0  # uncompressed / compressed; weights and JSON compress far less than this


def pack_bundle(bundle_dir: str | os.PathLike, zip_path: str | os.PathLike) -> Path:
    """Write every regular file of ``bundle_dir`` into ``zip_path`` (atomic).

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
    if not (src / "config.json").is_file():
        raise BundleError(
            f"{src} is not a bundle directory",
            expected="a folder with config.json",
            got="no config.json",
        )
    out = Path(zip_path)
    with (
        atomic_path(out, suffix=".zip") as tmp,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf,
    ):
        for path in sorted(src.rglob("*")):
            if path.is_symlink():
                raise BundleError(
                    "bundles may not contain symbolic links", got=str(path.relative_to(src))
                )
            if path.is_file():
                zf.write(path, path.relative_to(src).as_posix())
    return out


def _check_member(info: zipfile.ZipInfo, zip_name: str) -> PurePosixPath:
    name = info.filename
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or ":" in path.parts[0] or "\\" in name:
        raise BundleError(
            f"{zip_name}: member {name!r} has an absolute or drive path",
            expected="relative paths inside the bundle",
            fix="rebuild the archive with spectrakit (pack_bundle)",
        )
    if any(part in ("..", "") for part in path.parts) or len(path.parts) > 4:
        raise BundleError(
            f"{zip_name}: member {name!r} escapes the bundle folder",
            expected="plain relative paths without '..'",
            fix="do not load this archive; it may be malicious",
        )
    mode = (info.external_attr >> 16) & 0o170000
    if mode and stat.S_ISLNK(mode):
        raise BundleError(f"{zip_name}: member {name!r} is a symbolic link", fix="remove it")
    if info.file_size > MAX_MEMBER_BYTES:
        raise BundleError(
            f"{zip_name}: member {name!r} is too large",
            expected=f"at most {MAX_MEMBER_BYTES} bytes",
            got=f"{info.file_size} bytes",
        )
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise BundleError(
            f"{zip_name}: member {name!r} has a suspicious compression ratio",
            expected=f"at most {MAX_RATIO:.0f}:1",
            got=f"{info.file_size / info.compress_size:.0f}:1",
            fix="do not load this archive; it looks like a zip bomb",
        )
    return path


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
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(
            f"{src.name} is not a readable zip archive",
            got=str(exc)[:100],
            fix="pass the bundle folder or a complete .zip",
        ) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BundleError(
                f"{src.name} has too many members",
                expected=f"at most {MAX_MEMBERS}",
                got=str(len(infos)),
            )
        paths = [_check_member(i, src.name) for i in infos]
        total = sum(i.file_size for i in infos)
        if total > MAX_TOTAL_BYTES:
            raise BundleError(
                f"{src.name} is too large when unpacked",
                expected=f"at most {MAX_TOTAL_BYTES} bytes",
                got=f"{total} bytes",
            )
        roots = {p.parts[0] for p in paths if len(p.parts) > 1}
        prefix = PurePosixPath()
        if "config.json" not in {p.as_posix() for p in paths} and len(roots) == 1:
            prefix = PurePosixPath(next(iter(roots)))  # zip of the folder itself
        with atomic_dir(dest) as tmp:
            for info, path in zip(infos, paths, strict=True):
                if info.is_dir():
                    continue
                rel = path.relative_to(prefix) if prefix.parts else path
                target = tmp.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(info) as fin, open(target, "wb") as fout:
                    while chunk := fin.read(1 << 20):
                        written += len(chunk)
                        if written > info.file_size:  # header lied about the size
                            raise BundleError(
                                f"{src.name}: member {info.filename!r} is larger than declared"
                            )
                        fout.write(chunk)
            if not (tmp / "config.json").is_file():
                raise BundleError(
                    f"{src.name} does not contain a bundle",
                    expected="config.json at the top level",
                    got=", ".join(sorted(p.as_posix() for p in paths)[:5]) or "(empty)",
                )
    return Path(dest)
