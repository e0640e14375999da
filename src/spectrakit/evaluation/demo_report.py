"""Outputs of the demo: ``report.html``, ``figures``, ``metrics.json``, ``predictions.csv``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.evaluation.demo_data import HALF_WINDOW

__all__ = ["demo_metrics", "write_demo_outputs"]

_COLORS = ("tab:blue", "tab:orange", "tab:green")


def _parity_png(y: np.ndarray, preds: dict[str, np.ndarray]) -> bytes:
    from spectrakit.evaluation.plots import figure_png, new_figure

    fig, ax = new_figure(5.5, 5.0)
    lo = min(y.min(), *(p.min() for p in preds.values()))
    hi = max(y.max(), *(p.max() for p in preds.values()))
    ax.plot([lo, hi], [lo, hi], color="0.5", ls="--", lw=1, label="y = x")
    for (name, p), color in zip(preds.items(), _COLORS, strict=False):
        rmse = float(np.sqrt(np.mean((p - y) ** 2)))
        ax.scatter(y, p, s=22, alpha=0.8, color=color, label=f"{name} (RMSEP {rmse:.2f})")
    ax.set_xlabel("HPLC glucose (g/L)")
    ax.set_ylabel("predicted glucose (g/L)")
    ax.set_title("Process spectra at the HPLC times")
    ax.legend(loc="upper left")
    return figure_png(fig)


def _timeseries_png(series: pd.DataFrame, at_hplc: pd.DataFrame, labels: dict) -> bytes:
    from spectrakit.evaluation.plots import figure_png, new_figure

    fig, ax = new_figure(9.0, 4.5)
    hours = series["time_min"].to_numpy() / 60.0
    for (col, name), color in zip(labels.items(), _COLORS, strict=False):
        ax.plot(hours, _smooth(series[col].to_numpy()), lw=0.8, alpha=0.85, color=color, label=name)
    ax.scatter(at_hplc["time_min"] / 60.0, at_hplc["hplc"], color="k", s=20, zorder=3, label="HPLC")
    ax.set_xlabel("fermentation time (h)")
    ax.set_ylabel("glucose (g/L)")
    ax.set_title(f"Every process spectrum predicted ({2 * HALF_WINDOW + 1}-spectrum average)")
    ax.legend(loc="upper right")
    return figure_png(fig)


def _smooth(x: np.ndarray, half: int = HALF_WINDOW) -> np.ndarray:
    kernel = np.ones(2 * half + 1) / (2 * half + 1)
    return np.convolve(np.pad(x, half, mode="edge"), kernel, mode="valid")


def demo_metrics(result: Any) -> dict:
    """The figures of a run as JSON-able facts (``metrics.json``)."""
    return {
        "data": result.source,
        "n_standards": result.n_standards,
        "n_process_spectra": result.n_process,
        "n_hplc": result.n_hplc,
        "chosen": result.chosen,
        "reason": result.reason,
        "scores": result.scores,
        "cv": {r.candidate: float(r.cv_error) for r in result.cv_table.itertuples()},
        "pls": result.extra,
        "seconds": round(result.seconds, 1),
    }


def _score_table(result: Any) -> pd.DataFrame:
    names = {"auto": f"auto: {result.chosen}", "PLS": f"CV-tuned PLS ({result.extra['pls']})"}
    return pd.DataFrame(
        [
            {
                "model": names.get(k, k),
                "RMSEP (g/L)": s["rmsep"],
                "bias (g/L)": s["bias"],
                "SEP (g/L)": s["sep"],
                "R²": s["r2"],
            }
            for k, s in result.scores.items()
        ]
    )


def write_demo_outputs(result: Any, out: Path) -> Path:
    """Write metrics, predictions and the HTML report of ``result`` into ``out``."""
    from spectrakit.evaluation.report import Figure, Section, write_report
    from spectrakit.io import atomic_path

    with atomic_path(out / "metrics.json") as tmp:
        Path(tmp).write_text(json.dumps(demo_metrics(result), indent=1), encoding="utf-8")
    with atomic_path(out / "predictions.csv") as tmp:
        result.predictions.to_csv(tmp, index=False)
    at = result.matched
    y = at["hplc"].to_numpy()
    preds = {k: at[f"pred_{k}"].to_numpy() for k in ("auto", "PLS")}
    labels = {"glucose_auto": f"auto ({result.chosen})", "glucose_pls": "CV-tuned PLS"}
    cv = result.cv_table.rename(columns={"cv_error": "CV RMSE (g/L)"})
    sections = [
        Section(
            "Result",
            highlight=result.summary(),
            paragraphs=[
                f"Data: {result.source}. {result.n_standards} labelled glucose standards; "
                f"{result.n_process} on-line process spectra, unlabeled, used for "
                f"adaptation; {result.n_hplc} HPLC references, sealed until the choice was "
                "frozen and scored once.",
                f"Choice by {len(cv)}-candidate cross-validation on the standards only: "
                f"{result.reason}.",
                f"Run time: {result.seconds:.0f} s.",
            ],
            tables=[
                ("Errors on the HPLC reference points", _score_table(result)),
                ("Cross-validation on the standards (every candidate)", cv),
            ],
        ),
        Section(
            "Figures",
            figures=[
                Figure("parity", _parity_png(y, preds), "Predicted vs HPLC glucose."),
                Figure(
                    "timeseries",
                    _timeseries_png(result.predictions, at, labels),
                    "Every process spectrum predicted, against the HPLC reference.",
                ),
            ],
        ),
    ]
    return write_report(
        out, "spectrakit demo: glucose in a fermentation", sections, subtitle=result.source
    )
