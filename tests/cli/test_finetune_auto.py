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


def test_finetune_auto_with_unlabeled_or_standards_predicts_the_new_instrument(tmp_path, capsys):
    from spectrakit.datasets.nir import nir_instrument_pair

    master, slave = nir_instrument_pair()
    data = make_nir(130, instruments=(master, slave), seed=6)
    a = data["A"].crop(1104.0, 2492.0)
    b = data["B"].resample(a.axis.values)
    files = {
        "train": a.select(np.arange(30)), "unlabeled": b.select(np.arange(30, 90)),
        "master": a.select(np.arange(90, 100)), "slave": b.select(np.arange(90, 100)),
        "test": b.select(np.arange(100, 130)),
    }  # fmt: skip
    for name, spectra in files.items():
        sk_write(spectra, tmp_path / f"{name}.csv")
    base = ["finetune", "--data", str(tmp_path / "train.csv"), "--target", "analyte"]
    base += ["--model", "auto", "--deep", "none", "--pipeline", "nir-default"]
    runs = {
        "unlabeled": ["--unlabeled", str(tmp_path / "unlabeled.csv")],
        "standards": ["--master", str(tmp_path / "master.csv"),
                      "--slave", str(tmp_path / "slave.csv")],
    }  # fmt: skip
    y = files["test"].meta["analyte"].to_numpy()
    for name, extra in runs.items():
        out = tmp_path / name
        assert main([*base, *extra, "--out", str(out)]) == 0, name
        assert "chosen:" in capsys.readouterr().out
        csv = tmp_path / f"pred-{name}.csv"
        argv = ["predict", "--model", str(out), "--data", str(tmp_path / "test.csv")]
        assert main([*argv, "--out", str(csv)]) == 0
        assert np.corrcoef(pd.read_csv(csv)["analyte"], y)[0, 1] > 0.8, name
    # the adaptation options belong to --model auto
    assert (
        main([*base[:-6], "--model", "pls", *runs["unlabeled"], "--out", str(tmp_path / "x")]) == 2
    )
    assert "--model auto" in capsys.readouterr().err
