"""spectrakit: machine learning on 1D spectra.

Read spectra from any instrument into one :class:`Spectra` object that keeps its physical
axis, clean them with axis-aware preprocessing, pretrain and fine-tune models, transfer
across instruments, evaluate against chemometric baselines, explain, and ship.
"""

from __future__ import annotations

from spectrakit import _deprecated
from spectrakit._lazy import lazy_attributes
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import (
    AxisError,
    BundleError,
    ConfigError,
    DataError,
    FormatError,
    ModelError,
    PreprocessingError,
    SpectraError,
    TrainingError,
)
from spectrakit.core.spectra import Spectra, combine
from spectrakit.io import available_formats, read, read_blocks, write

__version__ = "0.1.0"

# Heavier entry points (torch, Lightning) load on first use so `import spectrakit` stays fast.
_LAZY = {
    "load": "spectrakit.predict",
    "save": "spectrakit.bundle",
}

__all__ = [
    "AxisError",
    "BundleError",
    "ConfigError",
    "DataError",
    "FormatError",
    "ModelError",
    "PreprocessingError",
    "SpectraError",
    "SpectralAxis",
    "Spectra",
    "TrainingError",
    "__version__",
    "available_formats",
    "combine",
    "read",
    "read_blocks",
    "write",
    *_LAZY,
]


_deprecated.install()
_lazy_getattr = lazy_attributes("spectrakit", _LAZY)


def __getattr__(name: str):
    """Lazy entry points, and the old module names (``spectrakit.baselines``) for one release."""
    if f"spectrakit.{name}" in _deprecated.MOVED:
        import importlib

        return importlib.import_module(f"spectrakit.{name}")
    return _lazy_getattr(name)
