"""Baseline correction, batched over spectra.

Whittaker methods (AsLS, arPLS, airPLS, asPLS, drPLS), polynomials on the real axis
(ModPoly, IModPoly), SNIP, rubberband and the two-point linear correction.

Every step is a stateless :class:`~spectrakit.preprocessing.SpectralTransformer`:
``transform`` returns the spectra minus their baselines and ``baseline(X)`` returns the
baselines themselves, shape (n_spectra, n_points). Results match :mod:`pybaselines`
per spectrum (asPLS: with ``method="reference"``; its default fast solver reaches an asPLS
objective no worse than pybaselines'); the Whittaker methods run their reweighting
loops in compiled code over all spectra (in parallel threads), with each spectrum stopping
at its own convergence.

Examples
--------
>>> import numpy as np
>>> from spectrakit.preprocessing.baseline import ArPLS
>>> x = np.linspace(0.0, 1.0, 500)
>>> spectra = np.stack([3 + 2 * x + np.exp(-((x - c) / 0.01) ** 2) for c in (0.3, 0.6)])
>>> corrected = ArPLS(lam=1e5).fit_transform(spectra)
>>> corrected.shape
(2, 500)
"""

from spectrakit.preprocessing.baseline._common import BaselineCorrection
from spectrakit.preprocessing.baseline._linear import LinearCorrection
from spectrakit.preprocessing.baseline._polynomial import IModPoly, ModPoly
from spectrakit.preprocessing.baseline._rubberband import Rubberband
from spectrakit.preprocessing.baseline._snip import SNIP
from spectrakit.preprocessing.baseline._whittaker import AirPLS, ArPLS, AsLS, AsPLS, DrPLS

__all__ = [
    "SNIP",
    "AirPLS",
    "ArPLS",
    "AsLS",
    "AsPLS",
    "BaselineCorrection",
    "DrPLS",
    "IModPoly",
    "LinearCorrection",
    "ModPoly",
    "Rubberband",
]
