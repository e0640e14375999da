"""spectrakit: machine learning on 1D spectra.

Read spectra from any instrument into one :class:`Spectra` object that keeps its physical
axis, clean them with axis-aware preprocessing, pretrain and fine-tune models, transfer
across instruments, evaluate against chemometric baselines, explain, and ship.
"""

from __future__ import annotations

from spectrakit import _deprecated
from spectrakit._lazy import lazy_attributes
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

__version__ = "0.1.0"

# Everything that needs NumPy, pandas, SciPy, torch or Lightning loads on first use, so
# `import spectrakit` and `spectrakit --help` stay fast (the standard library only).
_LAZY = {
    "ChannelSet": "spectrakit.core.channel_set",
    "Spectra": "spectrakit.core.spectra",
    "SpectralAxis": "spectrakit.core.axis",
    "available_formats": "spectrakit.io",
    "combine": "spectrakit.core.common_grid",
    "load": "spectrakit.predict",
    "read": "spectrakit.io",
    "read_blocks": "spectrakit.io",
    "read_channels": "spectrakit.io",
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


_deprecated.install()
_lazy_getattr = lazy_attributes("spectrakit", _LAZY)


def __getattr__(name: str):
    """Lazy entry points, and the old module names (``spectrakit.chemometrics``) for one release."""
    if f"spectrakit.{name}" in _deprecated.MOVED:
        import importlib

        return importlib.import_module(f"spectrakit.{name}")
    return _lazy_getattr(name)
