"""The core layer: axes, the Spectra container, resampling, errors, atomic writes, registries.

Everything here needs NumPy only (pandas is imported when ``Spectra.meta`` is built, SciPy only
for cubic resampling), and nothing here imports another spectrakit package.
"""

from spectrakit._lazy import by_module, lazy_attributes
from spectrakit.core.errors import __all__ as _error_names

# names load on first use: the errors alone must not import pandas (spectrakit --help stays light)
_LAZY = by_module(
    {
        "spectrakit.core.errors": _error_names,
        "spectrakit.core.registry": ("Registry",),
        "spectrakit.core.spectra": ("Spectra",),
        "spectrakit.core.axis": ("SpectralAxis",),
        "spectrakit.core.atomic": ("atomic_dir", "atomic_path"),
        "spectrakit.core.common_grid": ("combine",),
        "spectrakit.core.resample": ("resample_values",),
        "spectrakit.core.hashing": ("sha256_bytes", "sha256_file"),
    }
)

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes("spectrakit.core", _LAZY)
