"""Chemometric models ship as bundles: finetune/baseline --save, predict, evaluate, serve,
registry and an exact ONNX graph, on the real fermentation set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.chemometrics import make_baseline
from spectrakit.cli._app import main
from spectrakit.core.errors import ModelError
from spectrakit.training.chemometric import save_chemometric

pytest.importorskip("chemotools", reason="the fermentation data ship with chemotools")
from test_fermentation_pls import published_pipeline

from _serve_util import free_port
from spectrakit.datasets import load_fermentation


@pytest.fixture(scope="module")
def pls_bundle(tmp_path_factory):
    d = tmp_path_factory.mktemp("pls")
    (d / "pipe.json").write_text(json.dumps(published_pipeline().to_config()))
    args = ["finetune", "--data", "builtin:fermentation-train", "--target", "glucose"]
    args += ["--model", "pls", "--pipeline", str(d / "pipe.json"), "--out", str(d / "b")]
    assert main(args) == 0
    return d / "b"


def test_finetune_pls_writes_a_bundle_without_pickle(pls_bundle):
    files = sorted(p.name for p in pls_bundle.iterdir())
    assert {"config.json", "model.safetensors", "card.md", "ood.json"} <= set(files)
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib", ".pt"))]
    config = json.loads((pls_bundle / "config.json").read_text())
    assert config["model"]["name"] == "chemometric_linear"
    assert config["targets"] == ["glucose"]
    assert config["preprocessing"][0]["steps"][0]["step"] == "Crop"
    assert config["metrics"]["cv_r2"] > 0.95 and config["metrics"]["ood"] == "t2q"
    assert json.loads((pls_bundle / "ood.json").read_text())["type"] == "t2q"


def test_bundle_predicts_what_the_fitted_pls_predicts(pls_bundle):
    train, online = load_fermentation("train"), load_fermentation("test")
    model = make_baseline("pls", pipeline=published_pipeline()).fit(train, "glucose")
    pred = sk.load(pls_bundle).predict(online)
    assert list(pred.columns) == ["glucose", "ood_score", "is_ood"]
    np.testing.assert_allclose(pred["glucose"], model.predict(online), atol=1e-4)


def test_onnx_graph_of_pls_is_exact(pls_bundle, tmp_path, capsys):
    from spectrakit.predict.runtime import load_onnx

    out = tmp_path / "glucose.onnx"
    assert main(["export", "--model", str(pls_bundle), "--format", "onnx", "--out", str(out)]) == 0
    assert out.read_bytes() == (pls_bundle / "model.onnx").read_bytes()
    assert f"copied the graph to {out}; the graph takes" in capsys.readouterr().out
    online = load_fermentation("test")
    ref = sk.load(pls_bundle).predict(online)
    got = load_onnx(pls_bundle).predict(online)
    err = np.abs(got["glucose"].to_numpy() - ref["glucose"].to_numpy()).max()
    print(f"ONNX vs Python PLS on {online.n_spectra} fermentation spectra: max |diff| {err:.2e}")
    assert err <= 1e-5
    np.testing.assert_allclose(got["ood_score"], ref["ood_score"], rtol=1e-5)
    assert (got["is_ood"] == ref["is_ood"]).all()


def test_predict_evaluate_and_registry_cli(pls_bundle, tmp_path, capsys):
    sk.write(load_fermentation("train"), tmp_path / "train.csv")
    assert main(["predict", "--model", str(pls_bundle), "--data", str(tmp_path / "train.csv"),
                 "--out", str(tmp_path / "p.csv")]) == 0  # fmt: skip
    frame = pd.read_csv(tmp_path / "p.csv")
    assert {"glucose", "ood_score", "is_ood"} <= set(frame.columns)
    assert main(["evaluate", "--model", str(pls_bundle), "--data", str(tmp_path / "train.csv"),
                 "--target", "glucose", "--out", str(tmp_path / "m.json")]) == 0  # fmt: skip
    assert json.loads((tmp_path / "m.json").read_text())["glucose"]["r2"] > 0.95
    assert "spectra: glucose RMSE " in capsys.readouterr().err
    root = ["registry", "--root", str(tmp_path / "reg")]
    assert main([*root, "push", str(pls_bundle), "--name", "glucose-pls"]) == 0
    assert main([*root, "pull", "glucose-pls", "--dest", str(tmp_path / "pulled")]) == 0
    pulled = sk.load(tmp_path / "pulled").predict(load_fermentation("train"))
    np.testing.assert_allclose(pulled["glucose"], frame["glucose"], rtol=1e-6)


def test_spectrakit_serve_answers_predict_on_loopback(pls_bundle):
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    port = free_port()
    cmd = [sys.executable, "-m", "spectrakit", "serve", "--model", str(pls_bundle)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.time() + 60
            while True:
                assert proc.poll() is None, proc.stderr.read().decode()[-500:]
                assert time.time() < deadline, "the server did not start"
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            train = load_fermentation("train").select([0, 5])
            body = {"axis": train.axis.values.tolist(), "spectra": train.values.tolist()}
            resp = client.post("/predict", json=body)
        assert resp.status_code == 200, resp.text
        rows = resp.json()["predictions"]
        local = sk.load(pls_bundle).predict(train)
        assert [r["glucose"] for r in rows] == pytest.approx(local["glucose"].tolist(), rel=1e-6)
        assert all("ood_score" in r and "is_ood" in r for r in rows)
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.parametrize(
    ("name", "task"),
    [("plsda", "classification"), ("ridge", "regression"), ("ridge", "classification"),
     ("svm", "regression"), ("rf", "regression"), ("rf", "classification")],
)  # fmt: skip
def test_every_chemometric_model_round_trips(name, task, tmp_path):
    rng = np.random.default_rng(0)
    axis = np.linspace(1000.0, 1400.0, 80)
    conc = rng.uniform(0, 1, 60)
    band = np.exp(-0.5 * ((axis - 1200.0) / 15.0) ** 2)
    s = sk.Spectra(conc[:, None] * band + rng.normal(0, 0.01, (60, 80)), axis)
    y = conc if task == "regression" else np.where(conc > 0.5, "high", "low")
    params = {"n_estimators": 20} if name == "rf" else {}
    est = make_baseline(name, task, pipeline={"steps": ["SNV"]}, **params).fit(s, y)
    pred = save_chemometric(est, s, y, tmp_path / "b", task=task, targets=["y"]).predict(s)
    assert {"ood_score", "is_ood"} <= set(pred.columns)
    from spectrakit.export.onnx import export_onnx
    from spectrakit.predict.runtime import load_onnx

    export_onnx(tmp_path / "b")
    onnx = load_onnx(tmp_path / "b").predict(s)
    numeric = [c for c in pred.columns if pred[c].dtype.kind == "f"]
    np.testing.assert_allclose(onnx[numeric], pred[numeric], rtol=1e-5, atol=1e-6)
    if task == "regression":
        np.testing.assert_allclose(pred["y"], est.predict(s), rtol=1e-5, atol=1e-5)
    else:
        assert (pred["predicted"].to_numpy() == est.predict(s)).all()
        proba = pred[[f"proba_{c}" for c in est.classes_]].to_numpy()
        np.testing.assert_allclose(proba, est.predict_proba(s), atol=1e-5)


def test_svm_classifier_is_refused_with_the_reason(tmp_path):
    rng = np.random.default_rng(0)
    s = sk.Spectra(rng.normal(size=(30, 20)), np.arange(20.0) + 100)
    y = np.array(["a", "b"] * 15)
    est = make_baseline("svm", "classification").fit(s, y)
    with pytest.raises(ModelError, match="Platt"):
        save_chemometric(est, s, y, tmp_path / "b", task="classification", targets=["y"])
    assert not (tmp_path / "b").exists()


def test_baseline_save_writes_the_same_bundle(tmp_path):
    (tmp_path / "pipe.json").write_text(json.dumps(published_pipeline().to_config()))
    args = ["baseline", "pls", "--data", "builtin:fermentation-train", "--target", "glucose"]
    args += ["--pipeline", str(tmp_path / "pipe.json"), "--cv", "kfold:5"]
    args += ["--out", str(tmp_path / "run"), "--save", str(tmp_path / "b")]
    assert main(args) == 0
    pred = sk.load(tmp_path / "b").predict(load_fermentation("train"))
    assert {"glucose", "ood_score", "is_ood"} <= set(pred.columns)
    assert json.loads((tmp_path / "b" / "config.json").read_text())["model"]["name"] == (
        "chemometric_linear"
    )
