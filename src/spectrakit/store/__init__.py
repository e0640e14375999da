"""The model store: saved bundles by name and version, with checksums, locally or on a hub."""

from spectrakit.store.local import (
    LocalRegistry,
    default_root,
    file_sha256,
    pull_from_hub,
    push_to_hub,
)

__all__ = [
    "LocalRegistry",
    "default_root",
    "file_sha256",
    "pull_from_hub",
    "push_to_hub",
]
