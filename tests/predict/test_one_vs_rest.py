"""One-vs-rest classifiers: independent sigmoid scores, never renormalised, in both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.cli import main
from spectrakit.evaluation import apply_open_set
from spectrakit.models import create
from spectrakit.predict.core import NONE_COLUMN, decode_outputs_np

CLASSES = ["a", "b", "c"]
OVR = {"task": "classification", "n_targets": 3, "one_vs_rest": True}


def test_decoding_keeps_independent_scores():
    raw = np.array([[2.0, 2.0, 2.0], [-3.0, -4.0, -1.0], [0.0, 3.0, -3.0]])
    out = decode_outputs_np(raw, OVR)
    expected = 1.0 / (1.0 + np.exp(-raw))
    np.testing.assert_allclose(out["proba"], expected, rtol=1e-12)
    assert out["proba"][0].sum() == pytest.approx(3 * expected[0, 0])  # not 1
    assert out["label"].tolist() == [0, 2, 1]
    assert out["none"].tolist() == [False, True, False]
    # per-class thresholds move the "none" decision
    out = decode_outputs_np(raw, {**OVR, "thresholds": [0.95, 0.9, 0.999]})
    assert out["none"].tolist() == [True, True, False]
    # softmax classifiers are unchanged: rows sum to 1 and carry no "none"
    soft = decode_outputs_np(raw, {"task": "classification", "n_targets": 3})
    np.testing.assert_allclose(soft["proba"].sum(axis=1), 1.0)
    assert "none" not in soft


def _bundle(tmp_path):
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 120)
    spectra = sk.Spectra(rng.normal(size=(12, 120)), axis, meta={"kind": ["a", "b", "c"] * 4})
    torch.manual_seed(0)
    model = create("mlp_tiny", input_length=120, n_outputs=3).eval()
    with torch.no_grad():  # the first spectra score low on every class: "none of them"
        model.head.bias.copy_(torch.tensor([-1.0, -2.0, 0.5]))
    bundle = save(
        tmp_path / "ovr",
        model=model,
        task="classification",
        axis=spectra.axis,
        targets=["kind"],
        classes=CLASSES,
        output=OVR,
    )
    return bundle, spectra


def test_predictor_and_onnx_agree_on_unnormalised_scores(tmp_path):
    pytest.importorskip("onnxruntime")
    from spectrakit.export import load_onnx
    from spectrakit.export.onnx import export_onnx

    bundle, spectra = _bundle(tmp_path)
    torch_pred = sk.load(bundle).predict(spectra)
    cols = [f"proba_{c}" for c in CLASSES]
    sums = torch_pred[cols].sum(axis=1).to_numpy()
    assert not np.allclose(sums, 1.0)  # independent sigmoids
    raw = sk.load(bundle).raw_outputs(spectra).numpy()
    np.testing.assert_allclose(torch_pred[cols], 1 / (1 + np.exp(-raw)), rtol=1e-5)
    none = torch_pred[NONE_COLUMN].to_numpy()
    assert none.tolist() == (torch_pred[cols].max(axis=1) < 0.5).tolist()
    export_onnx(bundle, batch_sizes=(1, 4))
    onnx_pred = load_onnx(bundle).predict(spectra)
    np.testing.assert_allclose(onnx_pred[cols], torch_pred[cols], rtol=1e-4, atol=1e-6)
    assert onnx_pred[NONE_COLUMN].tolist() == none.tolist()


def test_open_set_names_none_of_the_classes_unknown(tmp_path):
    frame = pd.DataFrame({"predicted": ["a", "b", "c"], NONE_COLUMN: [False, True, False]})
    assert apply_open_set(frame)["predicted"].tolist() == ["a", "unknown", "c"]
    frame["is_ood"] = [True, False, False]
    assert apply_open_set(frame)["predicted"].tolist() == ["unknown", "unknown", "c"]
    bundle, spectra = _bundle(tmp_path)
    sk.write(spectra, tmp_path / "s.csv")
    out = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(bundle), "--data", str(tmp_path / "s.csv"),
                 "--open-set", "--out", str(out)]) == 0  # fmt: skip
    table = pd.read_csv(out)
    none = table[NONE_COLUMN].to_numpy(dtype=bool)
    assert none.any() and (~none).any()  # both outcomes occur on this model
    assert (table.loc[none, "predicted"] == "unknown").all()
    assert (table.loc[~none, "predicted"] != "unknown").all()
