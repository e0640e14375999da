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

__version__ = "0.1.0"

# Everything that needs pandas, SciPy, torch or Lightning loads on first use, so
# `import spectrakit` and `spectrakit --help` stay fast (numpy only).
_LAZY = {
    "Spectra": "spectrakit.spectra",
    "available_formats": "spectrakit.io",
    "combine": "spectrakit.spectra",
    "load": "spectrakit.bundle",
    "read": "spectrakit.io",
    "read_blocks": "spectrakit.io",
    "save": "spectrakit.bundle",
    "write": "spectrakit.io",
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
    "TrainingError",
    "__version__",
    *_LAZY,
]


__getattr__ = lazy_attributes("spectrakit", _LAZY)
