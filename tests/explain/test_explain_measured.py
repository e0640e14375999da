"""Explanations of a model on separately measured channels: one attribution per channel."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

import spectrakit
from conftest import make_measured_bundle
from spectrakit.cli import main
from spectrakit.core.errors import DataError
from spectrakit.datasets.measured_channels import make_deciding_channel
from spectrakit.explain import explain
from spectrakit.io import write_channels
from spectrakit.training import fit_supervised

pytestmark = pytest.mark.usefixtures("one_torch_thread", "restore_torch_threads")
FIT = {"model": "cnn1d_tiny", "task": "classification", "max_epochs": 12, "lr": 1e-2,
       "batch_size": 16, "ood": "none", "progress": False, "seed": 0, "patience": 0}  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    train = make_deciding_channel(n=48, n_points=64, seed=1)
    out = tmp_path_factory.mktemp("m") / "model"
    return fit_supervised(train, "label", out=out, **FIT), make_deciding_channel(n=16, seed=2)


def test_saliency_per_channel_equals_the_input_gradient_on_each_axis(tmp_path):
    bundle, data = make_measured_bundle(tmp_path / "b", [None, {"steps": ["SNV"]}])
    predictor = spectrakit.load(bundle)
    attr = explain(predictor, data, method="saliency", absolute=False)
    x = torch.as_tensor(predictor.prepare(data)).requires_grad_(True)
    predictor.model.eval()(x)[:, 0].sum().backward()
    grad = x.grad.numpy().reshape(len(data), 2, 2, -1).sum(axis=2)  # channel-major, P = 2
    assert attr.names == ["ex277", "ex380"]
    for c, name in enumerate(attr.names):
        np.testing.assert_allclose(attr[name].values, grad[:, c], rtol=1e-4, atol=1e-6)
        assert attr[name].axis == predictor.preprocessor.channel_axes_[c]
    assert attr["ex277"].axis.max <= 400.0 < attr["ex380"].axis.min


@pytest.mark.parametrize("method", ["ig", "occlusion"])
def test_the_deciding_channel_and_peak_carry_the_attribution(trained, method):
    predictor, test = trained
    attr = explain(predictor, test, method=method, target="b")
    first, second = (float(np.abs(attr[n].values).mean()) for n in attr.names)
    assert second > 1.5 * first  # the class lives in channel 2 only
    top = attr.top_bands(1)
    assert top["channel"].iloc[0] == "ex380"
    assert abs(top["position"].iloc[0] - 490.0) < 8.0  # the deciding peak
    assert attr.top_bands(3)["share"].sum() <= 1.0 + 1e-6


def test_a_one_spectrum_model_refuses_a_channel_set(tiny_bundle, trained):
    with pytest.raises(DataError, match="one spectrum per sample"):
        explain(spectrakit.load(tiny_bundle), trained[1], method="saliency")


def test_cli_explain_and_evaluate_take_channel_files(trained, tmp_path, capsys):
    predictor, test = trained
    files = write_channels(test, tmp_path, "test_")
    out = tmp_path / "explain"
    argv = ["explain", "--model", str(predictor.bundle_dir), "--channel-files", files,
            "--method", "ig", "--target", "b", "--max-plots", "2", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    info = json.loads((out / "explain.json").read_text())
    assert list(info["channels"]) == ["ex277", "ex380"]
    assert info["top_bands"][0]["channel"] == "ex380"
    for name, lo, hi in (("ex277", 300.0, 400.0), ("ex380", 420.0, 560.0)):
        folder = out / info["channels"][name]["folder"]
        table = pd.read_csv(folder / "attributions.csv")
        positions = [float(c) for c in table.columns if c.replace(".", "").isdigit()]
        assert min(positions) == pytest.approx(lo) and max(positions) == pytest.approx(hi)
        assert (folder / "summary.png").stat().st_size > 1000
        assert (folder / "spectrum_0001.png").is_file()
    assert set(pd.read_csv(out / "top_bands.csv")["channel"]) == {"ex277", "ex380"}
    metrics, sheet = tmp_path / "metrics.json", tmp_path / "sheet"
    argv = [
        "evaluate",
        "--model",
        str(predictor.bundle_dir),
        "--channel-files",
        files,
        "--out",
        str(metrics),
        "--plots",
        str(tmp_path / "plots"),
        "--sheet",
        str(sheet),
    ]
    assert main(argv) == 0, capsys.readouterr().err
    m = json.loads(metrics.read_text())
    expected = (predictor.predict(test)["predicted"] == test.meta["label"]).mean()
    assert m["n"] == 16 and m["label"]["accuracy"] == pytest.approx(expected)
    assert (sheet / "result_sheet.html").is_file()
    assert (tmp_path / "plots" / "confusion_matrix.png").is_file()
