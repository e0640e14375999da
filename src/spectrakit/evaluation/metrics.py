r"""Regression and classification metrics with the chemometric conventions spelled out.

Regression, with residuals :math:`e_i = \hat y_i - y_i` over :math:`n` spectra:

* ``rmse`` = :math:`\sqrt{\tfrac1n \sum e_i^2}`; called RMSEP on a test set and RMSECV on
  pooled out-of-fold predictions.
* ``mae`` = :math:`\tfrac1n \sum |e_i|`.
* ``bias`` = :math:`\bar e = \tfrac1n \sum e_i` (positive: the model over-predicts).
* ``sep`` (bias-corrected standard error of prediction) =
  :math:`\sqrt{\sum (e_i - \bar e)^2 / (n - 1)}`; so :math:`RMSE^2 \approx SEP^2 + bias^2`.
* ``r2`` = :math:`1 - \sum e_i^2 / \sum (y_i - \bar y)^2` (as ``sklearn.metrics.r2_score``).
* ``rpd`` (ratio of performance to deviation) = :math:`SD(y) / SEP` with the sample standard
  deviation (ddof=1) of the reference values (Williams, 1987).

Classification: accuracy, balanced accuracy (mean per-class recall), macro-F1, per-class
precision/recall, confusion matrix (rows = true, columns = predicted), one-vs-rest ROC-AUC
and the expected calibration error (Guo et al., 2017, equal-width confidence bins):
:math:`ECE = \sum_b \tfrac{n_b}{n} |acc_b - conf_b|`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm

from spectrakit.core.errors import DataError

__all__ = [
    "bias",
    "classification_metrics",
    "expected_calibration_error",
    "mae",
    "per_class_scores",
    "r2",
    "regression_metrics",
    "rmse",
    "rpd",
    "sep",
]


def _check_pair(t: np.ndarray, p: np.ndarray, pair: str, what: str) -> None:
    """Refuse true/predicted arrays of different lengths, or empty ones."""
    if t.shape != p.shape:
        raise DataError(
            f"{pair} differ in length",
            expected=f"{t.size} predictions",
            got=str(p.size),
        )
    if t.size == 0:
        raise DataError(f"no {what} to score", expected="at least one prediction", got="0")


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    _check_pair(t, p, "reference and predicted values", "values")
    bad = ~(np.isfinite(t) & np.isfinite(p))
    if bad.any():
        raise DataError(
            "cannot score missing or infinite values",
            expected="finite reference and predicted values",
            got=f"{int(bad.sum())} non-finite",
            fix="drop rows without a reference value before scoring",
        )
    return t, p


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error (RMSEP / RMSECV).

    Examples
    --------
    >>> rmse([0.0, 0.0], [3.0, 4.0])  # sqrt((9 + 16) / 2)
    3.5355339059327378
    """
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def bias(y_true: Any, y_pred: Any) -> float:
    """Mean of ``y_pred - y_true`` (positive: over-prediction)."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(p - t))


def sep(y_true: Any, y_pred: Any) -> float:
    """Bias-corrected standard error of prediction (ddof=1); NaN for a single value."""
    t, p = _pair(y_true, y_pred)
    if t.size < 2:
        return float("nan")
    return float(np.std(p - t, ddof=1))


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination; NaN when the reference values are constant."""
    t, p = _pair(y_true, y_pred)
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((p - t) ** 2)) / ss_tot


def rpd(y_true: Any, y_pred: Any) -> float:
    """Ratio of performance to deviation, ``SD(y_true) / SEP``."""
    t, p = _pair(y_true, y_pred)
    s = sep(t, p)
    if t.size < 2 or not np.isfinite(s) or s == 0.0:
        return float("nan")
    return float(np.std(t, ddof=1) / s)


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """All regression scores at once.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)

    Returns
    -------
    dict
        ``rmse, mae, bias, sep, r2, rpd, n``.
    """
    t, p = _pair(y_true, y_pred)
    return {
        "rmse": rmse(t, p),
        "mae": mae(t, p),
        "bias": bias(t, p),
        "sep": sep(t, p),
        "r2": r2(t, p),
        "rpd": rpd(t, p),
        "n": int(t.size),
    }


def _labels(y_true: Any, y_pred: Any, classes: Sequence | None) -> tuple:
    t = np.asarray(y_true).ravel()
    p = np.asarray(y_pred).ravel()
    _check_pair(t, p, "true and predicted labels", "labels")
    labels = np.asarray(classes) if classes is not None else np.unique(np.concatenate([t, p]))
    return t, p, labels


def per_class_scores(y_true: Any, y_pred: Any, classes: Sequence | None = None) -> dict:
    """Precision, recall, F1 and support for every class.

    Returns
    -------
    dict
        ``{class: {"precision", "recall", "f1", "support"}}`` (classes as strings).
    """
    t, p, labels = _labels(y_true, y_pred, classes)
    prec, rec, f1, sup = skm.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    return {
        str(c): {
            "precision": float(prec[i]),
            "recall": float(rec[i]),
            "f1": float(f1[i]),
            "support": int(sup[i]),
        }
        for i, c in enumerate(labels)
    }


def expected_calibration_error(
    y_true: Any, proba: Any, classes: Sequence, n_bins: int = 15
) -> float:
    """Expected calibration error of the top-class confidence (Guo et al., 2017).

    Parameters
    ----------
    y_true : array-like of shape (n,)
    proba : array-like of shape (n, n_classes)
        Class probabilities, columns ordered as ``classes``.
    classes : sequence of length n_classes
    n_bins : int, default=15
        Equal-width confidence bins on [0, 1].

    Returns
    -------
    float
    """
    P = np.asarray(proba, dtype=np.float64)
    t = np.asarray(y_true).ravel()
    if P.ndim != 2 or P.shape != (t.size, len(classes)):
        raise DataError(
            "probabilities have the wrong shape",
            expected=f"({t.size}, {len(classes)})",
            got=str(P.shape),
        )
    conf = P.max(axis=1)
    correct = np.asarray(classes, dtype=object)[P.argmax(axis=1)] == t.astype(object)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = which == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return float(ece)


def classification_metrics(
    y_true: Any,
    y_pred: Any,
    proba: Any = None,
    classes: Sequence | None = None,
) -> dict[str, Any]:
    """All classification scores at once.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n,)
    proba : array-like of shape (n, n_classes), optional
        Adds ``roc_auc`` (one-vs-rest, macro) and ``ece`` when given.
    classes : sequence, optional
        Class order (of ``proba`` columns and the confusion matrix).

    Returns
    -------
    dict
        ``accuracy, balanced_accuracy, macro_f1, per_class, confusion_matrix, classes, n``
        and, with probabilities, ``roc_auc, ece``.
    """
    t, p, labels = _labels(y_true, y_pred, classes)
    t_s, p_s = t.astype(str), p.astype(str)
    lab_s = labels.astype(str)
    out: dict[str, Any] = {
        "accuracy": float(skm.accuracy_score(t_s, p_s)),
        "balanced_accuracy": float(
            np.mean(
                [
                    (p_s[t_s == c] == c).mean()
                    for c in lab_s
                    if (t_s == c).any()  # recall averaged over classes present in y_true
                ]
            )
        ),
        "macro_f1": float(skm.f1_score(t_s, p_s, labels=lab_s, average="macro", zero_division=0)),
        "per_class": per_class_scores(t_s, p_s, lab_s),
        "confusion_matrix": skm.confusion_matrix(t_s, p_s, labels=lab_s).tolist(),
        "classes": [str(c) for c in labels],
        "n": int(t.size),
    }
    if proba is not None:
        P = _checked_proba(proba, t.size, labels.size)
        out["roc_auc"] = _roc_auc(t_s, P, lab_s)
        out["ece"] = expected_calibration_error(t_s, P, lab_s)
    return out


def _checked_proba(proba: Any, n: int, n_classes: int) -> np.ndarray:
    """``proba`` as float64 of shape (n, n_classes), else one clear :class:`DataError`."""
    P = np.asarray(proba, dtype=np.float64)
    if P.shape != (n, n_classes):
        raise DataError(
            "probabilities have the wrong shape",
            expected=f"({n}, {n_classes}) with columns ordered as the classes",
            got=str(P.shape),
        )
    return P


def _roc_auc(t_s: np.ndarray, P: np.ndarray, lab_s: np.ndarray) -> float:
    """ROC AUC over the classes present in ``t_s`` (one-vs-rest macro); NaN with fewer than 2."""
    present = np.isin(lab_s, t_s)
    if present.sum() < 2:
        return float("nan")
    Pn = P[:, present] / np.clip(P[:, present].sum(axis=1, keepdims=True), 1e-12, None)
    if present.sum() == 2:
        return float(skm.roc_auc_score(t_s == lab_s[present][1], Pn[:, 1]))
    return float(skm.roc_auc_score(t_s, Pn, multi_class="ovr", labels=lab_s[present]))
