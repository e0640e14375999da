"""pretrain -> finetune -> predict -> evaluate through the command line on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from spectrakit import Spectra, write
from spectrakit.cli import main

FAST = ["--no-progress", "--threads", "1", "--patience", "0"]


pytestmark = pytest.mark.usefixtures("restore_torch_threads")


def _table(path, n: int, seed: int, lo: float = 400.0, hi: float = 1800.0, p: int = 136) -> Spectra:
    rng = np.random.default_rng(seed)
    axis = np.linspace(lo, hi, p)
    c = rng.uniform(0, 1, n)
    values = c[:, None] * np.exp(-0.5 * ((axis - 1000.0) / 40.0) ** 2) + 0.2
    values = values + rng.normal(0, 0.01, (n, p))
    spectra = Spectra(values, axis, meta={"sample": [f"s{i}" for i in range(n)], "conc": c})
    write(spectra, path)
    return spectra


def test_pretrain_finetune_predict_evaluate(tmp_path):
    _table(tmp_path / "unlabeled.csv", 80, 0)
    _table(tmp_path / "train.csv", 40, 1)
    _table(tmp_path / "test.csv", 10, 2)
    enc, model = tmp_path / "encoder", tmp_path / "model"

    assert main(["pretrain", "--data", str(tmp_path / "unlabeled.csv"), "--model",
                 "specbert_tiny", "--out", str(enc), "--epochs", "1", "--batch-size", "32",
                 *FAST]) == 0  # fmt: skip
    assert json.loads((enc / "config.json").read_text())["task"] == "pretrained"

    config = tmp_path / "finetune.yaml"
    config.write_text("epochs: 2\nbatch-size: 8\nfreeze: all-but-last-1\nmodel: ignored\n")
    assert main(["finetune", "--data", str(tmp_path / "train.csv"), "--target", "conc",
                 "--init", str(enc), "--out", str(model), "--config", str(config),
                 "--epochs", "3", *FAST]) == 0  # fmt: skip
    cfg = json.loads((model / "config.json").read_text())
    assert cfg["model"]["name"] == "specbert_tiny" and cfg["task"] == "regression"
    assert cfg["training"]["options"]["freeze"] == "all-but-last-1"  # from the config file
    assert cfg["training"]["epochs"] >= 2  # --epochs 3 on the command line wins over 2

    preds = tmp_path / "preds.csv"
    assert main(["predict", "--model", str(model), "--data", str(tmp_path / "test.csv"),
                 "--out", str(preds)]) == 0  # fmt: skip
    table = pd.read_csv(preds)
    assert list(table.columns) == ["sample", "conc_reference", "conc", "ood_score", "is_ood"]
    assert len(table) == 10 and table["conc"].notna().all()

    metrics_path = tmp_path / "metrics.json"
    assert main(["evaluate", "--model", str(model), "--data", str(tmp_path / "test.csv"),
                 "--target", "conc", "--out", str(metrics_path),
                 "--plots", str(tmp_path / "plots")]) == 0  # fmt: skip
    metrics = json.loads(metrics_path.read_text())
    assert metrics["conc"]["n"] == 10 and np.isfinite(metrics["conc"]["rmse"])
    assert (tmp_path / "plots" / "parity_conc.png").read_bytes()[:4] == b"\x89PNG"


def test_classification_from_scratch_and_axis_refusal(tmp_path, capsys):
    spectra = _table(tmp_path / "train.csv", 40, 3)
    labels = np.where(spectra.meta["conc"] > 0.5, "high", "low")
    write(spectra.assign(level=labels), tmp_path / "train.csv")
    model = tmp_path / "clf"
    assert main(["finetune", "--data", str(tmp_path / "train.csv"), "--target", "level",
                 "--model", "mlp_tiny", "--out", str(model), "--epochs", "2",
                 *FAST]) == 0  # fmt: skip
    assert json.loads((model / "config.json").read_text())["classes"] == ["high", "low"]
    capsys.readouterr()  # two epochs: finetune may note a weak fit on stderr

    _table(tmp_path / "narrow.csv", 5, 4, lo=900.0, hi=1200.0)
    code = main(["predict", "--model", str(model), "--data", str(tmp_path / "narrow.csv")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "do not cover the model's axis range" in err[0]


def test_unknown_config_key_is_one_clear_error(tmp_path, capsys):
    _table(tmp_path / "train.csv", 20, 5)
    bad = tmp_path / "bad.yaml"
    bad.write_text("epochz: 3\n")
    code = main(["finetune", "--data", str(tmp_path / "train.csv"), "--target", "conc",
                 "--out", str(tmp_path / "m"), "--config", str(bad)])  # fmt: skip
    assert code == 2
    assert "unknown option 'epochz'" in capsys.readouterr().err
