"""The whole automatic choice as one scikit-learn estimator (``benchmark --models auto``).

``fit`` runs :func:`spectrakit.training.auto.auto_fit` on the spectra it is given, with
its own inner CV folds, so an outer cross-validation of this estimator scores the choice
procedure itself (nested CV: the outer test fold never takes part in the choice).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from spectrakit.core.errors import ConfigError

__all__ = ["AutoEstimator"]


class AutoEstimator(BaseEstimator):
    """``fit(spectra, y)`` ranks the candidates by inner CV; ``predict`` uses the winner.

    Parameters
    ----------
    task : {"regression", "classification"}
    pipeline : pipeline spec, optional
        The user's preprocessing, tried beside every preset.
    deep : tuple of str, optional
        Deep recipes among the candidates (default: ``pls_net`` for regression, ``cnn``
        for classification).
    quick : bool
        Shorter network schedules.
    seed : int
    """

    def __init__(
        self,
        task: str = "regression",
        pipeline: Any = None,
        deep: tuple[str, ...] | None = None,
        quick: bool = True,
        seed: int = 0,
    ) -> None:
        self.task = task
        self.pipeline = pipeline
        self.deep = deep
        self.quick = quick
        self.seed = seed

    def fit(self, X: Any, y: Any) -> AutoEstimator:
        """Rank every candidate by CV on ``X, y`` and keep the best (``choice_``)."""
        from spectrakit.training.auto import auto_fit, candidate_pipelines

        if self.task not in ("regression", "classification"):
            raise ConfigError(
                "unknown task", expected="regression or classification", got=self.task
            )
        deep = self.deep
        if deep is None:
            deep = ("pls_net",) if self.task == "regression" else ("cnn",)
        self.choice_ = auto_fit(
            X, np.asarray(y), task=self.task, pipelines=candidate_pipelines(X, self.pipeline),
            deep=tuple(deep), seed=self.seed, quick=self.quick,
        )  # fmt: skip
        if self.task == "classification":
            self.classes_ = np.unique(np.asarray(y))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the chosen candidate, shape (n,)."""
        return np.asarray(self.choice_.predict(X))
