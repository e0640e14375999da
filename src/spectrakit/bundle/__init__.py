"""Model bundles: the one place that reads and writes the bundle format.

A bundle is a directory (or a single ``.zip`` of it) holding ``config.json``,
``model.safetensors``, ``card.md`` and optional files (preprocessing state, OOD detector,
ONNX graph). :class:`Bundle` is the one reader and writer and :class:`BundleConfig` the typed
config; every other module asks them for a bundle's content. The package also owns the one
file policy (:mod:`.policy`), the sha256 helper, zip packing (:mod:`.archive`), the format
version with its migration (:func:`migrate`) and signing (:mod:`.signing`).
"""

import importlib
import warnings

from spectrakit.bundle.archive import MAX_MEMBER_BYTES, MAX_TOTAL_BYTES, pack_bundle, unpack_bundle
from spectrakit.bundle.config import FORMAT_VERSION, BundleConfig, ModelSpec, is_bundle_dir, migrate
from spectrakit.bundle.format import (
    CARD,
    CONFIG,
    PREPROCESSING,
    WEIGHTS,
    Bundle,
    add_file,
    load_model,
    open_bundle,
    read_config,
    save,
    update_metrics,
    verify,
)
from spectrakit.bundle.policy import ALLOWED_SUFFIXES, check_file_name, sha256_bytes, sha256_file

__all__ = [
    "ALLOWED_SUFFIXES",
    "CARD",
    "CONFIG",
    "FORMAT_VERSION",
    "MAX_MEMBER_BYTES",
    "MAX_TOTAL_BYTES",
    "PREPROCESSING",
    "WEIGHTS",
    "Bundle",
    "BundleConfig",
    "ModelSpec",
    "add_file",
    "check_file_name",
    "is_bundle_dir",
    "load_model",
    "migrate",
    "open_bundle",
    "pack_bundle",
    "read_config",
    "save",
    "sha256_bytes",
    "sha256_file",
    "unpack_bundle",
    "update_metrics",
    "verify",
]


def __getattr__(name: str):
    """Old name ``spectrakit.bundle.load``, now :func:`spectrakit.load` (one release)."""
    if name == "load":
        warnings.warn(
            "spectrakit.bundle.load is deprecated; use spectrakit.load (spectrakit.predict.loader)",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module("spectrakit.predict.loader").load
    raise AttributeError(f"module 'spectrakit.bundle' has no attribute {name!r}")
