r"""Calibration standards augmented with the variation of unlabeled process spectra.

Standards of a pure analyte (glucose in water) hold none of the interferents of the process
they are meant to monitor (biomass, other sugars, ethanol, temperature). A regression
fitted on them responds to those interferents wherever they overlap its coefficients. The
process spectra themselves, unlabeled, show the interferents: their variation around their
mean, and the difference of their mean from the standards' mean, are interferent plus
analyte. Removing the part along the analyte's signature :math:`s` (the regression of the
standards on their labels, :func:`~spectrakit.chemometrics.label_shift.analyte_signature`)
leaves directions that carry no analyte, under the assumption that an interferent has no
component along :math:`s` (the one part the spectra cannot tell apart from the analyte).

:func:`interferent_basis` keeps the first ``k`` principal directions :math:`p_j` of that
variation with their standard deviations :math:`\sigma_j`, and the mean offset :math:`o`;
:func:`augment_with_interferents` adds to each standard random combinations
:math:`\sum_j a_j \sigma_j p_j + c\,o` (:math:`a_j \sim N(0, 1)`, :math:`c \sim U(0, c_{max})`)
with the standard's own label. A PLS fitted on the augmented set becomes insensitive to
those directions (the net-analyte-signal idea), without any label of the process.
:func:`process_like` builds validation spectra the same way from spectra that the basis did
not see: a held-out standard plus the analyte-free part of a real process spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectrakit.chemometrics.label_shift import analyte_signature
from spectrakit.core.errors import DataError

__all__ = [
    "InterferentBasis",
    "augment_with_interferents",
    "interferent_basis",
    "process_like",
]


@dataclass(frozen=True)
class InterferentBasis:
    """Analyte-free directions of the process spectra.

    Attributes
    ----------
    unit : ndarray of shape (p,)
        The analyte's signature scaled to unit norm (the direction removed).
    components : ndarray of shape (k, p)
        Orthonormal principal directions of the process variation, orthogonal to ``unit``.
    scales : ndarray of shape (k,)
        Standard deviation of the process spectra along each direction.
    offset : ndarray of shape (p,)
        Mean of the process spectra minus mean of the standards, orthogonal to ``unit``.
    """

    unit: np.ndarray
    components: np.ndarray
    scales: np.ndarray
    offset: np.ndarray


def _without(D: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """Rows of ``D`` with their projection on ``unit`` removed."""
    return D - np.outer(D @ unit, unit)


def _checked(Zs: np.ndarray, y: np.ndarray, Zt: np.ndarray) -> tuple[np.ndarray, ...]:
    Zs, Zt = np.asarray(Zs, np.float64), np.asarray(Zt, np.float64)
    y = np.asarray(y, np.float64).ravel()
    if Zs.ndim != 2 or Zt.ndim != 2 or Zs.shape[1] != Zt.shape[1] or len(Zs) != len(y):
        raise DataError(
            "interferent augmentation needs labelled standards and process spectra on one axis",
            expected="standards (n, p) with n labels, process spectra (m, p)",
            got=f"standards {Zs.shape}, {len(y)} labels, process {Zt.shape}",
        )
    if len(Zt) < 2 or len(Zs) < 3:
        raise DataError(
            "too few spectra for interferent augmentation",
            expected="at least 3 standards and 2 process spectra",
            got=f"{len(Zs)} standards, {len(Zt)} process spectra",
        )
    return Zs, y, Zt


def interferent_basis(
    Zs: np.ndarray, y: np.ndarray, Zt: np.ndarray, n_components: int
) -> InterferentBasis:
    """The first ``n_components`` analyte-free directions of the process spectra.

    Parameters
    ----------
    Zs : ndarray of shape (n, p)
        Preprocessed standards.
    y : ndarray of shape (n,)
        Their labels.
    Zt : ndarray of shape (m, p)
        Preprocessed process spectra (no labels).
    n_components : int
        Number of directions kept (0: only the mean offset).

    Returns
    -------
    InterferentBasis
    """
    Zs, y, Zt = _checked(Zs, y, Zt)
    s = analyte_signature(Zs, y)
    unit = s / max(float(np.linalg.norm(s)), 1e-300)
    D = _without(Zt - Zt.mean(axis=0), unit)
    k = int(max(0, min(n_components, len(Zt) - 1, Zt.shape[1])))
    _, S, Vt = np.linalg.svd(D, full_matrices=False)
    offset = _without((Zt.mean(axis=0) - Zs.mean(axis=0))[None, :], unit)[0]
    return InterferentBasis(unit, Vt[:k], S[:k] / np.sqrt(len(Zt) - 1), offset)


def augment_with_interferents(
    Zs: np.ndarray,
    y: np.ndarray,
    basis: InterferentBasis,
    *,
    n_per: int = 30,
    max_offset: float = 1.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The standards followed by ``n_per`` augmented copies of each.

    Parameters
    ----------
    Zs : ndarray of shape (n, p)
    y : ndarray of shape (n,)
    basis : InterferentBasis
    n_per : int
        Augmented copies per standard.
    max_offset : float
        Upper end of the uniform weight of the mean offset (0: no offset added).
    seed : int

    Returns
    -------
    X : ndarray of shape (n * (n_per + 1), p)
    y : ndarray of shape (n * (n_per + 1),)
    """
    Zs, y = np.asarray(Zs, np.float64), np.asarray(y, np.float64).ravel()
    rng = np.random.default_rng(seed)
    idx = np.repeat(np.arange(len(Zs)), n_per)
    coef = rng.normal(size=(len(idx), len(basis.scales))) * basis.scales
    extra = coef @ basis.components if len(basis.scales) else np.zeros((len(idx), Zs.shape[1]))
    extra += rng.uniform(0.0, max_offset, len(idx))[:, None] * basis.offset
    return np.vstack([Zs, Zs[idx] + extra]), np.concatenate([y, y[idx]])


def process_like(
    Zs: np.ndarray,
    Zt: np.ndarray,
    unit: np.ndarray,
    reference_mean: np.ndarray,
    *,
    n_per: int = 10,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Standards placed in the matrix of real process spectra, for validation.

    Each copy is ``Zs[i] + (Zt[r] - reference_mean)`` with the part along ``unit`` removed,
    for random process rows ``r``: the standard's analyte in a process spectrum's background.

    Parameters
    ----------
    Zs : ndarray of shape (n, p)
        Held-out standards.
    Zt : ndarray of shape (m, p)
        Process spectra not used to build the training basis.
    unit : ndarray of shape (p,)
        Unit analyte signature (of the training standards).
    reference_mean : ndarray of shape (p,)
        Mean of the training standards.
    n_per : int
    seed : int

    Returns
    -------
    X : ndarray of shape (n * n_per, p)
    rows : ndarray of shape (n * n_per,)
        Index into ``Zs`` of each copy (its label is that standard's).
    """
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(len(Zs)), n_per)
    picks = rng.integers(0, len(Zt), len(rows))
    background = _without(np.asarray(Zt, np.float64)[picks] - reference_mean, unit)
    return np.asarray(Zs, np.float64)[rows] + background, rows
