"""The core layer: axes, the Spectra container, resampling, errors, atomic writes, registries.

Everything here needs NumPy only (pandas is imported when ``Spectra.meta`` is built, SciPy only
for cubic resampling), and nothing here imports another spectrakit package.
"""

from spectrakit._lazy import lazy_attributes

# names load on first use: the errors alone must not import pandas (spectrakit --help stays light)
_LAZY = {
    "AxisError": "spectrakit.core.errors",
    "BundleError": "spectrakit.core.errors",
    "ConfigError": "spectrakit.core.errors",
    "DataError": "spectrakit.core.errors",
    "FormatError": "spectrakit.core.errors",
    "ModelError": "spectrakit.core.errors",
    "PreprocessingError": "spectrakit.core.errors",
    "Registry": "spectrakit.core.registry",
    "Spectra": "spectrakit.core.spectra",
    "SpectraError": "spectrakit.core.errors",
    "SpectralAxis": "spectrakit.core.axis",
    "TrainingError": "spectrakit.core.errors",
    "atomic_dir": "spectrakit.core.atomic",
    "atomic_path": "spectrakit.core.atomic",
    "combine": "spectrakit.core.common_grid",
    "resample_values": "spectrakit.core.resample",
    "sha256_bytes": "spectrakit.core.hashing",
    "sha256_file": "spectrakit.core.hashing",
}

__all__ = [
    "AxisError",
    "BundleError",
    "ConfigError",
    "DataError",
    "FormatError",
    "ModelError",
    "PreprocessingError",
    "Registry",
    "Spectra",
    "SpectraError",
    "SpectralAxis",
    "TrainingError",
    "atomic_dir",
    "atomic_path",
    "combine",
    "resample_values",
    "sha256_bytes",
    "sha256_file",
]

__getattr__ = lazy_attributes("spectrakit.core", _LAZY)
