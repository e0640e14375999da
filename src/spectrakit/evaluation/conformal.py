r"""Split-conformal prediction: intervals and sets with a finite-sample coverage guarantee.

Given a fitted model and a calibration set it has never seen, split conformal prediction
(Vovk et al., 2005; Lei et al., 2018) turns any point prediction into an interval that
contains the truth with probability at least :math:`1 - \alpha`, assuming only that
calibration and new spectra are exchangeable.

* Regression: scores :math:`s_i = |y_i - \hat y_i|`; :math:`\hat q` is the
  :math:`\lceil (n+1)(1-\alpha) \rceil`-th smallest score; interval
  :math:`\hat y \pm \hat q`.
* Classification, LAC (least ambiguous set-valued classifier, Sadinle et al., 2019):
  :math:`s_i = 1 - \hat p_{y_i}`; the set holds every class with :math:`1 - \hat p_k \le \hat q`.
* Classification, APS (adaptive prediction sets, Romano et al., 2020): :math:`s_i` is the
  probability of the classes ranked above the true one plus a uniform random share
  :math:`u\,\hat p_{y_i}` of its own (the randomized form, whose coverage is exact rather
  than conservative); the set holds the top classes whose score stays below :math:`\hat q`.

Works with any model exposing ``predict`` (and ``predict_proba`` or a ``predict`` that
returns ``proba_<class>`` columns, like a loaded :class:`spectrakit` Predictor).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.errors import ConfigError, DataError

__all__ = [
    "ConformalClassifier",
    "ConformalRegressor",
    "conformal_quantile",
    "interval_coverage",
    "set_coverage",
]


def conformal_quantile(scores: Any, alpha: float) -> float:
    """The ``ceil((n+1)(1-alpha))``-th smallest calibration score.

    Parameters
    ----------
    scores : array-like of shape (n,)
    alpha : float in (0, 1)

    Returns
    -------
    float

    Examples
    --------
    >>> conformal_quantile(np.arange(1.0, 20.0), 0.1)  # n=19: ceil(20 * 0.9) = 18th
    18.0
    """
    _check_alpha(alpha)
    s = np.sort(np.asarray(scores, dtype=np.float64).ravel())
    n = s.size
    k = math.ceil((n + 1) * (1 - alpha))
    if k > n:
        raise DataError(
            "too few calibration spectra for this coverage",
            expected=f"at least {math.ceil(1 / alpha) - 1} calibration spectra for alpha={alpha}",
            got=str(n),
            fix="add calibration spectra or raise alpha",
        )
    return float(s[k - 1])


def _check_alpha(alpha: float) -> None:
    if not 0.0 < float(alpha) < 1.0:
        raise ConfigError("alpha must lie strictly between 0 and 1", got=str(alpha))


def point_predictions(model: Any, X: Any, target: str | None = None) -> np.ndarray:
    """Point predictions as shape (n,), also from Predictor-style DataFrames."""
    out = model.predict(X)
    if isinstance(out, pd.DataFrame):
        cols = (
            [target]
            if target is not None
            else [
                c
                for c in out.columns
                if not str(c).endswith("_std") and c not in ("ood_score", "is_ood")
            ]
        )
        if target is not None and target not in out.columns:
            raise DataError(
                f"model predictions have no column {target!r}",
                expected="one of " + ", ".join(map(str, out.columns)),
                got=repr(target),
            )
        if len(cols) != 1:
            raise DataError(
                "model predicts several targets",
                expected="one target column",
                got=", ".join(map(str, cols)),
                fix="pass target=NAME",
            )
        out = out[cols[0]].to_numpy()
    arr = np.asarray(out, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError("conformal regression scores one target", got=f"shape {arr.shape}")
    return arr


def probabilities(model: Any, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(proba (n, n_classes), classes)`` from ``predict_proba`` or ``proba_*`` columns."""
    if hasattr(model, "predict_proba"):
        P = np.asarray(model.predict_proba(X), dtype=np.float64)
        classes = getattr(model, "classes_", None)
        if classes is None:
            classes = getattr(model, "classes", None)
        if classes is None:
            raise DataError("classifier does not expose its classes", got=type(model).__name__)
        return P, np.asarray(classes)
    out = model.predict(X)
    if isinstance(out, pd.DataFrame):
        cols = [c for c in out.columns if str(c).startswith("proba_")]
        if cols:
            return out[cols].to_numpy(np.float64), np.asarray([str(c)[6:] for c in cols])
    raise DataError(
        "the model gives no class probabilities",
        expected="predict_proba or proba_<class> columns",
        got=type(model).__name__,
    )


def interval_coverage(y: Any, lower: Any, upper: Any) -> float:
    """Fraction of ``y`` inside ``[lower, upper]``."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))


def set_coverage(y: Any, sets: np.ndarray, classes: Any) -> float:
    """Fraction of labels contained in their prediction set (``sets``: bool (n, n_classes))."""
    classes = np.asarray(classes).astype(str)
    idx = np.searchsorted(classes, np.asarray(y).astype(str))
    idx = np.clip(idx, 0, len(classes) - 1)
    known = classes[idx] == np.asarray(y).astype(str)
    return float(np.mean(known & sets[np.arange(len(idx)), idx]))


class ConformalRegressor:
    """Split-conformal prediction intervals around a fitted regressor.

    Parameters
    ----------
    model : object with ``predict``
        Already fitted on data disjoint from the calibration set.
    alpha : float, default=0.1
        Miscoverage: intervals aim at ``1 - alpha`` coverage.
    target : str, optional
        Column to use when ``predict`` returns a DataFrame with several targets.

    Attributes
    ----------
    quantile_ : float
        Half-width of every interval.
    n_calibration_ : int
    """

    def __init__(self, model: Any, alpha: float = 0.1, target: str | None = None) -> None:
        _check_alpha(alpha)
        self.model = model
        self.alpha = alpha
        self.target = target

    def calibrate(self, X: Any, y: Any) -> ConformalRegressor:
        """Compute the score quantile on held-out calibration spectra ``X`` with targets ``y``."""
        pred = point_predictions(self.model, X, self.target)
        y = np.asarray(y, dtype=np.float64).ravel()
        if y.shape != pred.shape:
            raise DataError(
                "one target per calibration spectrum", expected=str(pred.size), got=str(y.size)
            )
        self.quantile_ = conformal_quantile(np.abs(y - pred), self.alpha)
        self.n_calibration_ = int(y.size)
        return self

    def predict_interval(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(prediction, lower, upper)``, each of shape (n,)."""
        if not hasattr(self, "quantile_"):
            raise ConfigError("ConformalRegressor is not calibrated", fix="call calibrate() first")
        pred = point_predictions(self.model, X, self.target)
        return pred, pred - self.quantile_, pred + self.quantile_

    def evaluate(self, X: Any, y: Any) -> dict:
        """Empirical coverage and width on labeled test spectra."""
        _, lo, hi = self.predict_interval(X)
        return {
            "alpha": self.alpha,
            "nominal_coverage": 1 - self.alpha,
            "coverage": interval_coverage(y, lo, hi),
            "mean_width": float(np.mean(hi - lo)),
            "n_calibration": self.n_calibration_,
            "n_test": len(lo),
        }


class ConformalClassifier:
    """Split-conformal prediction sets around a fitted probabilistic classifier.

    Parameters
    ----------
    model : object with ``predict_proba`` (or Predictor-style ``predict``)
    alpha : float, default=0.1
    method : {"lac", "aps"}, default="lac"
    random_state : int, default=0
        Seed of the uniform draws of randomized APS.

    Attributes
    ----------
    quantile_ : float
    classes_ : ndarray of shape (n_classes,)
    """

    def __init__(
        self, model: Any, alpha: float = 0.1, method: str = "lac", *, random_state: int = 0
    ) -> None:
        _check_alpha(alpha)
        if method not in ("lac", "aps"):
            raise ConfigError(
                "unknown conformal method", expected="'lac' or 'aps'", got=repr(method)
            )
        self.model = model
        self.alpha = alpha
        self.method = method
        self.random_state = random_state

    def _scores_all(self, P: np.ndarray) -> np.ndarray:
        """Score each class would get as the true label, shape (n, n_classes)."""
        if self.method == "lac":
            return 1.0 - P
        order = np.argsort(-P, axis=1, kind="stable")
        sorted_p = np.take_along_axis(P, order, axis=1)
        # randomized APS: mass strictly above the class plus a uniform share of its own
        u = self._rng.uniform(size=(len(P), 1))
        cum = np.cumsum(sorted_p, axis=1) - (1.0 - u) * sorted_p
        scores = np.empty_like(P)
        np.put_along_axis(scores, order, cum, axis=1)
        return scores

    def calibrate(self, X: Any, y: Any) -> ConformalClassifier:
        """Compute the score quantile on held-out calibration spectra."""
        P, classes = probabilities(self.model, X)
        self._rng = np.random.default_rng(self.random_state)
        self.classes_ = classes
        labels = np.asarray(y).astype(str)
        cls = classes.astype(str)
        lookup = {c: i for i, c in enumerate(cls)}
        missing = sorted(set(labels) - set(lookup))
        if missing:
            raise DataError(
                "calibration labels unknown to the model",
                expected="classes " + ", ".join(cls),
                got=", ".join(missing[:5]),
            )
        idx = np.array([lookup[v] for v in labels])
        scores = self._scores_all(P)[np.arange(len(idx)), idx]
        self.quantile_ = conformal_quantile(scores, self.alpha)
        self.n_calibration_ = len(idx)
        return self

    def predict_set(self, X: Any) -> np.ndarray:
        """Boolean membership matrix of shape (n, n_classes), columns as ``classes_``."""
        if not hasattr(self, "quantile_"):
            raise ConfigError("ConformalClassifier is not calibrated", fix="call calibrate() first")
        P, _ = probabilities(self.model, X)
        return self._scores_all(P) <= self.quantile_ + 1e-12

    def evaluate(self, X: Any, y: Any) -> dict:
        """Empirical coverage and mean set size on labeled test spectra."""
        sets = self.predict_set(X)
        order = np.argsort(self.classes_.astype(str))
        cls_sorted = self.classes_.astype(str)[order]
        return {
            "alpha": self.alpha,
            "method": self.method,
            "nominal_coverage": 1 - self.alpha,
            "coverage": set_coverage(y, sets[:, order], cls_sorted),
            "mean_set_size": float(sets.sum(axis=1).mean()),
            "n_calibration": self.n_calibration_,
            "n_test": len(sets),
        }
