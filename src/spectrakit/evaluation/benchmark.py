"""Run several models through exactly the same folds and test set, and rank them.

Baselines are built by name (:func:`spectrakit.chemometrics.make_baseline`); any other name is a
registered deep model, trained through :class:`~spectrakit.training.evaluate.DeepRegressor` /
:class:`~spectrakit.training.evaluate.DeepClassifier`, so both kinds share one code path.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import spectrakit.evaluation.plots as plots
from spectrakit.chemometrics import BASELINES, make_baseline, resolve_target
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.spectra import Spectra
from spectrakit.data.splits import PredefinedSplits, get_splitter
from spectrakit.evaluation.cross_validation import (
    CVResult,
    cross_validate,
    predict_scores,
    score_predictions,
)
from spectrakit.evaluation.report import Figure, Section, scored_figures, write_model_report
from spectrakit.io import atomic_path
from spectrakit.training.evaluate import DeepClassifier, DeepRegressor

__all__ = [
    "REFERENCE",
    "ModelRun",
    "best_model",
    "infer_task",
    "model_factory",
    "primary_metric",
    "run_benchmark",
]

log = logging.getLogger(__name__)

#: the reference row of every leaderboard: predict the training mean (the majority class)
REFERENCE = "mean"


def _reference_model(task: str) -> Any:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    from spectrakit.chemometrics import SpectralEstimator

    if task == "regression":
        return SpectralEstimator(DummyRegressor(strategy="mean"))
    return SpectralEstimator(DummyClassifier(strategy="prior"))


def _kind(name: str) -> str:
    key = name.strip().lower()
    if key == "auto":
        return "auto"
    return "reference" if key == REFERENCE else "baseline" if key in BASELINES else "deep"


def best_model(board: pd.DataFrame) -> tuple[str | None, str]:
    """The model a leaderboard may call best, and the sentence that says so.

    The reference row is never best, and no regression model is declared best when its R²
    on the ranking scores is below 0 (worse than predicting the mean).

    Returns
    -------
    name : str or None
        ``None`` when no model earns the title.
    sentence : str
    """
    key = board.attrs["metric"]
    models = board[board["kind"] != "reference"]
    if models.empty:
        return None, "Only the reference was evaluated."
    top = models.iloc[0]
    r2_key = key.rsplit("_", 1)[0] + "_r2"
    regression = board.attrs.get("task") == "regression" and r2_key in board.columns
    if regression and not top[r2_key] >= 0:  # NaN counts as below
        return None, (
            f"No model is better than predicting the mean: the top model, {top['model']}, "
            f"has {r2_key} = {top[r2_key]:.3g} < 0."
        )
    ref = board[board["kind"] == "reference"]
    if not ref.empty and board.index[board["model"] == top["model"]][0] > ref.index[0]:
        return None, f"No model beats the reference ({REFERENCE}: {key} = {ref[key].iloc[0]:.4g})."
    return str(top["model"]), f"Best: {top['model']} ({key} = {top[key]:.4g})"


def infer_task(spectra: Spectra, target: str, task: str | None = None) -> str:
    """``task`` if given, else regression for a numeric target column, classification otherwise."""
    if task is not None:
        if task not in ("regression", "classification"):
            raise ConfigError("unknown task", expected="regression or classification", got=task)
        return task
    y = np.asarray(resolve_target(spectra, target))
    return "regression" if y.dtype.kind in "fiu" else "classification"


def primary_metric(task: str) -> tuple[str, bool]:
    """``(metric, lower_is_better)`` used to rank models."""
    return ("rmse", True) if task == "regression" else ("balanced_accuracy", False)


def model_factory(name: str, task: str, *, pipeline: Any = None, deep: dict | None = None):
    """A zero-argument factory building a fresh model by name (baseline or deep model)."""
    key = name.strip()
    if key.lower() == REFERENCE:
        return lambda: _reference_model(task)
    if key.lower() in BASELINES:
        return lambda: make_baseline(key.lower(), task, pipeline=pipeline)
    if key.lower() == "auto":  # the automatic choice, nested inside every fold
        from spectrakit.training.auto_estimator import AutoEstimator

        return lambda: AutoEstimator(task, pipeline=pipeline, seed=(deep or {}).get("seed", 0))
    cls = DeepRegressor if task == "regression" else DeepClassifier
    options = dict(deep or {})
    extra = {"progress": False, **options.pop("options", {})}  # quiet inside a benchmark
    return lambda: cls(key, pipeline=pipeline, options=extra, **options)


@dataclass
class ModelRun:
    """Results of one model in a benchmark."""

    name: str
    cv: CVResult | None
    test: dict | None
    fit_seconds: float
    metrics_csv: Path | None = None


def _fit_on_all(
    factory, train: Spectra, y: np.ndarray, test: Spectra, y_test: np.ndarray, task: str
) -> tuple[dict, float, Any]:
    model = factory()
    start = time.perf_counter()
    model.fit(train, y)
    seconds = time.perf_counter() - start
    pred, proba = predict_scores(model, test, task)
    classes = getattr(model, "classes_", None)
    scores = score_predictions(task, y_test, pred, proba, classes)
    return {"y_true": y_test, "y_pred": pred, "scores": scores}, seconds, model


def run_benchmark(
    models: Sequence[str],
    train: Spectra,
    target: str,
    *,
    cv: Any = "kfold:5",
    test: Spectra | None = None,
    task: str | None = None,
    pipeline: Any = None,
    deep_options: dict | None = None,
    out: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, list[ModelRun]]:
    """Cross-validate (same folds for all) and test every model; return the leaderboard.

    Parameters
    ----------
    models : sequence of str
        Baseline names (``pls``, ``plsda``, ``svm``, ``rf``, ``ridge``) and/or registered
        deep model names (``cnn1d_tiny``, ``specbert_tiny``, ...).
    train : Spectra
    target : str
        Metadata column to predict.
    cv : str, splitter or None, default="kfold:5"
        ``None`` skips cross-validation (then ``test`` is required).
    test : Spectra, optional
        Independent test set with the same target column.
    task : {"regression", "classification"}, optional
    pipeline : optional
        Preprocessing shared by all models (refitted inside each fold).
    deep_options : dict, optional
        ``max_epochs``, ``batch_size``, ``lr``, ``seed`` for deep models.
    out : path, optional
        Directory for the final deep models' bundles and logs.
    progress : callable, optional
        Called with a one-line message before each model.

    Returns
    -------
    leaderboard : DataFrame
        One row per model, best first.
    runs : list of ModelRun
    """
    if not models:
        raise ConfigError("no models to benchmark", expected="e.g. --models pls,cnn1d_tiny")
    if cv is None and test is None:
        raise ConfigError(
            "nothing to evaluate", expected="--cv or --test", got="neither", fix="pass --cv kfold:5"
        )
    task, y, y_test = _targets(train, test, target, task)
    folds = None if cv is None else PredefinedSplits.from_splitter(get_splitter(cv), train, y)
    if REFERENCE not in [m.strip().lower() for m in models]:
        models = [*models, REFERENCE]
    with _quiet_lightning():
        runs, rows = _run_all(
            models, train, y, test, y_test, task, folds, pipeline, deep_options, out, progress
        )
    return _leaderboard(rows, task, tested=test is not None), runs


def _targets(
    train: Spectra, test: Spectra | None, target: str, task: str | None
) -> tuple[str, np.ndarray, np.ndarray | None]:
    """The task (inferred when not given) and the target values of train and test.

    Regression targets are float64.
    """
    task = infer_task(train, target, task)
    y = np.asarray(resolve_target(train, target))
    y_test = None if test is None else np.asarray(resolve_target(test, target))
    if task == "regression":
        y = y.astype(np.float64)
        y_test = None if y_test is None else y_test.astype(np.float64)
    return task, y, y_test


def _leaderboard(rows: list[dict], task: str, *, tested: bool) -> pd.DataFrame:
    """Rows ranked by the task's primary metric: on the test set when there is one, else CV.

    Ties keep the order of the models; ``attrs`` hold the task, the metric and its sense.
    """
    metric, lower = primary_metric(task)
    board = pd.DataFrame(rows)
    key = f"test_{metric}" if tested else f"cv_{metric}"
    if key not in board.columns:
        raise DataError("no scores were computed", expected=key, got=", ".join(board.columns))
    board = board.sort_values(key, ascending=lower, kind="stable").reset_index(drop=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    board.attrs.update(task=task, metric=key, lower_is_better=lower)
    return board


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Lightning announces devices at INFO level for every fold; keep warnings only."""
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.level, logging.WARNING))
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _run_all(models, train, y, test, y_test, task, folds, pipeline, deep_options, out, progress):
    runs, rows = [], []
    for i, name in enumerate(models, start=1):
        if progress is not None:
            what = " and ".join(
                w
                for w, on in (
                    ("cross-validating", folds is not None),
                    ("testing", test is not None),
                )
                if on
            )
            progress(f"[{i}/{len(models)}] {name}: {what}")
        opts = dict(deep_options or {})
        is_deep = _kind(name) == "deep"
        if is_deep and out is not None:
            opts["out"] = str(Path(out) / "models" / name)
        log.info("benchmark: %s", name)
        res = None
        if folds is not None:
            cv_opts = {k: v for k, v in opts.items() if k != "out"}
            res = cross_validate(
                model_factory(name, task, pipeline=pipeline, deep=cv_opts),
                train,
                y,
                folds,
                task=task,
            )
        test_out, seconds, metrics_csv = None, float("nan"), None
        if test is not None:
            factory = model_factory(name, task, pipeline=pipeline, deep=opts)
            test_out, seconds, _ = _fit_on_all(factory, train, y, test, y_test, task)
            if is_deep and out is not None:
                logs = Path(out) / "models"
                found = sorted(logs.glob(f"{name}*/**/metrics.csv"))
                metrics_csv = found[-1] if found else None
        runs.append(ModelRun(name, res, test_out, seconds, metrics_csv))
        rows.append(_board_row(name, res, test_out, seconds))
    return runs, rows


#: cross-validated scores a leaderboard row carries (with their fold spread).
_CV_KEYS = (
    *("rmse", "mae", "bias", "r2", "rpd"),
    *("accuracy", "balanced_accuracy", "macro_f1", "roc_auc", "ece"),
)


def _board_row(
    name: str, res: CVResult | None, test_out: dict | None, seconds: float
) -> dict[str, Any]:
    """One leaderboard row: cross-validated scores (mean, fold std) and test scores."""
    row: dict[str, Any] = {"model": name, "kind": _kind(name)}
    if res is not None:
        fold_std = res.summary()["fold_std"]
        for k in _CV_KEYS:
            if k in res.scores:
                row[f"cv_{k}"] = res.scores[k]
                if k in fold_std:
                    row[f"cv_{k}_std"] = fold_std[k]
        row["cv_fit_seconds"] = float(res.folds["fit_seconds"].sum())
    if test_out is not None:
        for k, v in test_out["scores"].items():
            if isinstance(v, int | float) and k != "n":
                row[f"test_{k}"] = v
        row["test_fit_seconds"] = seconds
    return row


def _compact(board: pd.DataFrame, task: str) -> pd.DataFrame:
    """The columns a reader compares first; the CSV keeps everything."""
    names = ("rmse", "bias", "r2") if task == "regression" else ("balanced_accuracy", "macro_f1")
    cols = ["rank", "model", "kind"]
    cols += [f"{p}_{n}" for p in ("test", "cv") for n in names if f"{p}_{n}" in board.columns]
    cols += [c for c in ("cv_fit_seconds", "test_fit_seconds") if c in board.columns]
    out = board[cols].copy()
    for n in names:
        std = f"cv_{n}_std"
        if std in board.columns:
            out[f"cv_{n}"] = [
                f"{m:.4g} ± {s:.2g}" for m, s in zip(board[f"cv_{n}"], board[std], strict=True)
            ]
    return out


def write_benchmark(
    out: str | Path,
    board: pd.DataFrame,
    runs: Sequence[ModelRun],
    *,
    train: Spectra,
    target: str,
    pipeline: Any = None,
    title: str = "Benchmark",
) -> dict[str, Path]:
    """Write ``leaderboard.csv``, ``leaderboard.json``, ``report.html`` and ``predictions/``."""
    out = Path(out)
    task, key = board.attrs["task"], board.attrs["metric"]
    with atomic_path(out / "leaderboard.csv") as tmp:
        board.to_csv(tmp, index=False)
    _write_predictions(out / "predictions", runs)
    payload = {
        "task": task,
        "target": target,
        "ranked_by": key,
        "lower_is_better": board.attrs["lower_is_better"],
        "models": json.loads(board.to_json(orient="records")),
    }
    with atomic_path(out / "leaderboard.json") as tmp:
        tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    sections = [_leaderboard_section(board)]
    sections += [Section(f"Model: {run.name}", figures=_run_figures(run, task)) for run in runs]
    report = write_model_report(
        out,
        title=title,
        task=task,
        spectra=train,
        target=np.asarray(resolve_target(train, target)),
        pipeline=pipeline,
        extra_sections=sections,
    )
    return {
        "leaderboard.csv": out / "leaderboard.csv",
        "leaderboard.json": out / "leaderboard.json",
        "report.html": report,
    }


def _write_predictions(folder: Path, runs: Sequence[ModelRun]) -> None:
    """Per-model predictions (``NAME_cv.csv``, ``NAME_test.csv``), for one's own statistics."""
    for run in runs:
        if run.cv is not None:
            with atomic_path(folder / f"{run.name}_cv.csv") as tmp:
                run.cv.predictions.to_csv(tmp, index=False)
        if run.test is not None:
            frame = pd.DataFrame({"y_true": run.test["y_true"], "y_pred": run.test["y_pred"]})
            with atomic_path(folder / f"{run.name}_test.csv") as tmp:
                frame.to_csv(tmp, index=False)


def _leaderboard_section(board: pd.DataFrame) -> Section:
    """The report's leaderboard: the compact score table and the bar chart."""
    key, lower = board.attrs["metric"], board.attrs["lower_is_better"]
    spread = " (error bars: standard deviation over folds)" if key.startswith("cv_") else ""
    return Section(
        "Leaderboard",
        highlight=best_model(board)[1],
        paragraphs=[
            "All models saw exactly the same cross-validation folds and test set; "
            "preprocessing was refitted inside each fold. The reference row "
            f"'{REFERENCE}' predicts the training mean (classification: the class "
            "frequencies); a model worth using beats it clearly."
        ],
        tables=[
            (
                "Main scores (cv_: pooled out-of-fold, ± fold standard deviation; test_: "
                "independent test set). All scores: leaderboard.csv",
                _compact(board, board.attrs["task"]),
            )
        ],
        figures=[
            Figure(
                "leaderboard",
                plots.leaderboard_png(board, key, lower_is_better=lower),
                f"{key} per model{spread}",
            )
        ],
    )


def _run_figures(run: ModelRun, task: str) -> list[Figure]:
    """Predicted-vs-reference figures of one model (test set, else out-of-fold) and curves."""
    figs: list[Figure] = []
    if run.test is not None:
        figs += scored_figures(
            f"{run.name}_test", task, run.test["y_true"], run.test["y_pred"], run.test["scores"]
        )
    elif run.cv is not None:
        preds = run.cv.predictions
        figs += scored_figures(
            f"{run.name}_cv", task, preds["y_true"], preds["y_pred"], run.cv.scores
        )
    if run.metrics_csv is not None:
        png = plots.learning_curves_png(run.metrics_csv)
        if png is not None:
            figs.append(Figure(f"{run.name}_learning_curves", png, "Learning curves"))
    return figs
