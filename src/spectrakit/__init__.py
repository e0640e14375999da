"""spectrakit: machine learning on 1D spectra.

Read spectra from any instrument into one :class:`Spectra` object that keeps its physical
axis, clean them with axis-aware preprocessing, pretrain and fine-tune models, transfer
across instruments, evaluate against chemometric baselines, explain, and ship.
"""

from __future__ import annotations

from spectrakit._lazy import lazy_attributes
from spectrakit.axis import SpectralAxis
from spectrakit.errors import (
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
from spectrakit.io import available_formats, read, read_blocks, write
from spectrakit.spectra import Spectra, combine

__version__ = "0.1.0"

# Heavier entry points (torch, Lightning) load on first use so `import spectrakit` stays fast.
_LAZY = {
    "load": "spectrakit.bundle",
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


__getattr__ = lazy_attributes("spectrakit", _LAZY)
