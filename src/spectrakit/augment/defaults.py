"""Default augmentations for small calibration sets, sized from the training spectra themselves.

Bjerrum, Glahder & Skov (2017), "Data augmentation of spectral data for convolutional neural
network (CNN) based deep chemometrics" (arXiv 1710.01927): random offset, slope and
multiplicative scaling let a CNN learn the invariances that scatter correction gives PLS.
Here the magnitudes come from the training spectra (their point-wise spread and their noise
level), so one default works on absorbances of 1 and on counts of 10,000, and mixing with
matching targets (Beer-Lambert: mixtures of spectra are spectra of mixtures) adds samples
between the labelled ones. The returned :class:`Compose` serializes with ``to_config()``, so
a bundle records exactly what the model was trained with.
"""

from __future__ import annotations

import numpy as np

from spectrakit.augment._base import Compose, RandomApply
from spectrakit.augment._mixing import AdditiveMix, Mixup, PairDifference
from spectrakit.augment._transforms import (
    BaselineDrift,
    Broaden,
    GaussianNoise,
    IntensityScale,
    Shift,
)
from spectrakit.core.errors import DataError

__all__ = ["default_augmentation", "noise_level", "spectral_spread"]


def noise_level(X: np.ndarray) -> float:
    """White-noise SD estimated from second differences (smooth bands cancel), a float.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 3:
        raise DataError("noise_level needs spectra (n, p >= 3)", got=str(X.shape))
    d2 = np.diff(X, n=2, axis=1)
    return float(np.median(np.abs(d2 - np.median(d2, axis=1, keepdims=True)))) / 0.6745 / 6**0.5


def spectral_spread(X: np.ndarray) -> float:
    """Median over points of the SD across spectra (the natural variation), a float."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) < 2:
        raise DataError("spectral_spread needs at least two spectra", got=str(X.shape))
    return float(np.median(X.std(axis=0)))


def default_augmentation(
    X: np.ndarray,
    *,
    task: str = "regression",
    n_classes: int | None = None,
    strength: float = 1.0,
    seed: int | None = None,
) -> Compose:
    """The default small-data augmentation for spectra like ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Training spectra (raw, before any channel stacking).
    task : {"regression", "classification"}
    n_classes : int, optional
        Needed for classification (mixup with soft labels).
    strength : float, default=1.0
        Multiplies every magnitude (0 switches augmentation off but keeps mixing).
    seed : int, optional

    Returns
    -------
    Compose
        Offset + slope (a first-order :class:`BaselineDrift` of 10 % of the spread),
        multiplicative scaling (+-1 %), a shift of up to 0.5 points and a broadening of
        0.3-1 point for half of the spectra, noise at half the measured noise level, then
        :class:`AdditiveMix` (regression), or for classification the difference of two
        spectra of one class (:class:`PairDifference`, weight up to ``strength``) and
        :class:`Mixup`.
    """
    spread = spectral_spread(X)
    noise = noise_level(X)
    s = float(strength)
    steps = [
        BaselineDrift(amplitude=0.1 * s * spread, order=1, relative=False),
        IntensityScale(1.0 - 0.01 * s, 1.0 + 0.01 * s),
        RandomApply(Shift(max(0.5 * s, 1e-3)), p=0.5),
        RandomApply(Broaden(0.3, max(0.3, 1.0 * s)), p=0.5),
        GaussianNoise(std=0.5 * s * noise, relative=False),
    ]
    if task == "regression":
        steps.append(RandomApply(AdditiveMix(0.0, 1.0), p=0.5))
    else:
        steps.append(PairDifference(0.0, s, classes=True))
        steps.append(RandomApply(Mixup(0.4, n_classes=n_classes), p=0.5))
    return Compose(steps, seed=seed)
