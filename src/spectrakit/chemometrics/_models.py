"""The chemometric baselines by name: PLS, PLS-DA, SVM, random forest, ridge.

Every baseline is a :class:`~spectrakit.chemometrics.SpectralEstimator`, so each takes Spectra,
owns the same preprocessing pipeline and is fitted only on the data it is given.
"""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

from spectrakit.chemometrics._pls import PLSDA, PLSRegressor
from spectrakit.chemometrics._spectral import SpectralEstimator
from spectrakit.core.errors import ConfigError

__all__ = ["BASELINES", "make_baseline"]


def _pls(task: str, **kw: Any):
    if task != "regression":
        raise ConfigError(
            "pls is a regression model", expected="--task regression", got=task, fix="use plsda"
        )
    return PLSRegressor(**kw)


def _plsda(task: str, **kw: Any):
    if task != "classification":
        raise ConfigError(
            "plsda is a classification model",
            expected="--task classification",
            got=task,
            fix="use pls for numeric targets",
        )
    return PLSDA(**kw)


def _svm(task: str, **kw: Any):
    # RBF kernels need comparable feature scales; the scaler is part of the model
    if task == "regression":
        return make_pipeline(StandardScaler(), SVR(**{"C": 10.0, **kw}))
    return make_pipeline(
        StandardScaler(), SVC(**{"C": 10.0, "probability": True, "random_state": 0, **kw})
    )


def _rf(task: str, **kw: Any):
    params = {"n_estimators": 200, "random_state": 0, "n_jobs": 1, **kw}
    if task == "regression":
        return RandomForestRegressor(**params)
    return RandomForestClassifier(**params)


def _ridge(task: str, **kw: Any):
    if task == "regression":
        return RidgeCV(**{"alphas": (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0), **kw})
    return make_pipeline(StandardScaler(), LogisticRegression(**{"C": 1.0, "max_iter": 2000, **kw}))


#: name -> factory(task, **params) of the array-level model.
BASELINES = {"pls": _pls, "plsda": _plsda, "svm": _svm, "rf": _rf, "ridge": _ridge}


def make_baseline(
    name: str, task: str = "regression", *, pipeline: Any = None, **params: Any
) -> SpectralEstimator:
    """Build a baseline that accepts Spectra and fits ``pipeline`` with the model.

    Parameters
    ----------
    name : {"pls", "plsda", "svm", "rf", "ridge"}
    task : {"regression", "classification"}
    pipeline : str, dict, path or transformer, optional
        Preprocessing (see :func:`spectrakit.chemometrics.resolve_pipeline`).
    **params
        Passed to the underlying model (e.g. ``n_components=6`` for PLS).

    Returns
    -------
    SpectralEstimator

    Examples
    --------
    >>> make_baseline("pls", n_components=3).estimator
    PLSRegressor(n_components=3)
    """
    key = str(name).lower()
    if key not in BASELINES:
        raise ConfigError(
            f"unknown baseline {name!r}",
            expected="one of " + ", ".join(BASELINES),
            got=repr(name),
        )
    if task not in ("regression", "classification"):
        raise ConfigError("unknown task", expected="regression or classification", got=repr(task))
    return SpectralEstimator(BASELINES[key](task, **params), pipeline=pipeline)
