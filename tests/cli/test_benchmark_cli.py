"""``spectrakit benchmark`` ranks PLS and tiny deep models on the fermentation set."""

import json
import re

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.cli._app import main

pytest.importorskip("chemotools", reason="the fermentation data ship with chemotools")
pytest.importorskip("lightning", reason="deep models need lightning")
from spectrakit.datasets import load_fermentation, load_fermentation_reference

PIPELINE_YAML = """\
steps:
  - {name: range_cut, step: Crop, params: {low: 950, high: 1500}}
  - {name: uniform_grid, step: Resample, params: {start: 950, stop: 1499, step: 1.343}}
  - {name: linear, step: LinearCorrection, params: {}}
  - {name: derivative, step: SavitzkyGolay, params: {window: 15, polyorder: 2, deriv: 1}}
  - {name: center, step: MeanCenter, params: {}}
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("fermentation")
    online = load_fermentation("test")
    ref = load_fermentation_reference()
    idx = np.rint(ref["time_min"].to_numpy() / 1.25).astype(int)
    avg = np.stack([online.values[max(0, i - 5) : i + 6].mean(axis=0) for i in idx])
    test = sk.Spectra(avg, online.axis, meta={"glucose": ref["glucose"].to_numpy()})
    sk.write(test, d / "test.csv")
    (d / "pipeline.yaml").write_text(PIPELINE_YAML)
    return d


@pytest.mark.slow
def test_benchmark_ranks_pls_and_deep_models(files, capsys):
    out = files / "bench"
    code = main(
        [
            "benchmark",
            "--data", "builtin:fermentation-train",
            "--target", "glucose",
            "--test", str(files / "test.csv"),
            "--cv", "none",
            "--models", "pls,cnn1d_tiny,mlp_tiny",
            "--pipeline", str(files / "pipeline.yaml"),
            "--epochs", "3",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board["model"]) == {"pls", "cnn1d_tiny", "mlp_tiny", "mean"}
    assert list(board["rank"]) == [1, 2, 3, 4]
    assert board["test_rmse"].is_monotonic_increasing
    # a calibrated PLS beats deep models trained 3 epochs on 21 spectra
    assert board["model"].iloc[0] == "pls"
    # the published pipeline: RMSEP about 5.4 g/L on the 34 HPLC times
    assert 4.8 < board["test_rmse"].iloc[0] < 6.2
    data = json.loads((out / "leaderboard.json").read_text())
    assert data["ranked_by"] == "test_rmse" and data["lower_is_better"] is True
    assert [m["model"] for m in data["models"]] == list(board["model"])
    html = (out / "report.html").read_text()
    assert not re.search(r"https?://", html)
    assert html.count("data:image/png;base64,") >= 4
    assert "pls" in capsys.readouterr().out


@pytest.mark.slow
def test_deep_adapter_cross_validates_like_any_estimator():
    from spectrakit.evaluation import DeepRegressor, cross_validate

    train = load_fermentation("train")
    res = cross_validate(
        lambda: DeepRegressor("mlp_tiny", max_epochs=2, options={"progress": False}),
        train,
        "glucose",
        "kfold:3",
    )
    assert len(res.folds) == 3
    assert sorted(res.predictions["index"]) == list(range(train.n_spectra))
    assert np.isfinite(res.scores["rmse"])


def test_benchmark_rejects_bad_input(files, capsys):
    code = main(
        [
            "benchmark",
            "--data",
            "builtin:fermentation-train",
            "--target",
            "glucose",
            "--models",
            "pls",
            "--cv",
            "bogus:3",
            "--out",
            str(files / "x"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown cross-validation scheme" in err[0]
    code = main(
        [
            "benchmark",
            "--data",
            "builtin:fermentation-train",
            "--target",
            "glucose",
            "--models",
            "pls",
            "--cv",
            "none",
            "--out",
            str(files / "x"),
        ]
    )
    assert code == 2
    assert "nothing to evaluate" in capsys.readouterr().err


def test_benchmark_classification_on_coffee(tmp_path):
    out = tmp_path / "coffee"
    code = main(
        [
            "benchmark",
            "--data",
            "builtin:coffee",
            "--target",
            "origin",
            "--models",
            "plsda,rf",
            "--cv",
            "stratified:3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    board = pd.read_csv(out / "leaderboard.csv")
    assert list(board["rank"]) == [1, 2, 3]
    assert board["cv_balanced_accuracy"].is_monotonic_decreasing  # higher is better
    models = board[board["kind"] != "reference"]
    assert (models["cv_balanced_accuracy"] > 0.8).all()  # three origins, clearly separable
    ref = board[board["kind"] == "reference"]
    assert ref["cv_balanced_accuracy"].iloc[0] == pytest.approx(1 / 3, abs=0.05)
    assert {"cv_roc_auc", "cv_ece", "cv_macro_f1"} <= set(board.columns)
    assert (out / "figures" / "plsda_cv_confusion.png").exists()
    oof = pd.read_csv(out / "predictions" / "rf_cv.csv")
    assert sorted(oof["index"]) == list(range(len(oof)))  # every spectrum predicted once
