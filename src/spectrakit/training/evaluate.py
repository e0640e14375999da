"""scikit-learn adapters for deep models, so cross-validation treats them like any estimator.

``DeepRegressor`` / ``DeepClassifier`` call :func:`spectrakit.training.fit_supervised` in
``fit`` (imported on first use: torch and Lightning load only when a deep model is trained)
and read predictions from the returned Predictor. Being plain estimators (parameters stored
in ``__init__``, state in ``predictor_``), they are cloned per fold like PLS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from spectrakit.chemometrics import resolve_target
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.spectra import Spectra

__all__ = ["DeepClassifier", "DeepRegressor"]

_TARGET = "target"


def _fit_supervised():
    try:
        from spectrakit.training import fit_supervised
    except ImportError as exc:
        raise ConfigError(
            "deep models need spectrakit.training",
            expected="an installation with torch and lightning",
            got=str(exc),
            fix="pip install spectrakit (full install), or benchmark baselines only",
        ) from exc
    return fit_supervised


class _DeepBase(BaseEstimator):
    _task = "regression"

    def __init__(
        self,
        model: str = "cnn1d_tiny",
        *,
        pipeline: Any = None,
        max_epochs: int = 30,
        batch_size: int = 32,
        lr: float = 1e-3,
        seed: int = 0,
        out: str | Path | None = None,
        options: dict | None = None,
        config: Any = None,
    ) -> None:
        self.model = model
        self.pipeline = pipeline
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.out = out
        self.options = options
        self.config = config

    def fit(self, X: Spectra, y: Any) -> _DeepBase:
        """Train the deep model on Spectra ``X`` with targets ``y`` (values or column name).

        Parameters
        ----------
        X : Spectra
            The model needs the physical axis, so plain arrays are refused.
        y : array-like of shape (n,) or str

        Returns
        -------
        self
        """
        if not isinstance(X, Spectra):
            raise DataError(
                "deep models train on Spectra",
                expected="a Spectra object (values + axis)",
                got=type(X).__name__,
                fix="wrap arrays with spectrakit.Spectra(values, axis)",
            )
        values = np.asarray(resolve_target(X, y))
        self.target_name_ = y if isinstance(y, str) else _TARGET
        train = X.assign(**{self.target_name_: values})
        fit_supervised = _fit_supervised()
        self.predictor_ = fit_supervised(
            train, self.target_name_, config=self.fit_config(), out=self.out
        )
        self.n_features_in_ = X.n_points
        return self

    def fit_config(self) -> Any:
        """The :class:`~spectrakit.training.config.FitConfig` that ``fit`` trains with.

        ``config`` (default ``FitConfig()``) updated with this estimator's parameters and
        ``options``; no OOD detector unless ``options`` asks for one (scoring needs none).
        """
        from spectrakit.training.config import FitConfig

        return FitConfig.build(
            self.config,
            task=self._task,
            model=self.model,
            pipeline=self.pipeline,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            ood="none",
            **(self.options or {}),
        )

    def _frame(self, X: Spectra):
        check_is_fitted(self, "predictor_")
        if not isinstance(X, Spectra):
            raise DataError("deep models predict on Spectra", got=type(X).__name__)
        return self.predictor_.predict(X)


class DeepRegressor(RegressorMixin, _DeepBase):
    """A registered deep model as a scikit-learn regressor (see :mod:`spectrakit.models`).

    Parameters
    ----------
    model : str, default="cnn1d_tiny"
        Registered model name.
    pipeline : str, dict, path or transformer, optional
        Preprocessing, fitted on the training data by ``fit_supervised``.
    max_epochs, batch_size, lr, seed
        Training settings.
    out : path, optional
        Where ``fit_supervised`` writes the bundle and its logs (``metrics.csv``).
    options : dict, optional
        Further ``fit_supervised`` options (fields of ``FitConfig``).
    config : FitConfig, optional
        Base configuration; the parameters above and ``options`` override its fields.

    Attributes
    ----------
    predictor_ : Predictor
    """

    _task = "regression"

    def predict(self, X: Spectra) -> np.ndarray:
        """Predicted values, shape (n,)."""
        return self._frame(X)[self.target_name_].to_numpy(dtype=np.float64)


class DeepClassifier(ClassifierMixin, _DeepBase):
    """A registered deep model as a scikit-learn classifier (parameters as DeepRegressor).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    predictor_ : Predictor
    """

    _task = "classification"

    def fit(self, X: Spectra, y: Any) -> DeepClassifier:
        """Train on Spectra ``X`` and labels ``y``; see :meth:`DeepRegressor.fit`."""
        labels = np.asarray(resolve_target(X, y)).astype(str)
        super().fit(X, labels)
        classes = getattr(self.predictor_, "classes", None)
        self.classes_ = np.asarray(classes if classes is not None else np.unique(labels))
        return self

    def predict_proba(self, X: Spectra) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns as ``classes_``."""
        frame = self._frame(X)
        return np.stack(
            [frame[f"proba_{c}"].to_numpy(dtype=np.float64) for c in self.classes_], axis=1
        )

    def predict(self, X: Spectra) -> np.ndarray:
        """Predicted labels, shape (n,)."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
