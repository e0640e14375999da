"""The transfer candidates of the automatic choice keep the estimated label shift.

Every transfer from unlabeled spectra of the new domain (instrument mean-centering, di-PLS,
the adapted score network) centres the new spectra on their own mean, which also erases a
real change of the analyte's level between the labelled and the new spectra.
:func:`spectrakit.chemometrics.label_shift.estimate_label_shift` estimates that change from
the spectra alone; the functions here put it back into each candidate's target centre,
along the analyte's unit signature, so the predicted mean of the new spectra is the
labelled mean plus the kept shift (and exactly the plain centering when none is kept).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.chemometrics import InstrumentMeanCentering
from spectrakit.chemometrics.label_shift import LabelShift, estimate_label_shift, unit_signature
from spectrakit.core.spectra import Spectra

__all__ = [
    "analyte_preserving_centering",
    "keep_shift_in_dipls",
    "keep_shift_in_scores",
    "shift_info",
]


def _values(values: Any) -> np.ndarray:
    return np.asarray(values.values if isinstance(values, Spectra) else values, np.float64)


def _shift_of(est: Any, X: Spectra, y: np.ndarray, target: Spectra):
    """The label shift seen through ``est``'s preprocessing, and its raw unit signature."""
    pre = est.model_[:-1]
    shift = estimate_label_shift(_values(pre.transform(X)), y, _values(pre.transform(target)))
    if shift.shift == 0.0:
        return shift, None
    return shift, unit_signature(X.values, y, lambda v: est.predict(Spectra(v, X.axis)))


def analyte_preserving_centering(
    est: Any, X: Spectra, y: np.ndarray, target: Spectra
) -> tuple[InstrumentMeanCentering, LabelShift]:
    """Mean-centering of ``target`` onto the mean of ``X`` plus the kept analyte change.

    Parameters
    ----------
    est : SpectralEstimator
        The PLS fitted on ``X, y`` (its preprocessing is where the shift is estimated).
    X : Spectra
        Labelled spectra (n, p).
    y : ndarray of shape (n,)
    target : Spectra
        Unlabeled spectra of the new domain (m, p).

    Returns
    -------
    (InstrumentMeanCentering, LabelShift)
        The fitted transfer (``est.predict(transfer.transform(target))`` averages
        ``y.mean() + shift.shift`` when the preprocessing is affine) and the estimate.
    """
    shift, unit = _shift_of(est, X, y, target)
    keep = None if unit is None else shift.shift * unit
    return InstrumentMeanCentering().fit(X, target, keep=keep), shift


def keep_shift_in_dipls(model: Any, Zs: np.ndarray, y: np.ndarray, Zt: np.ndarray) -> LabelShift:
    """Move a fitted di-PLS's target centre so its target predictions keep the shift.

    Parameters
    ----------
    model : DIPLS
        Fitted on the preprocessed ``Zs`` (n, p), ``y`` and ``Zt`` (m, p); changed in place.
    """
    shift = estimate_label_shift(Zs, y, Zt)
    if shift.shift != 0.0:
        unit = unit_signature(Zs, y, lambda v: model.predict(v, domain="source"))
        model.target_mean_ = model.target_mean_ - shift.shift * unit
    return shift


def keep_shift_in_scores(m: Any, X: Spectra, y: np.ndarray, target: Spectra) -> LabelShift:
    """Move an adapted score network's target-score centre back by the kept shift.

    Parameters
    ----------
    m : ScoreNetModel
        Adapted to ``target``; its ``scores.mean[1]`` is changed in place.
    """
    from spectrakit.training.scorenet import latent_scores

    est = m.scores.pls
    shift, unit = _shift_of(est, X, y, target)
    if unit is not None:
        centre = X.values.astype(np.float64).mean(axis=0)
        t = latent_scores(est, Spectra(np.stack([centre + unit, centre]), X.axis))
        m.scores.mean[1] = m.scores.mean[1] - shift.shift * (t[0] - t[1])
    return shift


def shift_info(shift: LabelShift) -> dict[str, Any]:
    """The candidate-info entries of a label-shift estimate (the card shows them)."""
    return {"label_shift": shift.shift, "label_shift_kept": shift.kept,
            "label_shift_note": shift.describe()}  # fmt: skip
