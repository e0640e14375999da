"""The automatic choice written as one bundle that reproduces the chosen candidate."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.datasets.nir import make_nir
from spectrakit.training.auto import AutoChoice, auto_fit
from spectrakit.training.auto_package import save_auto
from spectrakit.training.folds import cv_folds
from spectrakit.training.recipes import DeepRecipe

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SNV_D1 = {
    "steps": [
        {"step": "SNV", "params": {}},
        {"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}},
    ]
}


@pytest.fixture(scope="module")
def nir():
    data = make_nir(40, seed=5)["A"]
    return data, data.meta["analyte"].to_numpy()


@pytest.fixture(scope="module")
def pls_choice(nir):
    data, y = nir
    folds = cv_folds(40, k=3, seed=0)
    return auto_fit(data, y, pipelines={"snv+d1": SNV_D1, "raw": None}, deep=("pls_net",),
                    folds=folds, quick=True)  # fmt: skip


def _only(choice: AutoChoice, name: str) -> AutoChoice:
    cand = next(c for c in choice.candidates if c.name == name)
    return AutoChoice(choice.candidates, cand, choice.task, f"{name} forced")


def test_pls_winner_is_a_pls_bundle_that_predicts_and_shows_the_cv_table(nir, pls_choice, tmp_path):
    data, y = nir
    pls = min((c for c in pls_choice.candidates if c.kind == "pls"), key=lambda c: c.cv_error)
    assert pls_choice.chosen.cv_error <= pls.cv_error
    # a task PLS wins: with only PLS candidates ranked ahead the bundle is a PLS bundle
    pls_only = AutoChoice([c for c in pls_choice.candidates if c.kind == "pls"], pls,
                          "regression", "best PLS")  # fmt: skip
    pred = save_auto(pls_only, data, y, tmp_path / "b", targets=["analyte"])
    assert pred.config["model"]["name"] == "chemometric_linear"
    np.testing.assert_allclose(pred.predict(data)["analyte"], pls.predict(data), atol=1e-6)
    auto = pred.config["training"]["auto"]
    assert auto["chosen"] == pls.name
    assert auto["candidates"][0]["name"] == pls.name
    card = (tmp_path / "b" / "card.md").read_text()
    for c in pls_only.candidates:
        assert f"cv {c.name}" in card
    assert "is_ood" in pred.predict(data).columns  # T2/Q detector of a PLS bundle
    again = sk.load(tmp_path / "b")
    np.testing.assert_allclose(again.predict(data)["analyte"], pls.predict(data), atol=1e-6)


@pytest.mark.parametrize("name", ["pls_net", "blend(pls_net,pls[snv+d1])"])
def test_score_network_and_its_blend_are_one_deep_bundle(nir, pls_choice, tmp_path, name):
    data, y = nir
    names = {c.name for c in pls_choice.candidates}
    if name not in names:  # the blend pairs the network with the best PLS pipeline
        name = next(n for n in names if n.startswith("blend"))
    choice = _only(pls_choice, name)
    ranked = AutoChoice([choice.chosen], choice.chosen, "regression", "forced")
    pred = save_auto(ranked, data, y, tmp_path / "b", targets=["analyte"])
    assert pred.config["model"]["name"] == "pls_scorenet"
    np.testing.assert_allclose(
        pred.predict(data)["analyte"], choice.chosen.predict(data), rtol=1e-4, atol=1e-5
    )
    assert {"ood_score", "is_ood"} <= set(pred.predict(data).columns)
    _exports(tmp_path / "b")


def test_cnn_ensemble_is_one_deep_bundle_for_classes(tmp_path):
    from spectrakit.training.auto import Candidate, _CNNWrap
    from spectrakit.training.recipes import fit_recipe

    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 128)
    peaks = [np.exp(-0.5 * ((axis - mu) / 30.0) ** 2) for mu in (700.0, 1100.0, 1500.0)]
    labels = np.repeat(np.array(["a", "b", "c"]), 8)
    x = np.stack([peaks["abc".index(lab)] + 0.05 * rng.normal(size=128) for lab in labels])
    data = sk.Spectra(x, axis, meta={"label": labels})
    rec = DeepRecipe("tiny", channels=("raw", "d1"), steps=(20,), ensemble=2, batch_size=8)
    model = fit_recipe(rec, data.values, labels, task="classification", seed=0)
    cand = Candidate("cnn", "deep", 0.0, model.cv_predictions, _CNNWrap(model, None))
    choice = AutoChoice([cand], cand, "classification", "forced")
    pred = save_auto(choice, data, labels, tmp_path / "b", targets=["label"], ood="none")
    assert pred.config["model"]["name"] == "smallnet_ensemble"
    got = pred.predict(data)["predicted"].astype(str).to_numpy()
    np.testing.assert_array_equal(got, model.predict(data.values))
    _exports(tmp_path / "b")


def _exports(path) -> None:
    from spectrakit.export.onnx import export_onnx

    record = export_onnx(path, batch_sizes=(1, 3))
    assert record["parity"] and all(r["ok"] for r in record["parity"])
