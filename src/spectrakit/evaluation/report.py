"""Self-contained HTML reports (+ the same figures as PNG files).

The HTML opens offline: CSS is inline, every image is a base64 PNG ``data:`` URI, there is no
script and no external reference. Every file is written atomically.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import spectrakit.evaluation.plots as plots
from spectrakit.core.spectra import Spectra
from spectrakit.io import atomic_path

__all__ = [
    "Figure",
    "Section",
    "prediction_figures",
    "render_html",
    "scored_figures",
    "write_model_report",
    "write_report",
]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.45;padding:0 1em}
h1{border-bottom:2px solid #2a6fb0;padding-bottom:.2em}h2{color:#2a6fb0;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#eef3f8}
td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:.5em 1em .5em 0;vertical-align:top}
figcaption{font-size:.85em;color:#555;max-width:600px}
img{max-width:100%;border:1px solid #ddd}.note{color:#555;font-size:.9em}
.key{font-size:1.15em;background:#f5f8fb;border-left:4px solid #2a6fb0;padding:.5em 1em}
"""


@dataclass
class Figure:
    """A named PNG with a caption."""

    name: str
    png: bytes
    caption: str = ""


@dataclass
class Section:
    """A report section: paragraphs, key-value highlights, tables and figures."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    highlight: str | None = None


def _table(caption: str, df: pd.DataFrame) -> str:
    body = df.to_html(index=False, escape=True, border=0, float_format=lambda v: f"{v:.4g}")
    return f"<p class='note'>{html.escape(caption)}</p>{body}" if caption else body


def render_html(title: str, sections: Sequence[Section], *, subtitle: str = "") -> str:
    """The complete HTML document as a string (images embedded)."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f"<p class='note'>{html.escape(subtitle)}</p>")
    for sec in sections:
        parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        if sec.highlight:
            parts.append(f"<p class='key'>{html.escape(sec.highlight)}</p>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in sec.paragraphs)
        parts.extend(_table(cap, df) for cap, df in sec.tables)
        for fig in sec.figures:
            data = base64.b64encode(fig.png).decode("ascii")
            parts.append(
                f"<figure><img alt='{html.escape(fig.name)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    out_dir: str | Path, title: str, sections: Sequence[Section], *, subtitle: str = ""
) -> Path:
    """Write ``report.html`` and ``figures/<name>.png`` under ``out_dir`` (atomically).

    Returns
    -------
    Path
        The HTML file.
    """
    out = Path(out_dir)
    for sec in sections:
        for fig in sec.figures:
            with atomic_path(out / "figures" / f"{fig.name}.png") as tmp:
                tmp.write_bytes(fig.png)
    target = out / "report.html"
    with atomic_path(target) as tmp:
        tmp.write_text(render_html(title, sections, subtitle=subtitle), encoding="utf-8")
    return target


def _kv(data: dict) -> pd.DataFrame:
    rows = []
    for k, v in data.items():
        if isinstance(v, dict | list):
            v = json.dumps(v, default=str)
        rows.append({"item": str(k), "value": v})
    return pd.DataFrame(rows)


def _pipeline_table(pipeline: Any) -> pd.DataFrame | None:
    if pipeline is None:
        return None
    if hasattr(pipeline, "to_config"):
        cfg = pipeline.to_config()
        steps = cfg.get("steps", []) if isinstance(cfg, dict) else []
        rows = [
            {
                "#": i + 1,
                "step": s.get("step", s.get("name", "")) if isinstance(s, dict) else str(s),
                "parameters": json.dumps(s.get("params", {}), default=str)
                if isinstance(s, dict)
                else "",
            }
            for i, s in enumerate(steps)
        ]
        return pd.DataFrame(rows) if rows else None
    steps = getattr(pipeline, "steps", [("preprocess", pipeline)])
    return pd.DataFrame(
        [
            {"#": i + 1, "step": name, "parameters": repr(step)}
            for i, (name, step) in enumerate(steps)
        ]
    )


def _data_section(spectra: Spectra, target: Any, task: str) -> Section:
    from spectrakit.preprocessing.quality import summarize

    summary = summarize(spectra)
    flat = {
        "spectra": summary["n_spectra"],
        "points per spectrum": summary["n_points"],
        "axis": f"{summary['axis']['min']:g} – {summary['axis']['max']:g} "
        f"{summary['axis']['unit']} ({summary['axis']['kind']})",
        "spectra with NaN": summary["spectra_with_nan"],
        "spectra with spikes": summary["spectra_with_spikes"],
        "saturated spectra": summary["spectra_saturated"],
        "constant spectra (placeholders)": summary["spectra_constant"],
        "metadata columns": ", ".join(summary["meta"]) or "(none)",
    }
    sec = Section("Data", tables=[("Summary of the training spectra", _kv(flat))])
    if target is not None:
        sec.figures.append(
            Figure(
                "mean_spectra",
                plots.mean_spectra_png(spectra, target, task),
                "Mean spectrum (band: ± 1 SD) per class"
                if task == "classification"
                else "Mean spectrum (band: ± 1 SD) per quartile of the target",
            )
        )
    return sec


def prediction_figures(
    prefix: str, task: str, y_true: Any, y_pred: Any, cm: Any = None, classes: Any = None
) -> list[Figure]:
    """Parity + residual figures (regression) or the confusion matrix (classification).

    Parameters
    ----------
    prefix : str
        Figure name prefix (``test``, ``cv``, ``<model>_test``).
    task : {"regression", "classification"}
    y_true, y_pred : array-like of shape (n,)
    cm : array-like of shape (n_classes, n_classes), optional
        Confusion matrix (classification).
    classes : sequence of str, optional
    """
    if task == "regression":
        return [
            Figure(
                f"{prefix}_parity",
                plots.parity_png(y_true, y_pred, title=f"{prefix}: predicted vs reference"),
                "Each point is one spectrum; on the dashed line the prediction is exact.",
            ),
            Figure(
                f"{prefix}_residuals",
                plots.residuals_png(y_true, y_pred, title=f"{prefix}: residuals"),
                "Residuals should scatter evenly around zero; a trend means a systematic error.",
            ),
        ]
    return [
        Figure(
            f"{prefix}_confusion",
            plots.confusion_matrix_png(cm, classes, title=f"{prefix}: confusion matrix"),
            "Rows: true class; columns: predicted class; the diagonal holds correct predictions.",
        )
    ]


def _scores_table(scores: dict) -> pd.DataFrame:
    return _kv({k: v for k, v in scores.items() if isinstance(v, int | float | np.floating)})


def scored_figures(prefix: str, task: str, y_true: Any, y_pred: Any, scores: dict) -> list[Figure]:
    """:func:`prediction_figures` of predictions whose ``scores`` hold the confusion matrix."""
    cm, classes = scores.get("confusion_matrix"), scores.get("classes")
    return prediction_figures(prefix, task, y_true, y_pred, cm, classes)


def _overview(key: str, test: dict | None, cv_result: Any, notes: Sequence[str]) -> list[Section]:
    """The result summary (test score, else pooled CV score) with the notes; may be empty."""
    overview = Section("Result", paragraphs=list(notes))
    if test is not None:
        overview.highlight = (
            f"Test set: {key} = {test['scores'][key]:.4g} (n = {test['scores']['n']})"
        )
    elif cv_result is not None:
        overview.highlight = (
            f"Cross-validation ({len(cv_result.folds)} folds): pooled {key} = "
            f"{cv_result.scores[key]:.4g}"
        )
    return [overview] if overview.highlight or overview.paragraphs else []


def _preprocessing_section(pipeline: Any) -> Section:
    """The preprocessing steps in order (or a note that there were none)."""
    table = _pipeline_table(pipeline)
    if table is None:
        return Section("Preprocessing", paragraphs=["No preprocessing: raw intensities."])
    return Section("Preprocessing", tables=[("Steps, in order", table)])


def _cv_section(cv_result: Any, task: str, key: str) -> Section:
    """Cross-validation: pooled and per-fold scores, out-of-fold figures, fold scores."""
    preds = cv_result.predictions
    sec = Section(
        "Cross-validation",
        paragraphs=[
            "Preprocessing and model were refitted inside every fold on that fold's "
            "training spectra only; scores below come from out-of-fold predictions."
        ],
        tables=[
            ("Pooled out-of-fold scores", _scores_table(cv_result.scores)),
            ("Per-fold scores", cv_result.folds),
        ],
    )
    sec.figures = scored_figures("cv", task, preds["y_true"], preds["y_pred"], cv_result.scores)
    sec.figures.append(
        Figure("cv_folds", plots.fold_scores_png(cv_result.folds, key), f"{key} of each fold")
    )
    return sec


def write_model_report(
    out_dir: str | Path,
    *,
    title: str,
    task: str,
    spectra: Spectra | None = None,
    target: Any = None,
    cv_result: Any = None,
    test: dict | None = None,
    pipeline: Any = None,
    metrics_csv: str | Path | None = None,
    notes: Sequence[str] = (),
    extra_sections: Sequence[Section] = (),
) -> Path:
    """The standard report of one model.

    Parameters
    ----------
    out_dir : path
    title : str
    task : {"regression", "classification"}
    spectra : Spectra, optional
        Training spectra (data summary and mean-spectrum figure).
    target : array-like of shape (n,), optional
        Their targets.
    cv_result : CVResult, optional
        Cross-validation results (per-fold scores, out-of-fold predictions).
    test : dict, optional
        ``{"y_true", "y_pred", "scores"}`` for an independent test set.
    pipeline : object, optional
        The preprocessing used (a spectrakit Pipeline or scikit-learn transformer).
    metrics_csv : path, optional
        Lightning ``metrics.csv`` of a trained deep model (learning curves).
    notes : sequence of str
        Extra paragraphs under the title section.
    extra_sections : sequence of Section
        Placed right after the result summary.

    Returns
    -------
    Path
        The HTML file.
    """
    key = "rmse" if task == "regression" else "accuracy"
    sections = _overview(key, test, cv_result, notes) + list(extra_sections)
    if test is not None:
        figures = scored_figures("test", task, test["y_true"], test["y_pred"], test["scores"])
        tables = [("Scores", _scores_table(test["scores"]))]
        sections.append(Section("Independent test set", tables=tables, figures=figures))
    if cv_result is not None:
        sections.append(_cv_section(cv_result, task, key))
    png = None if metrics_csv is None else plots.learning_curves_png(metrics_csv)
    if png is not None:
        caption = "Loss and metrics per epoch (training and validation)"
        sections.append(Section("Training", figures=[Figure("learning_curves", png, caption)]))
    sections.append(_preprocessing_section(pipeline))
    if spectra is not None:
        sections.append(_data_section(spectra, target, task))
    return write_report(out_dir, title, sections)
