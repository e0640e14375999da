"""The demo's workflow as a library function, on a reduced synthetic fermentation."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.evaluation.demo import demo_workflow
from spectrakit.evaluation.demo_data import FIELD_PIPELINE, match_reference, synthetic_fermentation
from spectrakit.evaluation.demo_report import write_demo_outputs
from spectrakit.evaluation.protocol import SealedTargets

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    train, process, ref = synthetic_fermentation(n_process=240)
    values = process.values.copy()
    values[-2:] = 1.0  # constant placeholder rows, as in the real set
    process = sk.Spectra(values, process.axis, meta=process.meta)
    events: list[str] = []
    real_fit, real_freeze = demo_mod_auto_fit(), SealedTargets.freeze

    def fit(*args, **kwargs):
        events.append("fit")
        return real_fit(*args, **kwargs)

    def freeze(self, choices):
        events.append("freeze")
        return real_freeze(self, choices)

    mp = pytest.MonkeyPatch()
    mp.setattr("spectrakit.training.auto.auto_fit", fit)
    mp.setattr(SealedTargets, "freeze", freeze)
    try:
        result = demo_workflow(train, process, ref, out, deep=(), seed=0,
                               pipelines={"field": FIELD_PIPELINE}, source="synthetic")  # fmt: skip
    finally:
        mp.undo()
    return result, events, (train, process, ref), out


def demo_mod_auto_fit():
    from spectrakit.training.auto import auto_fit

    return auto_fit


def test_choice_is_made_before_the_test_set_is_opened(run):
    result, events, _, _ = run
    assert events == ["fit", "freeze"]
    cv = result.cv_table.set_index("candidate")["cv_error"]
    pls_cv = cv[[n for n in cv.index if n.startswith("pls[")]].min()
    assert cv[result.chosen] <= pls_cv  # never worse than CV-tuned PLS on CV


def test_scores_are_those_of_the_written_bundle_on_the_same_points(run):
    """Synthetic concentration shift between standards and process (+12 g/L)."""
    result, _, (_, process, ref), _ = run
    assert result.n_process == 238  # the two constant rows are dropped
    assert set(result.scores) == {"auto", "auto, smoothed in time", "PLS", "PLS + mean-centering"}
    matched = match_reference(process.select(np.arange(238)), ref)
    pred = sk.load(result.bundle).predict(matched)["glucose"].to_numpy()
    y = matched.meta["glucose"].to_numpy()
    assert result.scores["auto"]["rmsep"] == pytest.approx(np.sqrt(np.mean((pred - y) ** 2)))
    assert result.n_hplc == len(ref) == len(result.matched)
    assert result.scores["auto"]["rmsep"] < 0.5 * np.std(y)  # a real model, not the mean
    # the process runs richer than the standards' mean: the transfer keeps that shift
    assert abs(result.scores["auto"]["bias"]) < 2.0
    assert abs(result.scores["PLS + mean-centering"]["bias"]) < 2.0
    assert f"{result.scores['auto']['rmsep']:.2f}" in result.summary()


def test_outputs_are_written(run):
    result, _, _, out = run
    report = write_demo_outputs(result, out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["scores"]["PLS"]["rmsep"] == pytest.approx(result.scores["PLS"]["rmsep"])
    assert metrics["chosen"] == result.chosen and result.chosen in report.read_text()
    assert (out / "predictions.csv").is_file()


def test_the_glucose_course_is_the_bundles_prediction_of_every_measured_spectrum(run):
    from spectrakit.evaluation.demo_data import drop_flat

    result, _, (_, process, _), _ = run
    measured = drop_flat(process)
    series = result.predictions
    assert list(series.columns) == ["time_min", "glucose_auto", "glucose_pls"]
    assert len(series) == result.n_process == measured.n_spectra
    np.testing.assert_array_equal(series["time_min"], measured.meta["time_min"])
    pred = sk.load(result.bundle).predict(measured)["glucose"].to_numpy()
    np.testing.assert_allclose(series["glucose_auto"], pred, rtol=1e-6)
    assert np.isfinite(series["glucose_pls"]).all()


def test_the_smoothed_column_is_the_local_level_course_averaged_at_each_hplc_time(run):
    """Known answer: the ML local-level smoother of the written course, +-5 spectra."""
    from spectrakit.chemometrics.local_level import smooth_local_level

    result, _, _, _ = run
    course = smooth_local_level(result.predictions["glucose_auto"].to_numpy())
    times = result.predictions["time_min"].to_numpy()
    idx = [int(np.abs(times - t).argmin()) for t in result.matched["time_min"]]
    want = np.array([course[max(i - 5, 0) : i + 6].mean() for i in idx])
    got = result.matched["pred_auto, smoothed in time"].to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    y = result.matched["hplc"].to_numpy()
    err = np.sqrt(np.mean((want - y) ** 2))
    assert result.scores["auto, smoothed in time"]["rmsep"] == pytest.approx(err)


def test_the_bundle_declares_glucose_non_negative_and_every_column_obeys_it(run):
    result, _, _, _ = run
    assert sk.load(result.bundle).config.output["target_min"] == [0.0]
    assert (result.predictions[["glucose_auto", "glucose_pls"]].to_numpy() >= 0.0).all()
    preds = result.matched[[c for c in result.matched.columns if c.startswith("pred_")]]
    assert preds.shape[1] == 4 and (preds.to_numpy() >= 0.0).all()
