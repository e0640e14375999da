"""Figures a person reads to judge a model; each function returns PNG bytes.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg canvas (no
pyplot global state, no display needed) and saved without metadata, so the bytes depend only
on the data.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from spectrakit.core.spectra import Spectra

__all__ = [
    "confusion_matrix_png",
    "figure_png",
    "fold_scores_png",
    "intervals_png",
    "leaderboard_png",
    "learning_curves_png",
    "mean_spectra_png",
    "new_figure",
    "parity_png",
    "residuals_png",
]

_DPI = 100


def _figure(width: float = 6.0, height: float = 4.5) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def parity_png(
    y_true: Any, y_pred: Any, *, title: str = "Predicted vs reference", unit: str = ""
) -> bytes:
    """Predicted against reference values with the identity line and RMSE / R² / bias."""
    from spectrakit.evaluation.metrics import regression_metrics

    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    m = regression_metrics(t, p)
    fig, ax = _figure(5.5, 5.0)
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=1, ls="--", label="y = x")
    ax.scatter(t, p, s=18, alpha=0.75, color="tab:blue", edgecolor="none")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    suffix = f" {unit}" if unit else ""
    ax.set_xlabel(f"reference{suffix}")
    ax.set_ylabel(f"predicted{suffix}")
    ax.set_title(title)
    text = (
        f"RMSE = {m['rmse']:.3g}{suffix}\nR² = {m['r2']:.3f}\nbias = {m['bias']:+.3g}\nn = {m['n']}"
    )
    ax.text(
        0.03,
        0.97,
        text,
        transform=ax.transAxes,
        va="top",
        fontsize=10,
        bbox={"facecolor": "white", "edgecolor": "0.8"},
    )
    ax.legend(loc="lower right")
    return _png(fig)


def residuals_png(y_true: Any, y_pred: Any, *, title: str = "Residuals vs reference") -> bytes:
    """Residuals (predicted - reference) against the reference value, with the mean (bias)."""
    t = np.asarray(y_true, dtype=float)
    e = np.asarray(y_pred, dtype=float) - t
    fig, ax = _figure()
    ax.axhline(0.0, color="0.5", lw=1, ls="--")
    ax.axhline(float(e.mean()), color="tab:red", lw=1, label=f"bias = {e.mean():+.3g}")
    ax.scatter(t, e, s=18, alpha=0.75, color="tab:blue", edgecolor="none")
    ax.set_xlabel("reference")
    ax.set_ylabel("residual (predicted - reference)")
    ax.set_title(title)
    ax.legend(loc="best")
    return _png(fig)


def confusion_matrix_png(
    cm: Any, classes: Sequence[str], *, title: str = "Confusion matrix"
) -> bytes:
    """Counts with row-normalized colour (rows: true class, columns: predicted class)."""
    C = np.asarray(cm, dtype=float)
    norm = C / np.clip(C.sum(axis=1, keepdims=True), 1, None)
    size = max(4.0, 0.6 * len(classes) + 2.5)
    fig, ax = _figure(size + 1.0, size)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of true class")
    ax.set_xticks(range(len(classes)), [str(c) for c in classes], rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), [str(c) for c in classes])
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            ax.text(
                j,
                i,
                f"{int(C[i, j])}",
                ha="center",
                va="center",
                color="white" if norm[i, j] > 0.5 else "black",
                fontsize=9,
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return _png(fig)


def fold_scores_png(folds: pd.DataFrame, metric: str, *, title: str | None = None) -> bytes:
    """One bar per cross-validation fold, with the mean as a line."""
    fig, ax = _figure(6.0, 3.5)
    values = folds[metric].to_numpy(dtype=float)
    ax.bar(folds["fold"].astype(str), values, color="tab:blue", alpha=0.8)
    ax.axhline(
        float(np.nanmean(values)), color="tab:red", lw=1, label=f"mean = {np.nanmean(values):.3g}"
    )
    ax.set_xlabel("fold")
    ax.set_ylabel(metric)
    ax.set_title(title or f"{metric} per fold")
    ax.legend(loc="best")
    return _png(fig)


def learning_curves_png(metrics_csv: str | Path) -> bytes | None:
    """Training/validation curves from a Lightning ``metrics.csv`` (None when unreadable)."""
    try:
        df = pd.read_csv(metrics_csv)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if "epoch" not in df.columns:
        return None
    cols = [c for c in df.columns if c not in ("epoch", "step") and df[c].notna().any()]
    cols = [c for c in cols if pd.api.types.is_numeric_dtype(df[c])]
    if not cols:
        return None
    per_epoch = df.groupby("epoch")[cols].mean()
    fig, ax = _figure(6.5, 4.0)
    for c in cols:
        s = per_epoch[c].dropna()
        if len(s):
            ax.plot(s.index, s.values, marker="o", ms=3, label=c)
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    if (per_epoch[cols].dropna(how="all").to_numpy() > 0).all():
        ax.set_yscale("log")
    ax.set_title("Learning curves")
    ax.legend(loc="best", fontsize=8)
    return _png(fig)


def mean_spectra_png(spectra: Spectra, target: Any, task: str, *, n_bins: int = 4) -> bytes:
    """Mean spectrum (± 1 SD band) per class, or per target quantile for regression."""
    y = np.asarray(target)
    if task == "classification":
        keys = [str(v) for v in y]
        groups = sorted(set(keys))
        masks = {g: np.array([k == g for k in keys]) for g in groups}
    else:
        yv = y.astype(float)
        edges = np.unique(np.quantile(yv, np.linspace(0, 1, n_bins + 1)))
        which = np.clip(np.searchsorted(edges, yv, side="right") - 1, 0, len(edges) - 2)
        masks = {f"{edges[b]:.3g} – {edges[b + 1]:.3g}": which == b for b in range(len(edges) - 1)}
    fig, ax = _figure(7.5, 4.0)
    x = spectra.axis.values
    colors = [f"C{i % 10}" for i in range(len(masks))]
    for (label, mask), color in zip(masks.items(), colors, strict=True):
        if not mask.any():
            continue
        block = np.asarray(spectra.values[mask], dtype=float)
        mean, sd = block.mean(axis=0), block.std(axis=0)
        ax.plot(x, mean, color=color, lw=1.2, label=f"{label} (n={int(mask.sum())})")
        ax.fill_between(x, mean - sd, mean + sd, color=color, alpha=0.15, lw=0)
    ax.set_xlabel(f"{spectra.axis.kind} ({spectra.axis.unit})")
    ax.set_ylabel("intensity")
    ax.set_title(
        "Mean spectrum per class"
        if task == "classification"
        else "Mean spectrum per target quantile"
    )
    ax.legend(loc="best", fontsize=8)
    return _png(fig)


def leaderboard_png(board: pd.DataFrame, metric: str, *, lower_is_better: bool) -> bytes:
    """Horizontal bars of one score per model, best on top, with fold spread when known."""
    df = board.sort_values(metric, ascending=not lower_is_better).iloc[::-1]
    fig, ax = _figure(6.5, max(2.5, 0.5 * len(df) + 1.5))
    err = df[f"{metric}_std"].to_numpy(float) if f"{metric}_std" in df.columns else None
    ax.barh(
        df["model"].astype(str),
        df[metric].to_numpy(float),
        xerr=err,
        color="tab:blue",
        alpha=0.8,
        capsize=3,
    )
    ax.set_xlabel(metric + (" (lower is better)" if lower_is_better else " (higher is better)"))
    ax.set_title("Leaderboard")
    return _png(fig)


def intervals_png(y_true: Any, y_pred: Any, lower: Any, upper: Any, *, alpha: float) -> bytes:
    """Reference minus prediction, with each interval drawn around zero; misses in red."""
    t = np.asarray(y_true, dtype=float)
    p, lo, hi = (np.asarray(a, dtype=float) for a in (y_pred, lower, upper))
    order = np.argsort(t)
    t, p, lo, hi = t[order], p[order], lo[order], hi[order]
    inside = (t >= lo) & (t <= hi)
    fig, ax = _figure(6.5, 4.5)
    ax.fill_between(
        t,
        lo - p,
        hi - p,
        color="tab:blue",
        alpha=0.2,
        lw=0,
        label="interval (relative to the prediction)",
    )
    ax.axhline(0.0, color="0.5", lw=1, ls="--")
    ax.scatter(t[inside], (t - p)[inside], s=10, color="tab:blue", label="covered")
    ax.scatter(t[~inside], (t - p)[~inside], s=14, color="tab:red", label="outside its interval")
    ax.set_xlabel("reference value")
    ax.set_ylabel("reference - prediction")
    ax.set_title(
        f"Conformal intervals: {100 * inside.mean():.1f} % covered "
        f"(nominal {100 * (1 - alpha):.0f} %)"
    )
    ax.legend(loc="best", fontsize=8)
    return _png(fig)


#: a styled Matplotlib figure and axes, ``new_figure(width, height)`` (inches)
new_figure = _figure
#: the PNG bytes of a figure (the figure is closed)
figure_png = _png
