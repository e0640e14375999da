"""The per-model result sheet: metrics, confusion matrix, ROC, precision-recall, calibration.

One picture (PNG) and one page (HTML, the picture embedded plus the tables) per model and
test set, as the SpectraTorch result sheets give: what a person looks at to judge a
classifier scored once on its test set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn import metrics as skm

from spectrakit.core.errors import DataError
from spectrakit.evaluation.plots import figure_png as _png
from spectrakit.evaluation.report import Figure as ReportFigure
from spectrakit.evaluation.report import Section, render_html
from spectrakit.io import atomic_path

__all__ = ["curves", "result_sheet_png", "write_result_sheet"]

_BINS = 10


def curves(y_true: Any, proba: Any, classes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """One-vs-rest ROC and precision-recall curves per class present in ``y_true``.

    Returns
    -------
    dict
        ``{class: {"fpr", "tpr", "auc", "recall", "precision", "ap"}}`` (arrays and floats).
    """
    t = np.asarray(y_true).astype(str)
    P = np.asarray(proba, dtype=np.float64)
    if P.shape != (t.size, len(classes)):
        raise DataError(
            "probabilities have the wrong shape",
            expected=f"({t.size}, {len(classes)}) with columns ordered as the classes",
            got=str(P.shape),
        )
    out = {}
    for j, c in enumerate(map(str, classes)):
        positive = t == c
        if positive.all() or not positive.any():
            continue  # a curve needs both positives and negatives
        fpr, tpr, _ = skm.roc_curve(positive, P[:, j])
        precision, recall, _ = skm.precision_recall_curve(positive, P[:, j])
        out[c] = {
            "fpr": fpr,
            "tpr": tpr,
            "auc": float(skm.auc(fpr, tpr)),
            "recall": recall,
            "precision": precision,
            "ap": float(skm.average_precision_score(positive, P[:, j])),
        }
    return out


def _reliability(y_true: np.ndarray, proba: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """Top-class confidence against accuracy in equal-width bins (the calibration diagram)."""
    conf = proba.max(axis=1)
    correct = np.asarray(classes, dtype=str)[proba.argmax(axis=1)] == y_true
    which = np.clip((conf * _BINS).astype(int), 0, _BINS - 1)
    rows = [
        {
            "bin": b,
            "confidence": float(conf[which == b].mean()),
            "accuracy": float(correct[which == b].mean()),
            "n": int((which == b).sum()),
        }
        for b in range(_BINS)
        if (which == b).any()
    ]
    return pd.DataFrame(rows)


def _confusion(ax: Any, cm: np.ndarray, classes: Sequence[str]) -> None:
    norm = cm / np.clip(cm.sum(axis=1, keepdims=True), 1, None)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ticks = range(len(classes))
    ax.set_xticks(ticks, [str(c) for c in classes], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(ticks, [str(c) for c in classes], fontsize=8)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            colour = "white" if norm[i, j] > 0.5 else "black"
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", color=colour, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix")


def _curve_axes(ax_roc: Any, ax_pr: Any, found: dict[str, dict[str, Any]]) -> None:
    ax_roc.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1)
    for c, v in found.items():
        ax_roc.plot(v["fpr"], v["tpr"], lw=1.5, label=f"{c} (AUC {v['auc']:.3f})")
        ax_pr.plot(v["recall"], v["precision"], lw=1.5, label=f"{c} (AP {v['ap']:.3f})")
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax_pr.set(xlabel="recall", ylabel="precision", title="Precision-recall", ylim=(0, 1.02))
    for ax in (ax_roc, ax_pr):
        if found:
            ax.legend(fontsize=7, loc="lower right" if ax is ax_roc else "lower left")


def _calibration(ax: Any, table: pd.DataFrame, ece: float) -> None:
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1)
    if not table.empty:
        centres = (table["bin"].to_numpy() + 0.5) / _BINS
        ax.bar(centres, table["accuracy"], width=1.0 / _BINS, alpha=0.6, label="accuracy")
        ax.plot(
            table["confidence"],
            table["accuracy"],
            "o",
            color="tab:red",
            ms=4,
            label="mean confidence",
        )
        ax.legend(fontsize=7, loc="upper left")
    ax.set(
        xlabel="confidence (top class)",
        ylabel="accuracy",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"Calibration (ECE {ece:.3f})",
    )


def _metrics_text(ax: Any, metrics: dict[str, Any]) -> None:
    ax.axis("off")
    ax.set_title("Metrics")
    keys = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "ece", "n")
    lines = [
        f"{k:<18} {metrics[k]:.4g}" if isinstance(metrics[k], float) else f"{k:<18} {metrics[k]}"
        for k in keys
        if k in metrics
    ]
    ax.text(0.05, 0.95, "\n".join(lines), va="top", family="monospace", fontsize=11)


def result_sheet_png(
    y_true: Any, proba: Any, classes: Sequence[str], *, title: str = "Result sheet"
) -> tuple[bytes, dict[str, Any]]:
    """The sheet as PNG bytes, and the numbers it shows.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        True class names.
    proba : array-like of shape (n, n_classes)
        Predicted probabilities, columns ordered as ``classes``.
    classes : sequence of str
    title : str

    Returns
    -------
    png : bytes
    numbers : dict
        ``metrics`` (as :func:`~spectrakit.evaluation.metrics.classification_metrics`),
        ``curves`` (per-class AUC and AP) and ``calibration`` (bins as records).
    """
    from spectrakit.evaluation.metrics import classification_metrics

    t = np.asarray(y_true).astype(str)
    P = np.asarray(proba, dtype=np.float64)
    names = [str(c) for c in classes]
    pred = np.asarray(names, dtype=object)[P.argmax(axis=1)].astype(str)
    metrics = classification_metrics(t, pred, P, names)
    found = curves(t, P, names)
    table = _reliability(t, P, names)
    fig = Figure(figsize=(15, 9), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3)
    fig.suptitle(title, fontsize=11)
    _metrics_text(axes[0, 0], metrics)
    _confusion(axes[0, 1], np.asarray(metrics["confusion_matrix"], dtype=float), names)
    _calibration(axes[0, 2], table, metrics["ece"])
    _curve_axes(axes[1, 0], axes[1, 1], found)
    axes[1, 2].hist(P.max(axis=1), bins=_BINS, range=(0, 1), color="tab:blue", alpha=0.7)
    axes[1, 2].set(xlabel="confidence (top class)", ylabel="spectra", title="Confidence")
    numbers = {
        "metrics": metrics,
        "curves": {c: {"auc": v["auc"], "ap": v["ap"]} for c, v in found.items()},
        "calibration": table.to_dict(orient="records"),
    }
    return _png(fig), numbers


def write_result_sheet(
    out_dir: str | Path,
    y_true: Any,
    proba: Any,
    classes: Sequence[str],
    *,
    title: str = "Result sheet",
    recipe: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``result_sheet.png`` and ``result_sheet.html`` under ``out_dir`` (atomically).

    ``recipe`` (the bundle's training recipe: model, targets, channels, transforms, split,
    seed, label smoothing, ...) is printed on the page so the sheet says what it judges.

    Returns
    -------
    dict
        The numbers of the sheet (see :func:`result_sheet_png`) and the two paths.
    """
    png, numbers = result_sheet_png(y_true, proba, classes, title=title)
    out = Path(out_dir)
    per_class = pd.DataFrame(numbers["metrics"]["per_class"]).T.reset_index(names="class")
    auc = pd.DataFrame(
        [
            {"class": c, "roc_auc": v["auc"], "average_precision": v["ap"]}
            for c, v in numbers["curves"].items()
        ]
    )
    tables = [("per class", per_class), ("curves", auc)]
    tables.append(("calibration", pd.DataFrame(numbers["calibration"])))
    if recipe:
        rows = [{"setting": k, "value": str(v)} for k, v in recipe.items()]
        tables.insert(0, ("training recipe", pd.DataFrame(rows)))
    section = Section(
        title="Test set",
        highlight=f"accuracy {numbers['metrics']['accuracy']:.4g}, "
        f"macro F1 {numbers['metrics']['macro_f1']:.4g}, n = {numbers['metrics']['n']}",
        tables=tables,
        figures=[ReportFigure("result_sheet", png, "metrics, confusion, ROC/PR, calibration")],
    )
    paths = {"png": out / "result_sheet.png", "html": out / "result_sheet.html"}
    with atomic_path(paths["png"]) as tmp:
        tmp.write_bytes(png)
    with atomic_path(paths["html"]) as tmp:
        tmp.write_text(render_html(title, [section]), encoding="utf-8")
    return {**numbers, "paths": {k: str(v) for k, v in paths.items()}}
