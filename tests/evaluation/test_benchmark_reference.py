"""Benchmarks carry a predict-the-mean reference row and never crown a model with R2 < 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.cli._app import main
from spectrakit.core.errors import DataError
from spectrakit.evaluation.benchmark import best_model, run_benchmark


def _noise(n: int = 40, seed: int = 0) -> sk.Spectra:
    rng = np.random.default_rng(seed)
    return sk.Spectra(rng.normal(size=(n, 60)), np.linspace(1000.0, 1600.0, 60),
                      meta={"y": rng.normal(size=n)})  # fmt: skip


def test_reference_row_scores_as_the_training_mean():
    s = _noise()
    board, _ = run_benchmark(["ridge"], s, "y", cv="kfold:5")
    ref = board[board["model"] == "mean"]
    assert ref["kind"].iloc[0] == "reference"
    # out-of-fold mean predictions: R2 slightly below 0 by construction
    assert -0.3 < ref["cv_r2"].iloc[0] <= 0.0


def test_no_model_is_best_when_r2_is_below_zero(tmp_path, capsys):
    sk.write(_noise(), tmp_path / "noise.csv")
    args = ["benchmark", "--data", str(tmp_path / "noise.csv"), "--target", "y"]
    args += ["--models", "ridge,pls", "--cv", "kfold:5", "--out", str(tmp_path / "b")]
    assert main(args) == 0
    board = pd.read_csv(tmp_path / "b" / "leaderboard.csv")
    assert "mean" in set(board["model"])
    assert (board.loc[board["kind"] != "reference", "cv_r2"] < 0).all()
    out = capsys.readouterr().out
    html = (tmp_path / "b" / "report.html").read_text()
    assert "Best:" not in out and "Best:" not in html
    assert "No model" in out and "No model" in html


def test_best_model_on_a_learnable_target():
    rng = np.random.default_rng(1)
    axis = np.linspace(1000.0, 1600.0, 60)
    c = rng.uniform(0, 1, 50)
    s = sk.Spectra(c[:, None] * np.exp(-0.5 * ((axis - 1300) / 20) ** 2)
                   + rng.normal(0, 0.01, (50, 60)), axis, meta={"y": c})  # fmt: skip
    board, _ = run_benchmark(["pls"], s, "y", cv="kfold:5")
    name, sentence = best_model(board)
    assert name == "pls" and sentence.startswith("Best: pls")
    assert board["model"].iloc[-1] == "mean"


# The named steps of run_benchmark: the targets, the ranked leaderboard.
def test_leaderboard_ranks_by_the_primary_metric_test_before_cv_ties_stable():
    from spectrakit.evaluation.benchmark import _leaderboard

    rows = [
        {"model": "a", "cv_rmse": 2.0, "test_rmse": 1.0},
        {"model": "b", "cv_rmse": 1.0, "test_rmse": 3.0},
        {"model": "c", "cv_rmse": 1.0, "test_rmse": 1.0},
    ]
    tested = _leaderboard(rows, "regression", tested=True)
    assert tested["model"].tolist() == ["a", "c", "b"] and tested["rank"].tolist() == [1, 2, 3]
    assert tested.attrs == {"task": "regression", "metric": "test_rmse", "lower_is_better": True}
    assert _leaderboard(rows, "regression", tested=False)["model"].tolist() == ["b", "c", "a"]
    cls = [{"model": "a", "cv_balanced_accuracy": 0.5}, {"model": "b", "cv_balanced_accuracy": 0.9}]
    board = _leaderboard(cls, "classification", tested=False)
    assert board["model"].tolist() == ["b", "a"] and board.attrs["lower_is_better"] is False
    with pytest.raises(DataError, match="no scores were computed"):
        _leaderboard(rows, "classification", tested=True)


def test_regression_targets_are_float64_and_the_task_is_inferred():
    from spectrakit.evaluation.benchmark import _targets

    rng = np.random.default_rng(0)
    s = sk.Spectra(rng.normal(size=(6, 5)), np.arange(5.0), meta={"c": [1, 2, 3, 4, 5, 6]})
    task, y, y_test = _targets(s, s[:2], "c", "regression")
    assert task == "regression" and y.dtype == np.float64 and y_test.tolist() == [1.0, 2.0]
    labelled = sk.Spectra(s.values, s.axis, meta={"c": list("ababab")})
    task, y, y_test = _targets(labelled, None, "c", None)
    assert task == "classification" and y.tolist() == list("ababab") and y_test is None
