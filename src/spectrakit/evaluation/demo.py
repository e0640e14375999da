"""The demo workflow: the CV-chosen automatic model against CV-tuned PLS, on the same split.

:func:`demo_workflow`

1. seals the HPLC references of the process spectra (:class:`SealedTargets`); models see
   the 21 labelled standards and the unlabeled process spectra only;
2. ranks every candidate by cross-validation on the standards
   (:func:`spectrakit.training.auto.auto_fit`): PLS behind the field's pipeline and every
   preset, with instrument mean-centering and di-PLS on the unlabeled process spectra, and
   the deep recipes adapted to them; the winner is written as one bundle;
3. freezes that choice, then scores once, on the 34 HPLC points: the bundle's predictions,
   CV-tuned PLS (the best PLS pipeline by CV, as the field deploys it) and PLS with
   mean-centering.

:func:`run_demo` loads the data, runs it and writes ``report.html``, ``figures``,
``metrics.json``, ``predictions.csv`` and the bundle (``model/``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.spectra import Spectra
from spectrakit.evaluation.demo_data import (
    FIELD_PIPELINE,
    HALF_WINDOW,
    drop_flat,
    load_demo_data,
    match_reference,
)
from spectrakit.evaluation.protocol import SealedTargets, strip_targets

__all__ = ["DEEP_INPUT", "DemoResult", "demo_workflow", "run_demo"]

#: the networks see the 950-1550 cm-1 region on a 2 cm-1 grid (they stack their own
#: derivative channels)
#: glucose is a concentration: the bound the bundle declares and every scored column obeys
GLUCOSE_MIN = 0.0

DEEP_INPUT = {
    "steps": [{"step": "Resample", "params": {"start": 950.0, "stop": 1549.0, "step": 2.0}}]
}
#: the field's pipeline with a second derivative instead of the first
FIELD_D2 = {
    "steps": [
        {"step": "Resample", "params": {"start": 950.0, "stop": 1499.0, "step": 1.343}},
        {"step": "SavitzkyGolay", "params": {"window": 21, "polyorder": 2, "deriv": 2}},
    ]
}


@dataclass
class DemoResult:
    """Figures of one demo run (test scores computed once, after the choice)."""

    source: str
    chosen: str
    reason: str
    scores: dict[str, dict[str, float]]
    cv_table: pd.DataFrame
    n_standards: int
    n_process: int
    n_hplc: int
    bundle: Path
    predictions: pd.DataFrame
    matched: pd.DataFrame
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: the chosen model's and PLS's RMSEP on the same HPLC points."""
        auto, pls = self.scores["auto"], self.scores["PLS"]
        return (
            f"RMSEP at the {self.n_hplc} HPLC times: auto ({self.chosen}) "
            f"{auto['rmsep']:.2f} g/L (bias {auto['bias']:+.2f}), CV-tuned PLS "
            f"{pls['rmsep']:.2f} g/L (bias {pls['bias']:+.2f})"
        )


def _scores(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    from spectrakit.evaluation.metrics import regression_metrics

    m = regression_metrics(y, pred)
    return {"rmsep": m["rmse"], "bias": m["bias"], "sep": m["sep"], "r2": m["r2"]}


def _pipelines(train: Spectra) -> dict[str, Any]:
    from spectrakit.training.auto import candidate_pipelines

    found = candidate_pipelines(train)
    return {"field": FIELD_PIPELINE, "field-d2": FIELD_D2, **found}


def demo_workflow(
    train: Spectra,
    process: Spectra,
    reference: pd.DataFrame,
    out: str | Path,
    *,
    deep: Sequence[str] = ("pls_net", "cnn"),
    pipelines: dict[str, Any] | None = None,
    seed: int = 0,
    quick: bool = True,
    source: str = "",
) -> DemoResult:
    """Choose by CV on the standards, write the bundle, then score the HPLC points once.

    Parameters
    ----------
    train, process : Spectra
        Labelled standards (``glucose`` in meta); on-line process spectra (``time_min``).
    reference : DataFrame
        HPLC ``time_min`` and ``glucose`` (sealed until scored).
    out : str or Path
        Folder of the bundle (``out/model``).
    deep, pipelines
        Deep recipes among the candidates (empty: chemometrics only); PLS pipelines
        (default: the field's, its second-derivative variant, every preset that runs).
    seed, quick, source
        Seed of folds and networks; shorter network schedules; description of the data.

    Returns
    -------
    DemoResult
    """
    from spectrakit.training.auto import auto_fit
    from spectrakit.training.auto_package import save_auto
    from spectrakit.training.folds import cv_folds

    t0 = time.perf_counter()
    process, test, sealed = _split(process, reference)
    unlabeled = Spectra(process.values, process.axis)
    y = train.meta["glucose"].to_numpy(dtype=np.float64)
    folds = cv_folds(len(y), k=7, seed=seed)
    choice = auto_fit(
        train, y, pipelines=pipelines or _pipelines(train), target=unlabeled, deep=tuple(deep),
        deep_input=DEEP_INPUT, folds=folds, seed=seed, quick=quick,
    )  # fmt: skip
    bundle_dir = Path(out) / "model"
    predictor = save_auto(
        choice, train, y, bundle_dir, targets=["glucose"], target=unlabeled,
        bounds=(GLUCOSE_MIN, None),
    )  # fmt: skip
    pls = min((c for c in choice.candidates if c.name.startswith("pls[")), key=lambda c: c.cv_error)
    auto = predictor.config.training["auto"]
    series = _series(process, predictor, pls)
    smoothed = _smoothed_at(series, test.meta["time_min"].to_numpy(dtype=np.float64))
    scores, at_hplc = _score_once(predictor, pls, test, sealed, auto["chosen"], smoothed)
    return DemoResult(
        source, auto["chosen"], auto["reason"], scores, choice.table(), train.n_spectra,
        process.n_spectra, len(sealed), bundle_dir, series, at_hplc,
        time.perf_counter() - t0, {"pls": pls.name, "pls_lv": pls.info.get("n_lv")},
    )  # fmt: skip


def _series(process: Spectra, predictor: Any, pls: Any) -> pd.DataFrame:
    """The glucose course over the run: the bundle's predictions beside the best PLS's."""
    from spectrakit.predict.bounds import clip_to_bounds

    return pd.DataFrame(
        {
            "time_min": process.meta["time_min"].to_numpy(),
            "glucose_auto": predictor.predict(process)["glucose"].to_numpy(),
            "glucose_pls": clip_to_bounds(pls.predict(process, "source"), lower=GLUCOSE_MIN),
        }
    )


def _smoothed_at(series: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """The auto course smoothed in time, averaged like the test spectra, shape (n_times,).

    The process spectra form a time series, so the prediction course is smoothed by a
    local-level model whose two variances are estimated from the course itself by maximum
    likelihood (:mod:`spectrakit.chemometrics.local_level`); no reference value is read.
    Each HPLC time gets the mean over the same +-``HALF_WINDOW`` spectra as its test spectrum.
    """
    from spectrakit.chemometrics.local_level import smooth_local_level

    course = smooth_local_level(series["glucose_auto"].to_numpy(dtype=np.float64))
    idx = np.abs(series["time_min"].to_numpy()[None, :] - times[:, None]).argmin(axis=1)
    return np.array([course[max(i - HALF_WINDOW, 0) : i + HALF_WINDOW + 1].mean() for i in idx])


def _split(process: Spectra, reference: pd.DataFrame) -> tuple[Spectra, Spectra, SealedTargets]:
    """Measured process spectra, the HPLC-time test spectra and their sealed references."""
    process = drop_flat(process)
    matched = match_reference(process, reference)
    sealed = SealedTargets(matched.meta["glucose"].to_numpy(), name="HPLC glucose")
    return process, strip_targets(matched, ["glucose"]), sealed


def _score_once(predictor, pls, test: Spectra, sealed: SealedTargets, chosen: str, smoothed):
    """Freeze the choice, then score the bundle, its time-smoothed course and PLS at once.

    Every column obeys the declared bound glucose >= ``GLUCOSE_MIN`` (the bundle applies it
    itself), so PLS is compared on the same terms.
    """
    from spectrakit.predict.bounds import clip_to_bounds

    preds = {
        "auto": predictor.predict(test)["glucose"].to_numpy(),
        "auto, smoothed in time": smoothed,
        "PLS": pls.predict(test, "source"),
        "PLS + mean-centering": pls.predict(test, "target"),
    }
    preds = {k: clip_to_bounds(v, lower=GLUCOSE_MIN) for k, v in preds.items()}
    sealed.freeze({"auto": chosen, "pls": pls.name})
    scores = sealed.score(preds, _scores)
    at_hplc = pd.DataFrame({"time_min": test.meta["time_min"], "hplc": sealed.reveal(),
                            **{f"pred_{k}": v for k, v in preds.items()}})  # fmt: skip
    return scores, at_hplc


def run_demo(
    out: str | Path = "demo-output",
    *,
    synthetic: bool = False,
    seed: int = 0,
    quick: bool = True,
    deep: Sequence[str] = ("pls_net",),
) -> DemoResult:
    """Load the fermentation, run :func:`demo_workflow`, write the report and tables."""
    import torch

    from spectrakit.evaluation.demo_report import write_demo_outputs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train, process, ref, source = load_demo_data(synthetic)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the networks are tiny: one thread is fastest, and fair
    try:
        result = demo_workflow(train, process, ref, out, deep=deep, seed=seed, quick=quick,
                               source=source)  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    result.extra["report"] = str(write_demo_outputs(result, out))
    return result
