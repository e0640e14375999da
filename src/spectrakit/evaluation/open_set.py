"""Classification under open-set conditions: an ``unknown`` label and its figures of merit.

A closed-set classifier names one of its classes for every spectrum, including spectra of a
material it never saw. With the bundle's out-of-distribution detector, a prediction whose
spectrum is flagged (``is_ood``) becomes :data:`UNKNOWN` instead. The figures of merit are
those pychemauth reports for open-set ("compliant") classifiers:

* TSNS, total sensitivity: the share of spectra of known classes assigned to their own class;
* TSPS, total specificity: the share of spectra of unknown classes labelled unknown;
* TEFF, total efficiency: ``sqrt(TSNS * TSPS)``;
* CSNS, per-class sensitivity, and the confusion matrix with an ``unknown`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.errors import ConfigError
from spectrakit.predict.core import NONE_COLUMN

__all__ = ["UNKNOWN", "apply_open_set", "open_set_figures"]

UNKNOWN = "unknown"


def apply_open_set(predictions: pd.DataFrame, unknown: str = UNKNOWN) -> pd.DataFrame:
    """Relabel the predictions of rejected spectra as ``unknown``.

    A spectrum is rejected when the OOD detector flags it (``is_ood``) or, for a
    one-vs-rest classifier, when no class score reaches its threshold
    (``none_of_classes``: none of the classes).

    Parameters
    ----------
    predictions : DataFrame of n rows
        A classifier's predictions (``predicted`` and ``is_ood`` and/or
        ``none_of_classes`` columns, as :meth:`Predictor.predict` returns them).
    unknown : str, default="unknown"
        The label of rejected spectra.

    Returns
    -------
    DataFrame of n rows
        A copy whose ``predicted`` is ``unknown`` where a spectrum is rejected.
    """
    flags = [c for c in ("is_ood", NONE_COLUMN) if c in predictions.columns]
    if "predicted" not in predictions.columns or not flags:
        missing = [c for c in ("predicted", "is_ood") if c not in predictions.columns]
        raise ConfigError(
            "open-set prediction needs a classifier with an OOD detector or one-vs-rest scores",
            expected=f"predictions with 'predicted' and 'is_ood' (or {NONE_COLUMN!r}) columns",
            got="no " + " and no ".join(repr(c) for c in missing),
            fix="train a classification bundle with an OOD detector (finetune --ood ...) "
            "or with --one-vs-rest",
        )
    out = predictions.copy()
    out["predicted"] = out["predicted"].astype(object)
    rejected = np.zeros(len(out), dtype=bool)
    for c in flags:
        rejected |= out[c].astype(bool).to_numpy()
    out.loc[rejected, "predicted"] = unknown
    return out


def open_set_figures(
    y_true: Sequence[Any], y_pred: Sequence[Any], known: Sequence[Any], unknown: str = UNKNOWN
) -> dict[str, Any]:
    """TSNS, TSPS, TEFF, per-class sensitivity and the open-set confusion matrix.

    Parameters
    ----------
    y_true : sequence of n labels
        True labels; any label outside ``known`` is an unknown class.
    y_pred : sequence of n labels
        Predicted labels, ``unknown`` for rejected spectra.
    known : sequence
        The classes the model was trained on.
    unknown : str, default="unknown"
        The label of rejected spectra.

    Returns
    -------
    dict
        ``TSNS``, ``TSPS``, ``TEFF`` (floats; NaN where the test set has no spectrum of that
        kind), ``CSNS`` (class -> sensitivity) and ``CM`` (DataFrame: rows are true labels,
        columns the known classes then ``unknown``).

    Examples
    --------
    >>> f = open_set_figures(["a", "b", "x"], ["a", "unknown", "unknown"], known=["a", "b"])
    >>> round(f["TSNS"], 2), f["TSPS"]
    (0.5, 1.0)
    """
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    if y_true.shape != y_pred.shape:
        raise ConfigError("labels of different lengths", got=f"{y_true.size} vs {y_pred.size}")
    known = list(dict.fromkeys(known))
    is_known = np.isin(y_true, known)
    tsns = float(np.mean(y_pred[is_known] == y_true[is_known])) if is_known.any() else np.nan
    tsps = float(np.mean(y_pred[~is_known] == unknown)) if (~is_known).any() else np.nan
    csns = {c: float(np.mean(y_pred[y_true == c] == c)) for c in known if (y_true == c).any()}
    rows = list(dict.fromkeys([*known, *y_true[~is_known].tolist()]))
    cols = [*known, unknown]
    cm = pd.DataFrame(0, index=pd.Index(rows, name="true"), columns=cols)
    for t, p in zip(y_true, y_pred, strict=True):
        cm.loc[t, p if p in cols else unknown] += 1
    teff = float(np.sqrt(tsns * tsps)) if np.isfinite(tsns) and np.isfinite(tsps) else np.nan
    return {"TSNS": tsns, "TSPS": tsps, "TEFF": teff, "CSNS": csns, "CM": cm}
