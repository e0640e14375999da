r"""How much of the mean difference between two domains is a real change of the analyte.

Instrument mean-centering (and di-PLS, which centres each domain by its own mean) maps the
mean of the new spectra onto the mean of the calibration spectra, so the predicted mean of
the new spectra becomes the mean of the calibration labels: a real change of the analyte's
level between the two sets (standards of 0-50 g/L against a process that runs at 10 g/L)
is removed together with the instrument or matrix offset, and cross-validation on the
calibration spectra cannot see it.

:func:`estimate_label_shift` estimates the part of the mean difference
:math:`d = \bar x_t - \bar x_s` (in the model's input space) that is analyte. Every PLS
model of the calibration data with :math:`a = 1 \dots A` latent variables is a calibrated
read-out of the analyte (its response to the analyte's spectral signature is about one),
so a real label shift :math:`\Delta` moves every read-out :math:`b_a^\top d` by the same
:math:`\Delta`; an instrument offset :math:`r` moves them by :math:`b_a^\top r`, which
changes with :math:`a` as each latent variable weighs the spectrum differently. The views
:math:`v_a = b_a^\top d` give the estimate :math:`\hat\mu = \operatorname{mean}(v)` and its
spread :math:`\hat\sigma = \operatorname{sd}(v)`; the shift kept is

.. math::
    \hat\Delta = \hat\mu \,\max\!\left(0,\; 1 - \left(k \hat\sigma / \hat\mu\right)^2\right),
    \quad k = 3,

the full shift when all read-outs agree (a label shift), none when they scatter around
zero (an offset the analyte cannot explain: plain centering), and a shrunk shift between.
The transfer then moves the new spectra onto the calibration mean *plus*
:math:`\hat\Delta` times the analyte's unit signature (:func:`analyte_signature`, the
regression of the spectra on the labels, scaled so that the model reads it as one unit),
so the predicted mean of the new spectra follows the estimated concentration change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectrakit.chemometrics._pls import pls_nipals
from spectrakit.core.errors import DataError

__all__ = ["LabelShift", "analyte_signature", "estimate_label_shift", "unit_signature"]

#: read-outs must agree within 1/k of the shift they see for it to be kept in full
EVIDENCE = 3.0


@dataclass(frozen=True)
class LabelShift:
    r"""The label shift kept by a transfer, and the evidence behind it.

    Attributes
    ----------
    shift : float
        :math:`\hat\Delta`, in label units (0: plain centering).
    views : tuple of float
        :math:`b_a^\top d` of the PLS models with 1..A latent variables.
    mean, spread : float
        Mean and standard deviation of ``views``.
    kept : float
        The fraction of ``mean`` kept, in [0, 1].
    """

    shift: float
    views: tuple[float, ...]
    mean: float
    spread: float
    kept: float

    def describe(self) -> str:
        """One phrase for reports: the shift kept and why."""
        return (
            f"label shift {self.shift:+.4g} kept ({self.kept:.0%} of {self.mean:+.4g}; "
            f"read-outs of 1-{len(self.views)} LVs spread {self.spread:.3g})"
        )


def analyte_signature(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean spectral change per unit of ``y``: the regression of the spectra on the labels.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,)

    Returns
    -------
    ndarray of shape (p,)
    """
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64).ravel()
    yc = y - y.mean()
    yy = float(yc @ yc)
    if yy <= 0:
        raise DataError("the analyte signature needs labels that vary", got="constant y")
    return (X - X.mean(axis=0)).T @ yc / yy


def estimate_label_shift(
    Xs: np.ndarray,
    y: np.ndarray,
    Xt: np.ndarray,
    *,
    max_components: int = 10,
    evidence: float = EVIDENCE,
) -> LabelShift:
    """The analyte part of the mean difference between target and source (module notes).

    Parameters
    ----------
    Xs : ndarray of shape (n_s, p)
        Labelled source spectra, in the model's input space (preprocessed).
    y : ndarray of shape (n_s,)
    Xt : ndarray of shape (n_t, p)
        Unlabeled target spectra, same space.
    max_components : int
        Largest PLS model among the read-outs (capped by ``n_s - 2``).
    evidence : float
        :math:`k`: how many spreads the mean read-out must exceed to be kept in full.

    Returns
    -------
    LabelShift
    """
    Xs, Xt = np.asarray(Xs, np.float64), np.asarray(Xt, np.float64)
    y = np.asarray(y, np.float64).ravel()
    if len(Xs) != len(y) or len(Xs) < 4 or len(Xt) < 1 or Xs.shape[1] != Xt.shape[1]:
        raise DataError(
            "the label-shift estimate needs labelled source and target spectra on one axis",
            expected="at least 4 source spectra with one label each, target of equal length",
            got=f"{Xs.shape} source, {len(y)} labels, {Xt.shape} target",
        )
    mean_s = Xs.mean(axis=0)
    k = pls_nipals(Xs - mean_s, (y - y.mean())[:, None], min(max_components, len(Xs) - 2))
    d = Xt.mean(axis=0) - mean_s
    per_lv = (d @ k["R"]) * k["Q"][0]  # contribution of each latent variable to b_a' d
    views = np.cumsum(per_lv)
    mu = float(views.mean())
    sd = float(views.std(ddof=1)) if len(views) > 1 else 0.0
    kept = 0.0 if mu == 0 else max(0.0, 1.0 - (evidence * sd / mu) ** 2)
    return LabelShift(kept * mu if kept > 0 else 0.0, tuple(float(v) for v in views), mu, sd, kept)


def unit_signature(X: np.ndarray, y: np.ndarray, readout) -> np.ndarray:
    """The analyte signature scaled so that ``readout`` (a fitted model) reads it as 1.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,)
    readout : callable
        ``readout(values) -> predictions`` of the deployed model on raw values (n, p).

    Returns
    -------
    ndarray of shape (p,)
    """
    s = analyte_signature(X, y)
    m = np.asarray(X, np.float64).mean(axis=0)
    both = np.ravel(readout(np.stack([m + s, m])))
    gain = float(both[0] - both[1])
    if not np.isfinite(gain) or abs(gain) < 1e-12:
        raise DataError("the model does not respond to the analyte signature", got=f"{gain}")
    return s / gain
