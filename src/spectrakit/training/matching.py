"""Labelled spectra "as the new instrument would have measured them", only when that is reliable.

:func:`simulate_target` fits :func:`~spectrakit.training.instrument.fit_instrument_response`
to the training spectra and the unlabeled spectra of the new instrument and applies it to the
training spectra. Two label-free checks decide whether the simulated spectra are used:

1. the instrument model explains the difference of the two mean spectra
   (:attr:`~spectrakit.training.instrument.InstrumentResponse.explains`);
2. the matching is *stable*: the response is fitted again on two disjoint halves of both
   spectra sets, a PLS (the latent variables of the full matched model) is trained on the
   spectra simulated by each half-fit, and both predict the unlabeled target spectra after
   instrument mean-centering. Half the RMS difference of those two predictions estimates the
   noise of the full-set matching (each half has half the spectra, so twice the variance);
   when it is not smaller than the change the matching makes to the predictions of the
   mean-centered PLS, the matching cannot be told apart from its own noise and is not used.

With few unlabeled spectra, or sample sets whose mean compositions differ more than an
instrument does, check 2 fails and the caller falls back to the unmatched spectra; the
reason is recorded in the returned ``info``. No reference value of any spectrum is read
beyond the training targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.chemometrics import InstrumentMeanCentering, PLSRegressor, SpectralEstimator
from spectrakit.core.spectra import Spectra
from spectrakit.training.instrument import InstrumentResponse, fit_instrument_response

__all__ = ["MIN_SPECTRA", "simulate_target", "split_half_spread"]

#: fewest spectra per instrument for the split-half check (two halves of two spectra)
MIN_SPECTRA = 4


def _apply(response: InstrumentResponse, X: Spectra) -> Spectra:
    return X.with_values(response.transform(X.values).astype(np.float32))


def _centered_predictions(est: Any, train: Spectra, target: Spectra) -> np.ndarray:
    """Predictions (n_t,) of ``est`` (fitted on ``train``) for mean-centered ``target``."""
    centering = InstrumentMeanCentering().fit(train, target)
    return np.asarray(est.predict(centering.transform(target)), dtype=np.float64).ravel()


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def split_half_spread(
    X: Spectra, y: np.ndarray, target: Spectra, pipeline: Any, n_lv: int, seed: int = 0
) -> float:
    """Noise of the matched predictions, from two disjoint half-fits of the response.

    Parameters
    ----------
    X : Spectra
        Labelled training spectra, ``n >= 4``.
    y : ndarray of shape (n,)
    target : Spectra
        Unlabeled spectra of the new instrument, ``n_t >= 4``.
    pipeline : pipeline
        Preprocessing of the PLS.
    n_lv : int
        Latent variables of the PLS trained on each half's simulated spectra.
    seed : int

    Returns
    -------
    float
        Half the RMS difference of the two half-fits' predictions on ``target``.
    """
    rng = np.random.default_rng(seed)
    ps, pt = rng.permutation(X.n_spectra), rng.permutation(target.n_spectra)
    preds = []
    for h in range(2):
        response = fit_instrument_response(X.values[ps[h::2]], target.values[pt[h::2]])
        sim = _apply(response, X)
        est = SpectralEstimator(PLSRegressor(n_components=n_lv), pipeline).fit(sim, y)
        preds.append(_centered_predictions(est, sim, target))
    return _rms(preds[0], preds[1]) / 2.0


def simulate_target(
    X: Spectra,
    y: np.ndarray,
    target: Spectra,
    pipeline: Any,
    pls: Any,
    seed: int = 0,
    response: InstrumentResponse | None = None,
) -> tuple[Spectra, InstrumentResponse | None, dict]:
    """Training spectra as the new instrument would measure them, when the checks pass.

    Parameters
    ----------
    X : Spectra
        Labelled training spectra.
    y : ndarray of shape (n,)
    target : Spectra
        Unlabeled spectra of the new instrument (same axis as ``X``).
    pipeline : pipeline
        Preprocessing of the CV-tuned PLS.
    pls : callable
        ``pls(pipeline)`` -> unfitted CV-tuned PLS estimator.
    seed : int
    response : InstrumentResponse, optional
        The response already fitted to ``X`` and ``target`` (it is fitted here otherwise).

    Returns
    -------
    spectra : Spectra
        The simulated spectra, or ``X`` itself when the matching is not used.
    response : InstrumentResponse or None
        ``None`` when not used.
    info : dict
        ``instrument``: shift, width, residual, ``used``, ``reason`` and, when checked,
        ``spread`` and ``benefit`` (in target units).
    """
    if response is None:
        response = fit_instrument_response(X.values, target.values)
    facts = {"shift_points": response.shift, "width_points": response.width,
             "residual": response.residual, "used": False}  # fmt: skip
    info = {"instrument": facts}
    if not response.explains:
        facts["reason"] = "the instrument model does not explain the two mean spectra"
        return X, None, info
    if min(X.n_spectra, target.n_spectra) < MIN_SPECTRA:
        facts["reason"] = f"fewer than {MIN_SPECTRA} spectra per instrument to check it"
        return X, None, info
    sim = _apply(response, X)
    matched = pls(pipeline).fit(sim, y)
    plain = pls(pipeline).fit(X, y)
    benefit = _rms(_centered_predictions(matched, sim, target),
                   _centered_predictions(plain, X, target))  # fmt: skip
    n_lv = int(matched.model_[-1].n_components_)
    spread = split_half_spread(X, y, target, pipeline, n_lv, seed)
    facts.update({"spread": spread, "benefit": benefit})
    if spread >= benefit:
        facts["reason"] = "unstable: split-half spread >= the change it makes to predictions"
        return X, None, info
    facts.update({"used": True, "reason": "explains the means and is stable on split halves"})
    return sim, response, info
