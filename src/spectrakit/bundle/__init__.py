"""Model bundles: the one place that reads and writes the bundle format.

A bundle is a directory (or a single ``.zip`` of it) holding ``config.json``,
``model.safetensors``, ``card.md`` and optional files (preprocessing state, OOD detector,
ONNX graph). Every other module asks this package for a bundle's content.
"""

import importlib
import warnings

from spectrakit.bundle.archive import MAX_MEMBER_BYTES, MAX_TOTAL_BYTES, pack_bundle, unpack_bundle
from spectrakit.bundle.format import (
    CONFIG,
    WEIGHTS,
    add_file,
    load_model,
    open_bundle,
    read_config,
    save,
    update_metrics,
    verify,
)

__all__ = [
    "CONFIG",
    "MAX_MEMBER_BYTES",
    "MAX_TOTAL_BYTES",
    "WEIGHTS",
    "add_file",
    "load_model",
    "open_bundle",
    "pack_bundle",
    "read_config",
    "save",
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
