"""Chemometric models as bundles: the same format, predictor, server and ONNX path as networks.

:func:`fit_chemometric` fits PLS, PLS-DA, ridge, SVM or a random forest behind its
preprocessing (number of latent variables by inner CV), measures K-fold cross-validated
metrics on the training spectra, fits an out-of-distribution detector and calibrates its
threshold on the *cross-validated* (held-out) training spectra at the stated
false-rejection rate, and writes a bundle. :func:`save_chemometric` does the same for a
model already fitted (``spectrakit baseline ... --save``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectrakit.core.errors import BundleError, ConfigError
from spectrakit.core.spectra import Spectra
from spectrakit.predict.bounds import declared_bounds
from spectrakit.training._chemometric_module import chemometric_module

__all__ = ["OOD_METHODS", "fit_chemometric", "save_chemometric"]

#: detectors a chemometric bundle can carry ("auto": T2/Q for PLS, DIME otherwise)
OOD_METHODS = ("auto", "t2q", "dime", "mahalanobis", "knn", "none")


def _parts(estimator: Any, train: Spectra) -> tuple[Any, Any]:
    """Fitted (ChannelPreprocessor, module) of a fitted SpectralEstimator."""
    from spectrakit.chemometrics import ToValues
    from spectrakit.preprocessing.channels import ChannelPreprocessor

    steps = estimator.model_.steps
    values_at = next(i for i, (_, s) in enumerate(steps) if isinstance(s, ToValues))
    if values_at != len(steps) - 2 or values_at > 1:
        raise BundleError(
            "this model's preprocessing cannot be stored in a bundle",
            expected="a spectrakit preprocessing pipeline (preset, YAML/JSON or steps)",
            got=", ".join(type(s).__name__ for _, s in steps[:-1]),
            fix="express the preprocessing with spectrakit.preprocessing steps",
        )
    prep = ChannelPreprocessor([estimator.pipeline]).fit(train)  # same data: same state
    module = chemometric_module(steps[-1][1], prep.output_axis_.n_points)
    return prep, module


@torch.no_grad()
def _run(module: Any, prep: Any, spectra: Spectra) -> tuple[np.ndarray, np.ndarray]:
    """Raw outputs (n, m) and features (n, D) of ``spectra``."""
    x = torch.from_numpy(prep.transform(spectra))
    feats = module.forward_features(x)
    return module.forward_head(feats).double().numpy(), feats.double().numpy()


def _detector(method: str, estimator: Any) -> Any:
    from spectrakit.chemometrics import PLSDA, PLSRegressor
    from spectrakit.ood import create_detector

    if method == "auto":
        pls = isinstance(estimator.model_[-1], PLSRegressor | PLSDA)
        method = "t2q" if pls else "dime"
    if method == "t2q" and not isinstance(estimator.model_[-1], PLSRegressor | PLSDA):
        raise ConfigError(
            "T2/Q residuals need a PLS model",
            expected="--model pls or plsda",
            got="another chemometric model",
            fix="use --ood dime, mahalanobis or knn",
        )
    return create_detector(method)


def _folds(y: np.ndarray, folds: int, seed: int, task: str) -> list:
    """The K-fold splits: stratified by class, as the automatic choice splits, when it can be.

    A class with a single spectrum cannot be stratified; then the folds are plain K-fold.
    """
    from sklearn.model_selection import KFold

    from spectrakit.training.folds import cv_folds

    if task == "classification":
        _, codes = np.unique(np.asarray(y), return_inverse=True)
        if np.bincount(codes).min() >= 2:
            return cv_folds(len(codes), k=folds, y=codes, seed=seed)
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.arange(len(y))))


def _cross_validated(estimator: Any, train: Spectra, y: np.ndarray, det: Any, splits: list):
    """Held-out OOD scores and predictions of every training spectrum (``splits``: K-fold)."""
    from sklearn.base import clone

    scores = np.empty(train.n_spectra)
    raw = None
    for tr, te in splits:
        fold = clone(estimator).fit(train[tr], y[tr])
        prep, module = _parts(fold, train[tr])
        _, f_tr = _run(module, prep, train[tr])
        out, f_te = _run(module, prep, train[te])
        raw = np.empty((train.n_spectra, out.shape[1])) if raw is None else raw
        raw[te] = out
        if det is not None:
            scores[te] = clone_detector(det).fit(f_tr).score_samples(f_te)
    return scores, raw


def clone_detector(det: Any) -> Any:
    """An unfitted copy of ``det`` with the same parameters."""
    return type(det)(**det.get_params())


def _cv_metrics(task: str, y: np.ndarray, raw: np.ndarray, classes: Any) -> dict:
    if task == "regression":
        y2 = y.reshape(len(y), -1)
        err = raw - y2
        ss = ((y2 - y2.mean(axis=0)) ** 2).sum(axis=0)
        r2 = 1.0 - (err**2).sum(axis=0) / np.maximum(ss, 1e-300)
        return {"cv_rmse": float(np.sqrt(np.mean(err**2))), "cv_r2": float(np.mean(r2))}
    pred = np.asarray(classes)[raw.argmax(axis=1)]
    return {"cv_accuracy": float(np.mean(pred == np.asarray(y)))}


def save_chemometric(
    estimator: Any,
    train: Spectra,
    y: Any,
    out: str | Path,
    *,
    task: str,
    targets: list[str],
    ood: str = "auto",
    false_rejection: float = 0.05,
    folds: int = 5,
    seed: int = 0,
    metrics: dict | None = None,
    training: dict | None = None,
    output_correction: tuple[float, float] | None = None,
    bounds: tuple[Any, Any] = (None, None),
) -> Any:
    """Write a fitted chemometric :class:`~spectrakit.chemometrics.SpectralEstimator` as a bundle.

    Parameters
    ----------
    estimator : SpectralEstimator
        Fitted on ``train`` and ``y``.
    train : Spectra
        The training spectra (raw, before preprocessing).
    y : array-like of shape (n,) or (n, m)
        The training targets or labels.
    out : str or Path
        Bundle directory (written atomically).
    task : {"regression", "classification"}
    targets : list of str
        Target column names (classification: the label column).
    ood : {"auto", "t2q", "dime", "mahalanobis", "knn", "none"}
        Detector; ``auto`` is Hotelling T²/Q for PLS and PLS-DA, DIME otherwise.
    false_rejection : float, default=0.05
        Rate of in-distribution spectra flagged, calibrated on the ``folds``-fold
        cross-validated (held-out) training spectra.
    metrics, training : dict, optional
        Recorded in the bundle (cross-validated metrics are added).
    output_correction : (slope, bias), optional
        Slope/bias calibration transfer applied to every prediction (``slope * y + bias``).
    bounds : (lower, upper), optional
        Declared bounds of the targets (:func:`spectrakit.predict.bounds.declared_bounds`);
        every prediction is clipped to them.

    Returns
    -------
    Predictor
        The written bundle, loaded.
    """
    from spectrakit import bundle
    from spectrakit.ood import save_detector
    from spectrakit.predict.loader import load

    y = np.asarray(y)
    declared = declared_bounds(*bounds, len(targets), task)  # refused before any fitting
    fitted = _fit_for_bundle(estimator, train, y, task, ood, false_rejection, folds, seed)
    record = {"metrics": metrics or {}, "training": training or {}, "targets": list(targets)}
    record["bounds"] = declared
    bundle.save(out, **_save_fields(estimator, fitted, train, y, output_correction, record))
    if fitted.detector is not None:
        save_detector(fitted.detector, out)
    return load(out)


@dataclass
class _Fitted:
    """What a chemometric bundle stores, computed before anything is written."""

    task: str
    prep: Any  # fitted ChannelPreprocessor
    module: Any  # the torch form of the estimator
    detector: Any  # calibrated OOD detector, or None
    cv_raw: np.ndarray  # (n, m) held-out raw outputs of the training spectra
    folds: int
    classes: Any


def _fit_for_bundle(
    estimator: Any,
    train: Spectra,
    y: np.ndarray,
    task: str,
    ood: str,
    false_rejection: float,
    folds: int,
    seed: int,
) -> _Fitted:
    """The torch module, held-out predictions and the calibrated detector of ``estimator``.

    Everything that can fail happens here, before anything is written: a failure leaves no
    bundle. The detector's threshold is calibrated on the K-fold held-out training spectra.
    """
    if ood not in OOD_METHODS:
        raise ConfigError("unknown OOD detector", expected=", ".join(OOD_METHODS), got=repr(ood))
    prep, module = _parts(estimator, train)
    raw, feats = _run(module, prep, train)
    _check_faithful(estimator, train, raw, task)
    det = None if ood == "none" else _detector(ood, estimator)
    splits = _folds(y, int(min(folds, train.n_spectra)), seed, task)
    folds = len(splits)
    held_scores, cv_raw = _cross_validated(estimator, train, y, det, splits)
    if det is not None:
        det.fit(feats).calibrate(held_scores, false_rejection=false_rejection)
    classes = getattr(estimator, "classes_", None)
    return _Fitted(task, prep, module, det, cv_raw, folds, classes)


def _save_fields(
    estimator: Any,
    fitted: _Fitted,
    train: Spectra,
    y: np.ndarray,
    output_correction: tuple[float, float] | None,
    record: dict[str, Any],
) -> dict[str, Any]:
    """Keyword arguments of :func:`spectrakit.bundle.save` for a fitted chemometric model.

    ``record`` holds the caller's ``metrics``, ``training`` and ``targets``; cross-validated
    metrics come first, the caller's next, the detector's last.
    """
    task, det, classes, targets = fitted.task, fitted.detector, fitted.classes, record["targets"]
    metrics = {**_cv_metrics(task, y, fitted.cv_raw, classes), **record["metrics"]}
    if det is not None:
        metrics.update(ood=det.name, ood_calibration=f"{fitted.folds}-fold CV held-out")
    spec, transfer = _output_spec(task, fitted.module.n_outputs, output_correction)
    spec.__dict__.update(record.get("bounds") or {})
    info = {"data": _data_summary(train, y, targets, task), **transfer}
    return {
        "model": fitted.module,
        "task": task,
        "axis": train.axis,
        "model_axis": fitted.prep.output_axis_,
        "targets": targets,
        "classes": None if classes is None else [str(c) for c in classes],
        "output": spec.__dict__,
        "preprocessor": fitted.prep,
        "training": {**info, "cv_folds": fitted.folds, **record["training"]},
        "metrics": metrics,
        "intended_use": _intended_use(estimator, targets, train, det),
    }


def _data_summary(train: Spectra, y: np.ndarray, targets: list[str], task: str) -> dict:
    out: dict[str, Any] = {"n_spectra": train.n_spectra, "n_points": train.n_points, "meta": {}}
    if task == "regression":
        y2 = y.reshape(len(y), -1)
        for j, name in enumerate(targets[: y2.shape[1]]):
            out["meta"][name] = {"min": float(y2[:, j].min()), "max": float(y2[:, j].max())}
    return out


def _intended_use(estimator: Any, targets: list[str], train: Spectra, det: Any) -> str:
    model = estimator.model_[-1]
    what = type(model[-1] if hasattr(model, "steps") else model).__name__
    if hasattr(model, "n_components_"):
        how = " (chosen by inner CV)" if hasattr(model, "cv_losses_") else ""
        what += f" with {model.n_components_} latent variables{how}"
    ood = f"; out-of-distribution detector {det.name}" if det is not None else ""
    return (
        f"{what} predicting {', '.join(targets)} from spectra on {train.axis.describe()} "
        f"({train.axis.kind}){ood}. Spectra on another grid of the same unit are resampled "
        "when they cover the range the preprocessing reads; others are refused."
    )


def _output_spec(task: str, n_out: int, correction: tuple[float, float] | None):
    """The bundle's output description, with a slope/bias correction when given."""
    from spectrakit.models.heads import OutputSpec

    spec = OutputSpec(task=task, n_targets=n_out)
    if correction is None:
        return spec, {}
    if task != "regression":
        raise ConfigError("a slope/bias correction is for regression", got=f"task {task}")
    slope, bias = (float(v) for v in correction)
    spec.target_mean, spec.target_std = [bias] * n_out, [slope] * n_out
    return spec, {"transfer": {"method": "slope-bias", "slope": slope, "bias": bias}}


def _check_faithful(estimator: Any, train: Spectra, raw: np.ndarray, task: str) -> None:
    """The module must predict what the estimator predicts (else refuse to save)."""
    if task == "regression":
        ref = np.asarray(estimator.predict(train), dtype=np.float64).reshape(raw.shape)
        got = raw
    else:
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        got = e / e.sum(axis=1, keepdims=True)
        ref = estimator.predict_proba(train)
    scale = max(float(np.abs(ref).max()), 1.0)
    if not np.allclose(got, ref, rtol=1e-4, atol=1e-4 * scale):
        raise BundleError(
            "the stored model does not reproduce the fitted one",
            expected="identical predictions on the training spectra",
            got=f"largest difference {float(np.abs(got - ref).max()):.3g}",
            fix="report this; the model cannot be saved faithfully",
        )


def _screened(train: Spectra, targets: list[str], task: str, screen: Any, seed: int):
    """Training spectra after T2/Q screening, their targets, and the screening record."""
    from spectrakit.chemometrics import resolve_target
    from spectrakit.training.screening import screen_training

    train, screening = screen_training(train, targets, screen, task=task, seed=seed)
    y = resolve_target(train, targets[0] if len(targets) == 1 else list(targets))
    if task == "regression":
        y = np.asarray(y, dtype=np.float64)
    return train, y, screening


def fit_chemometric(
    train: Spectra,
    targets: list[str],
    *,
    model: str = "pls",
    task: str = "regression",
    pipeline: Any = None,
    out: str | Path,
    ood: str = "auto",
    false_rejection: float = 0.05,
    folds: int = 5,
    seed: int = 0,
    screen: Any = "off",
    bounds: tuple[Any, Any] = (None, None),
    **params: Any,
) -> Any:
    """Fit a chemometric model on ``train`` and write it as a bundle (see module docstring).

    Parameters
    ----------
    train : Spectra
        Labelled training spectra.
    targets : list of str
        Target columns (one label column for classification).
    model : {"pls", "plsda", "ridge", "svm", "rf"}
    task : {"regression", "classification"}
    pipeline : str, dict, path or Pipeline, optional
        Preprocessing (preset name, YAML/JSON file, ...).
    out : str or Path
        Bundle directory.
    ood, false_rejection, folds, seed
        See :func:`save_chemometric`.
    screen : "off", "cv" or a confidence
        T2/Q screening of ``train`` (:func:`~spectrakit.training.screening.screen_training`).
    bounds : (lower, upper), optional
        Declared target bounds (see :func:`save_chemometric`).
    **params
        Model parameters (e.g. ``n_components`` for PLS).

    Returns
    -------
    Predictor
    """
    from spectrakit.chemometrics import make_baseline

    train, y, screening = _screened(train, targets, task, screen, seed)
    estimator = make_baseline(model, task, pipeline=pipeline, **params).fit(train, y)
    extra = {"chemometric": model, "params": params, "pipeline": str(pipeline)}
    if screening is not None:
        extra["screening"] = screening
    return save_chemometric(
        estimator,
        train,
        y,
        out,
        task=task,
        targets=targets,
        ood=ood,
        false_rejection=false_rejection,
        folds=folds,
        seed=seed,
        training=extra,
        bounds=bounds,
    )
