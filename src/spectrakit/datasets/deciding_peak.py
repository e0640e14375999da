"""A known-answer classification set: one narrow peak decides the class.

Class ``present`` has a narrow Gaussian band at 1000 cm-1 (sigma 8), class ``absent`` has
none; both share eight broad bands of random height, a random offset and slope, and noise.
A faithful explanation of ``present`` puts its mass on :data:`BAND` (1000 +- 3 sigma,
3.4 % of the axis). The PeakMixer workflow and the explanation tests use this set.
"""

from __future__ import annotations

import numpy as np

from spectrakit.core.spectra import Spectra

__all__ = ["AXIS", "BAND", "CLASSES", "PEAK", "SIGMA", "make_deciding_peak"]

#: 352 points, 400-1804 cm-1
AXIS = 400.0 + 4.0 * np.arange(352)
PEAK, SIGMA = 1000.0, 8.0
#: the deciding band, 1000 +- 3 sigma
BAND = (PEAK - 3 * SIGMA, PEAK + 3 * SIGMA)
CLASSES = ("absent", "present")
_OTHER = np.array([520.0, 700.0, 860.0, 1150.0, 1300.0, 1450.0, 1600.0, 1700.0])


def make_deciding_peak(n: int, seed: int, *, kind: str = "raman_shift") -> Spectra:
    """``n`` spectra of two classes; ``present`` has the narrow band at :data:`PEAK`.

    Parameters
    ----------
    n : int
        Number of spectra (classes drawn at random, about half each).
    seed : int
        Seed of every random draw.
    kind : str, default="raman_shift"
        Kind of the cm-1 axis (``"wavenumber"`` for an absorption-like axis).

    Returns
    -------
    Spectra of shape (n, 352)
        Metadata ``label`` (``"absent"``/``"present"``) and ``y`` (0/1).
    """
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    width = rng.uniform(20.0, 40.0, _OTHER.size)
    bands = np.exp(-0.5 * ((AXIS[None] - _OTHER[:, None]) / width[:, None]) ** 2)
    x = rng.uniform(0.2, 1.5, (n, _OTHER.size)) @ bands
    x += rng.uniform(0.0, 0.5, (n, 1)) + rng.uniform(-0.3, 0.3, (n, 1)) * (AXIS - 1100) / 700
    x += (y * rng.uniform(0.5, 1.5, n))[:, None] * np.exp(-0.5 * ((AXIS - PEAK) / SIGMA) ** 2)
    x += rng.normal(0.0, 0.01, x.shape)
    meta = {"label": np.array(CLASSES)[y], "y": y}
    return Spectra(x, AXIS, meta, unit="cm-1", kind=kind)
