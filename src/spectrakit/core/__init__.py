"""The core layer: spectral axes, the Spectra container, resampling, errors, atomic writes.

Everything here needs NumPy only (pandas is imported when ``Spectra.meta`` is built, SciPy only
for cubic resampling), and nothing here imports another spectrakit package.
"""

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
from spectrakit.core.spectra import Spectra, combine

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
