"""The interferent-augmented PLS candidate: known answer, and no target label is ever read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spectrakit.core.spectra import Spectra
from spectrakit.training.auto import pls_estimator
from spectrakit.training.auto_interferent import interferent_candidate
from spectrakit.training.recipes import cv_folds

AXIS = np.linspace(0.0, 1.0, 120)


def _band(mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((AXIS - mu) / sd) ** 2)


def _standards_and_process(seed: int = 0, n_process: int = 300):
    """Standards: analyte + a varying water band; process: + an overlapping interferent."""
    rng = np.random.default_rng(seed)
    analyte, interferent, water = _band(0.45, 0.05), _band(0.6, 0.06), _band(0.5, 0.15)
    y = rng.uniform(0, 40, 21)
    Zs = np.outer(y, analyte) / 20 + np.outer(rng.normal(1, 0.3, 21), water)
    g, e = rng.uniform(0, 40, n_process), rng.uniform(0, 30, n_process)
    Zt = np.outer(g, analyte) / 20 + np.outer(e, interferent) / 20
    Zt += np.outer(rng.normal(1, 0.3, n_process), water)
    axis = 400 + 1000 * AXIS
    Zs, Zt = Zs + rng.normal(0, 0.02, Zs.shape), Zt + rng.normal(0, 0.02, Zt.shape)
    return Spectra(Zs, axis), y, Spectra(Zt, axis, meta={"glucose": g}), g


def _rmse(p, g) -> float:
    return float(np.sqrt(np.mean((np.asarray(p, float).ravel() - g) ** 2)))


def test_interferent_model_beats_cv_tuned_pls_on_the_process():
    X, y, process, g = _standards_and_process()
    cand = interferent_candidate("pls+interferents", None, X, y, cv_folds(21, seed=0), process)
    plain = pls_estimator(None).fit(X, y).predict(process)
    assert cand.info["k"] > 0  # the target-like validation asks for interferent directions
    assert _rmse(cand.predict(process, "target"), g) < 0.5 * _rmse(plain, g)


def test_the_candidate_never_reads_target_labels():
    X, y, process, _ = _standards_and_process(n_process=120)
    folds = cv_folds(21, seed=1)
    a = interferent_candidate("a", None, X, y, folds, process, seed=1)
    poisoned = Spectra(process.values, process.axis,
                       meta=pd.DataFrame({"glucose": np.full(process.n_spectra, 1e9)}))  # fmt: skip
    b = interferent_candidate("b", None, X, y, folds, poisoned, seed=1)
    bare = interferent_candidate("c", None, X, y, folds, Spectra(process.values, process.axis),
                                 seed=1)  # fmt: skip
    np.testing.assert_array_equal(a.model.coef, b.model.coef)
    np.testing.assert_array_equal(a.model.coef, bare.model.coef)
    assert a.info == b.info


def test_cv_error_is_the_plain_error_on_held_out_standards():
    X, y, process, _ = _standards_and_process(n_process=120)
    cand = interferent_candidate("a", None, X, y, cv_folds(21, seed=2), process, seed=2)
    assert cand.kind == "pls+interferents"
    assert cand.cv_error == cand.info["cv_rmse"]
    assert min(cand.info["table"].values()) == cand.info["target_like_rmse"]


@pytest.mark.slow
def test_pls_net_on_augmented_standards_beats_pls_and_reports_plain_cv():
    from spectrakit.training.deep_recipes import fit_deep

    X, y, process, g = _standards_and_process(n_process=80)
    fit = fit_deep("pls_net_interferents", X, y, pipeline=None, folds=cv_folds(21, seed=0),
                   target=process, quick=True)  # fmt: skip
    plain = pls_estimator(None).fit(X, y).predict(process)
    assert fit.cv_error == np.sqrt(np.mean((fit.cv_predictions - y) ** 2))
    assert _rmse(fit.predict(process, "target"), g) < 0.7 * _rmse(plain, g)


def test_the_chosen_candidate_is_stored_as_one_bundle(tmp_path):
    from spectrakit.training.auto import AutoChoice
    from spectrakit.training.auto_package import save_auto

    X, y, process, _ = _standards_and_process(n_process=120)
    cand = interferent_candidate("pls+interferents", None, X, y, cv_folds(21, seed=0), process)
    choice = AutoChoice([cand], cand, "regression", "only candidate")
    bare = Spectra(process.values, process.axis)
    pred = save_auto(choice, X, y, tmp_path / "b", targets=["glucose"], target=bare, ood="none")
    got = pred.predict(bare)["glucose"].to_numpy()
    np.testing.assert_allclose(got, cand.predict(bare, "target"), rtol=1e-5, atol=1e-4)
    assert pred.config.training["auto"]["chosen"] == "pls+interferents"


def test_auto_fit_ranks_the_candidate_only_with_target_spectra():
    from spectrakit.training.auto import auto_fit

    X, y, process, _ = _standards_and_process(n_process=80)
    bare = Spectra(process.values, process.axis)
    with_target = auto_fit(X, y, pipelines={"raw": None}, target=bare, deep=())
    without = auto_fit(X, y, pipelines={"raw": None}, deep=())
    assert "pls+interferents" in [c.name for c in with_target.candidates]
    assert "pls+interferents" not in [c.name for c in without.candidates]
