"""One call from a predictor and training spectra to a fitted, calibrated detector."""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.ood._base import OODDetector, create_detector
from spectrakit.ood._inputs import detector_inputs

__all__ = ["fit_ood"]


def fit_ood(
    predictor: Any,
    train: Any,
    method: str = "dime",
    *,
    heldout: Any = None,
    false_rejection: float = 0.05,
    labels: str | None = None,
    heldout_fraction: float = 0.2,
    seed: int = 0,
    tune: bool = False,
    **params: Any,
) -> OODDetector:
    """Fit and calibrate an OOD detector on a predictor's view of its training spectra.

    Parameters
    ----------
    predictor : Predictor
        The model bundle, loaded (``spectrakit.load``).
    train : Spectra
        In-distribution spectra (usually the training set).
    method : str, default="dime"
        Registered detector name (``dime``, ``mahalanobis``, ``knn``, ``energy``,
        ``reconstruction``).
    heldout : Spectra, optional
        In-distribution spectra not used for fitting, for the threshold. Default: a random
        ``heldout_fraction`` of ``train`` is set aside.
    false_rejection : float, default=0.05
        Fraction of in-distribution spectra the threshold flags.
    labels : str, optional
        Metadata column of class labels (class-conditional Mahalanobis); default: the
        predictor's classification target when present in ``train``.
    heldout_fraction, seed : float, int
        Without ``heldout``: the share of ``train`` set aside for the threshold, and its seed.
    tune : bool, default=False
        DIME only: choose ``n_components`` and the false-rejection rate (alpha) on the
        training spectra by leave-one-class-out (:func:`spectrakit.ood.tune_dime`; needs
        class labels); ``false_rejection`` is then not used. The choice and its grid are
        kept in ``detector.tuning_`` and stored with the detector in the bundle.
    **params
        Detector parameters (e.g. ``n_components=0.95``, ``k=5``).

    Returns
    -------
    OODDetector
        Fitted and calibrated; store it with :func:`save_detector`.

    Examples
    --------
    >>> det = fit_ood(predictor, train, method="mahalanobis")  # doctest: +SKIP
    >>> save_detector(det, predictor.bundle_dir)  # doctest: +SKIP
    """
    det = create_detector(method, **params)
    train, heldout = _set_aside(train, heldout, heldout_fraction, seed)
    labels = _default_labels(predictor, train, labels)
    y = None if labels is None else train.meta[labels].to_numpy()
    X_fit, X_held = detector_inputs(predictor, train, det), detector_inputs(predictor, heldout, det)
    if tune:
        return _tuned_dime(method, X_fit, y, X_held, heldout, labels, seed)
    return det.fit(X_fit, y).calibrate(X_held, false_rejection=false_rejection)


def _tuned_dime(method, X_fit, y, X_held, heldout, labels, seed) -> OODDetector:
    from spectrakit.ood._tune import tune_dime

    if method != "dime" or y is None or labels not in heldout.meta.columns:
        raise ConfigError(
            "OOD tuning is for DIME on a classifier",
            expected="method='dime' and class labels in the training spectra",
            got=f"method={method!r}, labels={labels!r}",
            fix="drop tune=True (--ood-tune), or train a classifier",
        )
    result = tune_dime(X_fit, y, X_held, heldout.meta[labels].to_numpy(), seed=seed)
    det = create_detector("dime", n_components=result["k"])
    det.fit(X_fit)
    det.calibrate(X_held, false_rejection=result["alpha"])
    det.tuning_ = result
    return det


def _set_aside(train: Any, heldout: Any, fraction: float, seed: int) -> tuple[Any, Any]:
    """The fitting and the held-out spectra: ``heldout`` when given.

    Without it, ``train`` is split at random into the fitting spectra and a held-out
    ``fraction`` of them (at least 2).
    """
    if heldout is not None:
        return train, heldout
    if train.n_spectra < 10:
        raise DataError(
            "too few spectra to fit and calibrate an OOD detector",
            expected=">= 10 spectra (or pass heldout=)",
            got=str(train.n_spectra),
        )
    rng = np.random.default_rng(seed)
    order = rng.permutation(train.n_spectra)
    n_cal = max(2, round(fraction * train.n_spectra))
    return train.select(order[n_cal:]), train.select(order[:n_cal])


def _default_labels(predictor: Any, train: Any, labels: str | None) -> str | None:
    """``labels``, else a classifier's target column when ``train`` has it, else ``None``."""
    if labels is None and getattr(predictor, "task", None) == "classification":
        targets = list(getattr(predictor, "targets", None) or [])
        labels = targets[0] if targets and targets[0] in train.meta.columns else None
    return labels
