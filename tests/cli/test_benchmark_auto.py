"""``spectrakit benchmark --models auto``: the automatic choice scored by nested CV."""

from __future__ import annotations

import json

import pytest

from spectrakit.cli._app import main
from spectrakit.datasets.nir import make_nir
from spectrakit.io import write

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_benchmark_ranks_the_automatic_choice_beside_pls(tmp_path, capsys):
    data = make_nir(30, seed=8)["A"]
    write(data, tmp_path / "train.csv")
    args = ["benchmark", "--data", str(tmp_path / "train.csv"), "--target", "analyte"]
    args += ["--models", "pls,auto", "--cv", "kfold:3", "--pipeline", "nir-default"]
    assert main([*args, "--out", str(tmp_path / "bench")]) == 0
    board = {
        r["model"]: r
        for r in json.loads((tmp_path / "bench" / "leaderboard.json").read_text())["models"]
    }
    assert board["auto"]["kind"] == "auto"
    # a real model: far better than predicting the mean, near the PLS it competes with
    assert board["auto"]["cv_r2"] > 0.8
    assert board["auto"]["cv_rmse"] < 1.5 * board["pls"]["cv_rmse"]
