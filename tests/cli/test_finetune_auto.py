"""``spectrakit finetune --model auto`` end to end, into ``predict``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spectrakit.cli._app import main
from spectrakit.datasets.nir import make_nir

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_finetune_auto_writes_one_bundle_that_predict_reads(tmp_path, capsys):
    data = make_nir(30, seed=3)["A"]
    csv = tmp_path / "train.csv"
    sk_write(data, csv)
    out = tmp_path / "model"
    args = ["finetune", "--data", str(csv), "--target", "analyte", "--model", "auto"]
    assert main([*args, "--deep", "none", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "chosen: pls[" in printed and "cv_error" in printed
    assert "nir-default" in printed  # every preset that runs is a candidate
    pred_csv = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(out), "--data", str(csv), "--out", str(pred_csv)]) == 0
    table = pd.read_csv(pred_csv)
    y = data.meta["analyte"].to_numpy()
    assert np.corrcoef(table["analyte"], y)[0, 1] > 0.9


def test_finetune_auto_refuses_an_unknown_deep_recipe(tmp_path, capsys):
    data = make_nir(12, seed=3)["A"]
    csv = tmp_path / "train.csv"
    sk_write(data, csv)
    args = ["finetune", "--data", str(csv), "--target", "analyte", "--model", "auto"]
    assert main([*args, "--deep", "transformer", "--out", str(tmp_path / "m")]) == 2
    assert "unknown deep recipe" in capsys.readouterr().err


def sk_write(data, path) -> None:
    from spectrakit.io import write

    write(data, path)
