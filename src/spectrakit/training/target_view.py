"""A validation that represents the new instrument, built from its unlabeled spectra alone.

CV on the training instrument cannot tell which transfer method works best on a new one:
every transfer candidate predicts the training spectra about equally well. The *target
view* is the training spectra as the new instrument would have measured them: the
instrument model (shift, broadening, response, baseline;
:func:`~spectrakit.training.instrument.fit_instrument_response`) is fitted to the training
spectra and the unlabeled spectra of the new instrument and applied to the training
spectra. No target label is read, so it is as honest as mean-centering.

Inside the shared CV folds, each transfer candidate meets a simulated transfer problem in
which the view plays the new instrument: the candidate, fitted on the fold's training
spectra, takes the view of those same rows as the new instrument's unlabeled spectra (its
mean-centering, di-PLS's target set, the network's per-domain score centring) and
predicts the view's *held-out* rows (``domain="target"``); the RMSE against their
(training) targets is the candidate's ``target_error``. Centring on the view of the same
samples removes the instrument's mean difference without the sampling difference of two
sample sets, which every centred candidate shares on real data alike; what the view then
measures is how well each candidate copes with the shift, broadening and response.
:func:`choose` ranks by it when a view exists, else by the plain CV error. PLS +
mean-centering is always a candidate, so the choice is never worse than it on the
criterion it is ranked by.

The view is only built when the instrument model explains the difference of the two mean
spectra (:attr:`~spectrakit.training.instrument.InstrumentResponse.explains`); a candidate
trained on spectra simulated with the same model is validated by it too, so the ranking
trusts that model as far as the split-half check of :mod:`spectrakit.training.matching`
does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spectrakit.core.spectra import Spectra
from spectrakit.training.instrument import InstrumentResponse, fit_instrument_response

__all__ = ["TargetView", "choose", "ranking_error", "target_view", "view_error"]


@dataclass(frozen=True)
class TargetView:
    """Training spectra as the new instrument would measure them.

    Attributes
    ----------
    spectra : Spectra
        ``n`` simulated spectra, row ``i`` from training spectrum ``i``, on the same axis.
    response : InstrumentResponse
        The fitted instrument model.
    """

    spectra: Spectra
    response: InstrumentResponse

    def select(self, rows: np.ndarray) -> Spectra:
        """The simulated spectra of the training rows ``rows``."""
        return self.spectra.select(rows)


def target_view(X: Spectra, target: Spectra | None) -> TargetView | None:
    """The target view of ``X``, or ``None`` without target spectra or a fitting model.

    Parameters
    ----------
    X : Spectra
        Labelled training spectra, shape (n, L).
    target : Spectra, optional
        Unlabeled spectra of the new instrument, shape (n_t, L), same axis.

    Returns
    -------
    TargetView or None
    """
    if target is None or min(X.n_spectra, target.n_spectra) < 2:
        return None
    response = fit_instrument_response(X.values, target.values)
    if not response.explains:
        return None
    simulated = response.transform(X.values).astype(np.float32)
    return TargetView(X.with_values(simulated), response)


def view_error(y: np.ndarray, pred: np.ndarray, task: str = "regression") -> float:
    """RMSE (regression) or error rate of the held-out view predictions (n,)."""
    if task == "regression":
        return float(np.sqrt(np.mean((np.asarray(pred, float) - np.asarray(y, float)) ** 2)))
    return float(np.mean(np.asarray(pred) != np.asarray(y)))


def ranking_error(candidate: Any, by_view: bool) -> float:
    """The error a candidate is ranked by: its target-view error when ``by_view``, else CV."""
    if by_view:
        return float(candidate.target_error)
    return float(candidate.cv_error)


def choose(candidates: Sequence[Any], has_target: bool) -> tuple[Any, bool]:
    """The candidate with the lowest ranking error (PLS wins ties) and whether the view ranked.

    With target spectra only transfer-aware candidates compete (kind other than ``"pls"``);
    when some of them have a ``target_error`` (a target view exists), those are ranked by it
    and the others are left out; otherwise all are ranked by CV.

    Parameters
    ----------
    candidates : sequence
        Objects with ``cv_error``, ``kind`` and (optionally) ``target_error``.
    has_target : bool

    Returns
    -------
    chosen : candidate
    by_view : bool
    """
    eligible = [c for c in candidates if not has_target or c.kind != "pls"]
    viewed = [c for c in eligible if getattr(c, "target_error", None) is not None]
    by_view = has_target and bool(viewed)
    eligible = viewed if by_view else eligible
    chosen = min(eligible, key=lambda c: (ranking_error(c, by_view), not c.kind.startswith("pls")))
    return chosen, by_view
