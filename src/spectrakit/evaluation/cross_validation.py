"""Honest cross-validation: preprocessing and model are refitted inside every fold.

A preprocessing step that learns from data (mean spectrum, MSC reference, scaler, PCA)
fitted on all spectra before splitting lets the test folds shape the training: the scores
look better than they will be on new data. :func:`cross_validate` therefore builds a *fresh*
estimator (preprocessing included) for every fold and fits it on that fold's training part
only, then pools the out-of-fold predictions (RMSECV, accuracy, ...).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier

from spectrakit.chemometrics import SpectralEstimator, resolve_target
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.progress import progress
from spectrakit.core.spectra import Spectra
from spectrakit.data.splits import get_splitter
from spectrakit.evaluation.metrics import classification_metrics, regression_metrics

__all__ = ["CVResult", "cross_validate", "fresh_estimator", "predict_scores", "score_predictions"]


@dataclass
class CVResult:
    """Out-of-fold predictions and scores of one model.

    Attributes
    ----------
    task : str
        ``"regression"`` or ``"classification"``.
    predictions : DataFrame
        One row per predicted spectrum: ``index`` (row in the input), ``fold``, ``y_true``,
        ``y_pred`` and, for classifiers with probabilities, ``proba_<class>`` columns.
    folds : DataFrame
        One row per fold: ``fold``, ``n_train``, ``n_test``, ``fit_seconds`` and the scores.
    scores : dict
        Scores of the pooled out-of-fold predictions (``rmse`` here is the RMSECV).
    classes : list or None
    estimators : list
        Fitted per-fold estimators (only with ``return_estimators=True``).
    """

    task: str
    predictions: pd.DataFrame
    folds: pd.DataFrame
    scores: dict
    classes: list | None = None
    estimators: list = field(default_factory=list)

    def summary(self) -> dict:
        """JSON-ready scores: pooled, per-fold mean and standard deviation."""
        numeric = self.folds.drop(columns=["fold"]).select_dtypes("number")
        return {
            "task": self.task,
            "pooled": {k: v for k, v in self.scores.items() if not isinstance(v, list | dict)},
            "fold_mean": numeric.mean().to_dict(),
            "fold_std": numeric.std(ddof=1).fillna(0.0).to_dict(),
            "n_folds": len(self.folds),
        }


def fresh_estimator(factory: Any, pipeline: Any = None) -> Any:
    """A new, unfitted estimator from a factory or a template, with ``pipeline`` attached.

    Estimators with their own ``pipeline`` parameter (baselines, deep adapters) get it set;
    any other scikit-learn estimator is wrapped in :class:`SpectralEstimator`.
    """
    if isinstance(factory, type) or (callable(factory) and not hasattr(factory, "fit")):
        est = factory()
    elif hasattr(factory, "fit"):
        est = clone(factory)
    else:
        raise ConfigError(
            "cannot build an estimator",
            expected="an estimator or a function returning one",
            got=type(factory).__name__,
        )
    if pipeline is None:
        return est
    if "pipeline" in est.get_params(deep=False):
        return est.set_params(pipeline=pipeline)
    return SpectralEstimator(est, pipeline=pipeline)


def _classes_of(est: Any) -> np.ndarray | None:
    classes = getattr(est, "classes_", None)
    return None if classes is None else np.asarray(classes)


def predict_scores(est: Any, X: Any, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions and (for classifiers that have them) probabilities, shape (n, n_classes)."""
    pred = np.asarray(est.predict(X))
    proba = None
    if task == "classification" and hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X), dtype=np.float64)
    elif pred.ndim == 2 and pred.shape[1] == 1:
        pred = pred[:, 0]
    return pred, proba


def score_predictions(
    task: str, y_true: Any, y_pred: Any, proba: Any = None, classes: Any = None
) -> dict:
    """Regression or classification metrics for one set of predictions."""
    if task == "regression":
        return regression_metrics(y_true, y_pred)
    return classification_metrics(y_true, y_pred, proba, classes)


def _infer_task(est: Any, y: np.ndarray, task: str | None) -> str:
    if task is not None:
        if task not in ("regression", "classification"):
            raise ConfigError("unknown task", expected="regression or classification", got=task)
        return task
    if is_classifier(est):
        return "classification"
    return "regression" if y.dtype.kind in "fiu" else "classification"


def cross_validate(
    estimator_factory: Callable[[], Any] | Any,
    spectra: Spectra | np.ndarray,
    target: str | np.ndarray,
    cv: Any = "kfold:5",
    *,
    pipeline: Any = None,
    task: str | None = None,
    groups: Any = None,
    return_estimators: bool = False,
) -> CVResult:
    """Cross-validate with every stateful step fitted inside each fold.

    Parameters
    ----------
    estimator_factory : callable or estimator
        Returns a new estimator (or a template that is cloned per fold).
    spectra : Spectra or ndarray of shape (n_spectra, n_points)
    target : str or array-like of shape (n_spectra,)
        A metadata column of ``spectra`` or the values.
    cv : str, int or splitter, default="kfold:5"
        See :func:`spectrakit.data.splits.get_splitter` (``"group:sample"``, ...).
    pipeline : str, dict, path or transformer, optional
        Preprocessing, refitted in each fold with the model.
    task : {"regression", "classification"}, optional
        Inferred from the estimator / target when omitted.
    groups : array-like, optional
        Group labels for plain-array input.
    return_estimators : bool, default=False

    Returns
    -------
    CVResult

    Examples
    --------
    >>> import numpy as np
    >>> from spectrakit.chemometrics import PLSRegressor
    >>> X = np.random.default_rng(0).normal(size=(30, 10)); y = X[:, 0] + X[:, 1]
    >>> res = cross_validate(lambda: PLSRegressor(n_components=10), X, y, cv="kfold:3")
    >>> res.scores["rmse"] < 1e-6  # exact linear relation: 10 components = least squares
    True
    """
    y = _target_values(spectra, target)
    task = _infer_task(fresh_estimator(estimator_factory, pipeline), y, task)
    y = y.astype(np.float64) if task == "regression" else y
    classes = np.unique(y) if task == "classification" else None
    factory, split = (estimator_factory, pipeline, return_estimators), (get_splitter(cv), groups)
    rows, fold_rows, estimators = _run_folds(factory, spectra, y, split, task, classes)
    if not rows:
        raise DataError("the splitter produced no folds", got=repr(split[0]))
    predictions = pd.concat(rows, ignore_index=True)
    return CVResult(
        task=task,
        predictions=predictions,
        folds=pd.DataFrame(fold_rows),
        scores=_pooled_scores(task, predictions, classes),
        classes=None if classes is None else [str(c) for c in classes],
        estimators=estimators,
    )


def _run_folds(
    factory: tuple[Any, Any, bool],
    spectra: Spectra | np.ndarray,
    y: np.ndarray,
    split: tuple[Any, Any],
    task: str,
    classes: np.ndarray | None,
) -> tuple[list[pd.DataFrame], list[dict[str, Any]], list[Any]]:
    """Fit a fresh estimator per fold: out-of-fold frames, fold scores, kept estimators.

    ``factory`` is (estimator factory, pipeline, keep the fitted estimators); ``split`` is
    (splitter, groups).
    """
    (make, pipeline, keep), (splitter, groups) = factory, split
    rows, fold_rows, estimators = [], [], []
    n_folds = _n_splits(splitter, spectra, y, groups)
    for f, (train, test) in enumerate(progress(splitter.split(spectra, y, groups), n_folds, "cv")):
        est = fresh_estimator(make, pipeline)
        frame, fold_row = _fit_fold(est, spectra, y, train, test, f, task, classes)
        rows.append(frame)
        fold_rows.append(fold_row)
        estimators += [est] if keep else []
    return rows, fold_rows, estimators


def _target_values(spectra: Spectra | np.ndarray, target: str | np.ndarray) -> np.ndarray:
    """The target as a 1-D array with one value per spectrum."""
    y = np.asarray(resolve_target(spectra, target))
    if y.ndim != 1:
        raise DataError("cross_validate scores one target", expected="shape (n,)", got=str(y.shape))
    n = spectra.n_spectra if isinstance(spectra, Spectra) else len(spectra)
    if len(y) != n:
        raise DataError("one target per spectrum is needed", expected=str(n), got=str(len(y)))
    return y


def _n_splits(splitter: Any, spectra: Any, y: np.ndarray, groups: Any) -> int | None:
    """Number of folds, for the progress bar (None when the splitter cannot tell)."""
    try:
        return int(splitter.get_n_splits(spectra, y, groups))
    except Exception:  # a splitter without (a working) get_n_splits: a bar without total
        return None


def _take(spectra: Spectra | np.ndarray, idx: np.ndarray) -> Any:
    return spectra.select(idx) if isinstance(spectra, Spectra) else np.asarray(spectra)[idx]


def _fit_fold(
    est: Any,
    spectra: Spectra | np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    fold: int,
    task: str,
    classes: np.ndarray | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit one fold; its out-of-fold predictions (one row per test spectrum) and scores."""
    start = time.perf_counter()
    est.fit(_take(spectra, train), y[train])
    seconds = time.perf_counter() - start
    pred, proba = predict_scores(est, _take(spectra, test), task)
    fold_classes = _classes_of(est)
    frame = pd.DataFrame({"index": test, "fold": fold, "y_true": y[test], "y_pred": pred})
    if proba is not None and fold_classes is not None:
        full = np.zeros((len(test), len(classes)))
        full[:, np.searchsorted(classes, fold_classes)] = proba
        for j, c in enumerate(classes):
            frame[f"proba_{c}"] = full[:, j]
        proba = full
    scores = score_predictions(task, y[test], pred, proba, classes)
    row = {"fold": fold, "n_train": len(train), "n_test": len(test), "fit_seconds": seconds}
    row.update({k: v for k, v in scores.items() if isinstance(v, int | float) and k != "n"})
    return frame, row


def _pooled_scores(
    task: str, predictions: pd.DataFrame, classes: np.ndarray | None
) -> dict[str, Any]:
    """Scores of all out-of-fold predictions together (RMSECV, accuracy, ...)."""
    proba_cols = [c for c in predictions.columns if str(c).startswith("proba_")]
    return score_predictions(
        task,
        predictions["y_true"].to_numpy(),
        predictions["y_pred"].to_numpy(),
        predictions[proba_cols].to_numpy() if proba_cols else None,
        classes,
    )
