"""A local model registry: bundles stored by name and version, with checksums.

Layout: ``ROOT/<name>/<version>/`` holds a copy of the bundle plus ``manifest.json`` with the
sha256 of every file. ``ROOT`` is ``$SPECTRAKIT_REGISTRY`` or ``~/.spectrakit/registry``.
Optional push/pull to the Hugging Face Hub when ``huggingface_hub`` is installed and the
network is reachable; nothing here needs either.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spectrakit.bundle.format import Bundle
from spectrakit.bundle.policy import CONFIG, check_file_name
from spectrakit.bundle.strict_json import read_json_file
from spectrakit.core.atomic import atomic_dir
from spectrakit.core.errors import BundleError
from spectrakit.core.hashing import sha256_file
from spectrakit.core.hashing import sha256_file as file_sha256  # its old name here

__all__ = [
    "LocalRegistry",
    "default_root",
    "file_sha256",
    "pull_from_hub",
    "push_to_hub",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
MANIFEST = "manifest.json"


def default_root() -> Path:
    """Registry folder: ``$SPECTRAKIT_REGISTRY`` or ``~/.spectrakit/registry``."""
    env = os.environ.get("SPECTRAKIT_REGISTRY")
    return Path(env) if env else Path.home() / ".spectrakit" / "registry"


def _check_name(kind: str, value: str) -> str:
    if not _NAME.match(value or ""):
        raise BundleError(
            f"invalid {kind}",
            expected="letters, digits, '.', '_' or '-' (max 100 characters)",
            got=repr(value),
        )
    return value


def _bundle_files(bundle: Bundle) -> dict[str, str]:
    """``{file: sha256}`` of a bundle that passes :meth:`Bundle.verify` in full.

    That is the bundle file policy (allowed names, regular files only, nothing unrecorded)
    plus the config's integrity and every checksum, so the store never holds what
    :func:`spectrakit.load` would refuse.
    """
    config = bundle.verify()
    names = [CONFIG, *sorted(config.files)]
    return {name: sha256_file(bundle.path / name) for name in names}


def _read_manifest(folder: Path, where: str) -> dict[str, Any]:
    """A stored ``manifest.json``, strict JSON with a ``files`` map of sha256 digests."""
    manifest = read_json_file(folder / MANIFEST)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    ok = isinstance(files, dict) and all(
        isinstance(k, str) and isinstance(v, str) and len(v) == 64 for k, v in files.items()
    )
    if not ok:
        raise BundleError(
            f"{where}: {MANIFEST} is damaged",
            expected='an object with "files": {name: sha256}',
            got=type(files).__name__ if not isinstance(files, dict) else "bad entries",
            fix="the stored copy was modified; push the bundle again",
        )
    return manifest


def _version_key(v: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[._-]", v))


class LocalRegistry:
    """Bundles by name and version in a folder.

    Parameters
    ----------
    root : path-like, optional
        Registry folder (default :func:`default_root`).

    Examples
    --------
    >>> reg = LocalRegistry("/path/to/registry")  # doctest: +SKIP
    >>> reg.push("my-bundle", "glucose")  # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        if self.root.exists() and not self.root.is_dir():
            raise BundleError(
                f"the registry root {self.root} is not a folder",
                expected="a folder (created on the first push) or a path that does not exist",
                got="a file",
                fix="pass --root DIR with a folder for the registry",
            )

    def versions(self, name: str) -> list[str]:
        """Versions of ``name``, oldest first."""
        d = self.root / _check_name("model name", name)
        if not d.is_dir():
            return []
        found = [p.name for p in d.iterdir() if (p / MANIFEST).is_file()]
        return sorted(found, key=_version_key)

    def push(
        self,
        bundle: str | os.PathLike,
        name: str,
        version: str | None = None,
        *,
        force: bool = False,
    ) -> dict[str, Any]:
        """Verify a bundle (folder or .zip) in full and copy it in; returns its manifest."""
        _check_name("model name", name)
        source = Bundle(bundle)  # a .zip is checked and unpacked into a private folder
        files = _bundle_files(source)
        if version is None:
            numeric = [int(v) for v in self.versions(name) if v.isdigit()]
            version = str(max(numeric, default=0) + 1)
        _check_name("version", version)
        target = self.root / name / version
        if target.exists() and not force:
            raise BundleError(
                f"{name} version {version} already exists in the registry",
                fix="choose another --version or pass --force to replace it",
            )
        config = source.config
        manifest = {
            "name": name,
            "version": version,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "model": config.family.name,
            "task": config.task,
            "signed": config.signature is not None,
            "files": files,
        }
        with atomic_dir(target, overwrite=force) as tmp:  # force: replace the version
            for rel in files:
                dst = tmp / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source.path / rel, dst)
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        return manifest

    def _resolve(self, name: str, version: str | None) -> Path:
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "(empty registry)"
            raise BundleError(
                f"no model {name!r} in the registry at {self.root}",
                expected="one of " + known,
                fix="push it first: spectrakit registry push BUNDLE --name NAME",
            )
        if version in (None, "latest"):
            version = versions[-1]
        if version not in versions:
            raise BundleError(
                f"{name} has no version {version!r}", expected="one of " + ", ".join(versions)
            )
        return self.root / name / version

    def verify(self, name: str, version: str | None = None) -> Path:
        """Check every file against the manifest; returns the stored folder."""
        folder = self._resolve(name, version)
        manifest = _read_manifest(folder, f"{name}/{folder.name}")
        present = {
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and p.name != MANIFEST
        }
        extra = present - set(manifest["files"])
        if extra:
            raise BundleError(
                f"{name}/{folder.name} holds files not in its manifest",
                got=", ".join(sorted(extra)),
                fix="the stored copy was modified; push the bundle again",
            )
        for rel, digest in manifest["files"].items():
            check_file_name(rel, where=f"{name}/{folder.name}")
            path = folder / rel
            if not path.is_file() or sha256_file(path) != digest:
                raise BundleError(
                    f"{name}/{folder.name}: checksum mismatch for {rel}",
                    expected=digest[:16] + "...",
                    got="missing" if not path.is_file() else sha256_file(path)[:16] + "...",
                    fix="the stored copy is corrupt or was tampered with; push it again",
                )
        return folder

    def pull(self, name: str, version: str | None = None, dest: str | os.PathLike = ".") -> Path:
        """Verify and copy a stored bundle to ``dest`` (a new folder); returns it."""
        folder = self.verify(name, version)
        out = Path(dest)
        with atomic_dir(out) as tmp:
            for path in folder.rglob("*"):
                if path.is_file() and path.name != MANIFEST:
                    dst = tmp / path.relative_to(folder)
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, dst)
        return out

    def names(self) -> list[str]:
        """Model names in the registry."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name))

    def list(self) -> list[dict[str, Any]]:
        """One manifest summary per stored version."""
        rows = []
        for name in self.names():
            for version in self.versions(name):
                m = _read_manifest(self.root / name / version, f"{name}/{version}")
                rows.append({k: m.get(k) for k in ("name", "version", "created", "model", "task")})
        return rows


def _hub():
    try:
        import huggingface_hub
    except ImportError as exc:
        raise BundleError(
            "Hugging Face Hub support needs huggingface_hub",
            fix="pip install 'spectrakit[hub]'",
        ) from exc
    return huggingface_hub


@contextlib.contextmanager
def _hub_errors(action: str, repo_id: str) -> Iterator[None]:
    """Turn the Hub client's exceptions into one clear :class:`BundleError` line."""
    from huggingface_hub import errors

    try:
        yield
    except errors.LocalEntryNotFoundError:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        raise BundleError(
            f"cannot {action} {repo_id!r}: the Hugging Face Hub is unreachable "
            + ("(HF_HUB_OFFLINE is set)" if offline else "(offline or no network)")
            + " and the bundle is not in the local Hub cache",
            fix="connect to the network"
            + (" and unset HF_HUB_OFFLINE" if offline else "")
            + ", or use a local store: spectrakit registry --root DIR pull NAME",
        ) from None
    except errors.OfflineModeIsEnabled:
        raise BundleError(
            f"cannot {action} {repo_id!r}: HF_HUB_OFFLINE is set",
            fix="unset HF_HUB_OFFLINE to reach the Hub",
        ) from None
    except errors.RepositoryNotFoundError:
        raise BundleError(
            f"cannot {action} {repo_id!r}: no such Hub repository (or it is private)",
            fix="check the name, or log in with a token that can read it",
        ) from None
    except (errors.HfHubHTTPError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BundleError(f"cannot {action} {repo_id!r}: {first}") from None


def push_to_hub(bundle: str | os.PathLike, repo_id: str, *, token: str | None = None) -> str:
    """Upload a bundle folder to a Hub model repository (checked for forbidden files first)."""
    hub = _hub()
    _bundle_files(Bundle(bundle))
    api = hub.HfApi(token=token)
    with _hub_errors("push to", repo_id):
        api.create_repo(repo_id, exist_ok=True)
        info = api.upload_folder(folder_path=str(bundle), repo_id=repo_id)
    return str(info)


def pull_from_hub(repo_id: str, dest: str | os.PathLike, *, revision: str | None = None) -> Path:
    """Download a bundle from the Hub (safetensors/JSON/markdown only) and check it."""
    hub = _hub()
    with _hub_errors("pull", repo_id):
        path = hub.snapshot_download(
            repo_id,
            revision=revision,
            allow_patterns=["*.json", "*.safetensors", "*.md", "*.onnx"],
        )
    out = Path(dest)
    with atomic_dir(out) as tmp:
        for p in Path(path).rglob("*"):
            if p.is_file():
                dst = tmp / p.relative_to(path)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(p, dst)
        _bundle_files(Bundle(tmp))
    return out
