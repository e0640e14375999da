"""Input normalization shared by training, inference and export (no training code).

The one definition lives in :mod:`spectrakit.preprocessing.channels`, beside the channel
preprocessor that inference uses; this module keeps the models' import path.
"""

from __future__ import annotations

from spectrakit.preprocessing.channels import normalize_spectra

__all__ = ["normalize_spectra"]
