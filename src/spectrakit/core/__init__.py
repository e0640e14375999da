"""The core layer: spectral axes, the Spectra container, resampling, errors, atomic writes.

Everything here needs NumPy only (pandas is imported when ``Spectra.meta`` is built, SciPy only
for cubic resampling), and nothing here imports another spectrakit package.
"""

from spectrakit._lazy import lazy_attributes
from spectrakit.core.atomic import atomic_dir, atomic_path
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
from spectrakit.core.resample import resample_values

# Spectra needs pandas (its metadata table): loaded on first use, so `spectrakit --help` and
# the axis-only paths stay light.
_LAZY = {"Spectra": "spectrakit.core.spectra", "combine": "spectrakit.core.spectra"}
__getattr__ = lazy_attributes("spectrakit.core", _LAZY)

__all__ = [
    "AxisError",
    "BundleError",
    "ConfigError",
    "DataError",
    "FormatError",
    "ModelError",
    "PreprocessingError",
    "Spectra",
    "SpectraError",
    "SpectralAxis",
    "TrainingError",
    "atomic_dir",
    "atomic_path",
    "combine",
    "resample_values",
]
