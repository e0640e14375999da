"""Run any scikit-learn estimator on Spectra behind a preprocessing pipeline fitted with it.

:class:`SpectralEstimator` is the one place where spectra meet classical models: it resolves
a preprocessing spec (preset name, YAML/JSON path, dict or transformer), chains it with the
model in a :class:`sklearn.pipeline.Pipeline`, and fits both on the training data only, so
cloning it per cross-validation fold refits every stateful step inside the fold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone, is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from spectrakit.core.errors import AxisError, ConfigError, DataError
from spectrakit.core.numeric import as_float64
from spectrakit.core.spectra import Spectra

__all__ = [
    "SpectralEstimator",
    "ToValues",
    "as_values",
    "check_input",
    "resolve_pipeline",
    "resolve_target",
]


def as_values(X: Any) -> np.ndarray:
    """Intensities as a float64 array of shape (n_spectra, n_points)."""
    if isinstance(X, Spectra):
        return np.asarray(X.values, dtype=np.float64)
    arr = as_float64(
        X,
        "model input is not numeric",
        expected="Spectra or an array of shape (n_spectra, n_points)",
    )
    if arr.ndim != 2:
        raise DataError(
            "model input has the wrong shape",
            expected="a 2D array (n_spectra, n_points)",
            got=f"shape {arr.shape}",
            fix="reshape a single spectrum with x.reshape(1, -1)",
        )
    return arr


def check_input(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    y: Any = None,
    classifier: bool = False,
) -> Any:
    """scikit-learn input validation (shape, finiteness, features seen in fit) on Spectra too.

    Returns the float64 array, or ``(X, y)`` when ``y`` is given. scikit-learn's
    ``ValueError`` becomes a :class:`DataError` that keeps its wording.
    """
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import validate_data

    arr = np.asarray(X.values, dtype=np.float64) if isinstance(X, Spectra) else X
    try:
        if y is None:
            return validate_data(estimator, arr, reset=reset, dtype=np.float64)
        if classifier:
            out = validate_data(
                estimator, arr, y, reset=reset, dtype=np.float64, ensure_min_samples=2
            )
            check_classification_targets(out[1])
            return out
        return validate_data(
            estimator,
            arr,
            y,
            reset=reset,
            dtype=np.float64,
            multi_output=True,
            y_numeric=True,
            ensure_min_samples=2,
        )
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(
            f"{type(estimator).__name__}: {exc}",
            expected="finite numeric spectra of shape (n_spectra, n_points) and one target each",
            got=type(X).__name__,
            fix="check the input shape, remove NaN/inf, resample onto the training axis",
        ) from exc


def resolve_target(X: Any, y: Any) -> np.ndarray:
    """``y`` as an array; a string (or list of strings) names metadata columns of Spectra."""
    if isinstance(y, str) or (
        isinstance(y, list | tuple) and y and all(isinstance(c, str) for c in y)
    ):
        if not isinstance(X, Spectra):
            raise DataError(
                "a target column name needs Spectra input",
                expected="Spectra with metadata",
                got=type(X).__name__,
                fix="pass the target values as an array",
            )
        cols = [y] if isinstance(y, str) else list(y)
        for c in cols:
            if c not in X.meta.columns:
                raise DataError(
                    f"no target column {c!r}",
                    expected="one of " + ", ".join(map(str, X.meta.columns)),
                    got=repr(c),
                    fix="check the --target name (case matters)",
                )
        values = X.meta[cols].to_numpy()
        return values[:, 0] if isinstance(y, str) else values
    if y is None:
        raise DataError(
            "the estimator requires y to be passed, but the target y is None",
            expected="target values or a metadata column name",
            got="None",
        )
    return np.asarray(y)


def resolve_pipeline(spec: Any) -> Any:
    """A preprocessing transformer from a preset name, YAML/JSON path, dict or object.

    ``None`` means no preprocessing. Names, paths and dicts go through
    :func:`spectrakit.preprocessing.get_pipeline`.
    """
    if spec is None:
        return None
    if isinstance(spec, str | Path | dict):
        try:
            from spectrakit.preprocessing import get_pipeline
        except ImportError as exc:
            raise ConfigError(
                "preprocessing pipelines by name are not available in this installation",
                expected="a transformer object",
                got=repr(spec),
                fix="pass a scikit-learn transformer instead",
            ) from exc
        return get_pipeline(spec)
    if not (hasattr(spec, "fit") and hasattr(spec, "transform")):
        raise ConfigError(
            "pipeline is not a transformer",
            expected="a preset name, a YAML/JSON path, a dict or an object with fit/transform",
            got=type(spec).__name__,
        )
    return spec


def _is_spectral(step: Any) -> bool:
    """Whether a step takes and returns Spectra (spectrakit preprocessing)."""
    return type(step).__module__.startswith("spectrakit.preprocessing")


class ToValues(TransformerMixin, BaseEstimator):
    """Stateless bridge: Spectra (or arrays) to a float64 array for non-spectral steps."""

    def fit(self, X: Any, y: Any = None) -> ToValues:
        """Nothing to learn."""
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return a writable copy of the intensities, shape (n_spectra, n_points)."""
        return np.array(as_values(X), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def _steps(pipeline: Any) -> list[tuple[str, Any]]:
    """Preprocessing steps with a :class:`ToValues` bridge before the first array-only step."""
    if pipeline is None:
        return [("values", ToValues())]
    if _is_spectral(pipeline):  # a spectrakit Pipeline or step handles Spectra as a whole
        return [("preprocess", pipeline), ("values", ToValues())]
    parts = list(pipeline.steps) if isinstance(pipeline, Pipeline) else [("preprocess", pipeline)]
    out: list[tuple[str, Any]] = []
    bridged = False
    for name, step in parts:
        if not bridged and not _is_spectral(step):
            out.append(("values", ToValues()))
            bridged = True
        out.append((name, step))
    if not bridged:
        out.append(("values", ToValues()))
    return out


class SpectralEstimator(TransformerMixin, BaseEstimator):
    """A scikit-learn estimator that accepts Spectra and owns its preprocessing.

    Parameters
    ----------
    estimator : estimator
        Any scikit-learn regressor or classifier working on arrays.
    pipeline : str, dict, path or transformer, optional
        Preprocessing fitted on the training data together with the model (see
        :func:`resolve_pipeline`).

    Attributes
    ----------
    model_ : sklearn.pipeline.Pipeline
        Fitted preprocessing + model.
    axis_ : SpectralAxis or None
        Axis of the training spectra (checked at prediction).
    classes_ : ndarray
        For classifiers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.preprocessing import StandardScaler
    >>> X = np.random.default_rng(0).normal(size=(20, 5)); y = X[:, 0]
    >>> m = SpectralEstimator(Ridge(1e-3), pipeline=StandardScaler()).fit(X, y)
    >>> bool(abs(m.predict(X[:1])[0] - y[0]) < 0.01)
    True
    """

    def __init__(self, estimator: Any, pipeline: Any = None) -> None:
        self.estimator = estimator
        self.pipeline = pipeline

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        return tags

    def fit(self, X: Any, y: Any, **fit_params: Any) -> SpectralEstimator:
        """Fit preprocessing and model on training spectra.

        Parameters
        ----------
        X : Spectra or array-like of shape (n_spectra, n_points)
        y : array-like of shape (n_spectra,) or (n_spectra, n_targets), or a metadata column
            name when ``X`` is Spectra.

        Returns
        -------
        self
        """
        arr, target = check_input(
            self, X, reset=True, y=resolve_target(X, y), classifier=is_classifier(self.estimator)
        )
        pre = resolve_pipeline(self.pipeline)
        steps = _steps(None if pre is None else clone(pre))
        self.model_ = Pipeline([*steps, ("model", clone(self.estimator))])
        self.axis_ = X.axis if isinstance(X, Spectra) else None
        self.model_.fit(X if isinstance(X, Spectra) else arr, target, **fit_params)
        if is_classifier(self.estimator):
            self.classes_ = self.model_.classes_
        return self

    def _check(self, X: Any) -> Any:
        check_is_fitted(self, "model_")
        arr = check_input(self, X, reset=False)
        if (
            isinstance(X, Spectra)
            and self.axis_ is not None
            and not X.axis.allclose(self.axis_, rtol=1e-7, atol=1e-9)
        ):
            raise AxisError(
                "spectra are on another axis than in training",
                expected=self.axis_.describe(),
                got=X.axis.describe(),
                fix="resample onto the training axis first",
            )
        return X if isinstance(X, Spectra) else arr

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shape (n_spectra,) or (n_spectra, n_targets)."""
        checked = self._check(X)
        return self.model_.predict(checked)

    def _has_proba(self) -> bool:
        return hasattr(self.estimator, "predict_proba")

    @available_if(_has_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_spectra, n_classes), columns as ``classes_``."""
        checked = self._check(X)
        return self.model_.predict_proba(checked)

    def transform(self, X: Any) -> np.ndarray:
        """The preprocessed array the model sees, shape (n_spectra, n_features)."""
        checked = self._check(X)
        return self.model_[:-1].transform(checked)

    def score(self, X: Any, y: Any) -> float:
        """R² for regressors, accuracy for classifiers (as scikit-learn's mixins)."""
        from sklearn.metrics import accuracy_score, r2_score

        target = resolve_target(X, y)
        if is_classifier(self.estimator):
            return float(accuracy_score(target, self.predict(X)))
        return float(r2_score(target, self.predict(X)))
