"""The deep-recipe registry: one call per recipe, no collapse on 30 labels, honest errors."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.chemometrics import InstrumentMeanCentering
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.datasets.nir import make_nir, nir_instrument_pair
from spectrakit.training.deep_recipes import DEEP_RECIPES, available, fit_deep, pls_estimator
from spectrakit.training.folds import cv_folds
from spectrakit.training.instrument import fit_instrument_response

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SNV_D1 = {
    "steps": [
        {"step": "SNV", "params": {}},
        {"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}},
    ]
}


def _r2(p, y):
    return 1 - np.mean((p - y) ** 2) / np.var(y)


def test_pls_net_from_the_registry_does_not_collapse_on_30_labels():
    data = make_nir(230, seed=3)["A"]
    y = data.meta["analyte"].to_numpy()
    train, test = data.select(np.arange(30)), data.select(np.arange(30, 230))
    fit = fit_deep("pls_net", train, y[:30], pipeline=SNV_D1, folds=cv_folds(30, k=3), quick=True)
    pred = fit.predict(test)
    assert _r2(pred, y[30:]) > 0.9
    assert np.std(pred) > 0.8 * np.std(y[30:])
    assert fit.cv_predictions.shape == (30,) and np.isfinite(fit.cv_error)
    assert fit.kind == "deep" and fit.info["steps"] in (0, 100, 300)
    assert pred.min() >= 0.0  # non-negative targets stay non-negative


def test_simulating_the_new_instrument_beats_mean_centering():
    """The benchmark's setting: seed 0, 30 labels, 500 unlabeled spectra of the new one."""
    master, slave = nir_instrument_pair()
    data = make_nir(730, instruments=(master, slave), seed=0)
    a = data["A"].crop(1104.0, 2492.0)
    b = data["B"].resample(a.axis.values)
    y = a.meta["analyte"].to_numpy()
    tr, te, unl = np.arange(30), np.arange(30, 230), np.arange(230, 730)
    folds = cv_folds(30, k=3)
    args = {"pipeline": SNV_D1, "folds": folds, "target": b.select(unl)}
    fit = fit_deep("pls_matched", a.select(tr), y[tr], **args)
    assert fit.info["instrument"]["used"]
    assert 0.5 < fit.info["instrument"]["shift_points"] < 1.0  # the slave reads 1.5 nm high
    # the peer: the same CV-tuned PLS on the real training spectra + instrument mean-centering
    plain = pls_estimator(SNV_D1).fit(a.select(tr), y[tr])
    centering = InstrumentMeanCentering().fit(a.select(tr), b.select(unl))
    rmse = lambda p: np.sqrt(np.mean((np.ravel(p) - y[te]) ** 2))  # noqa: E731
    peer = rmse(plain.predict(centering.transform(b.select(te))))
    assert rmse(fit.predict(b.select(te), "target")) < 0.85 * peer


def _two_instruments(n, seed):
    master, slave = nir_instrument_pair()
    data = make_nir(n, instruments=(master, slave), seed=seed)
    a = data["A"].crop(1104.0, 2492.0)
    return a, data["B"].resample(a.axis.values), a.meta["analyte"].to_numpy()


def test_matching_from_four_new_spectra_is_refused_as_unstable():
    """Seed 1, 30 labels, 4 unlabeled spectra: the matching would raise RMSEP by 20 %."""
    a, b, y = _two_instruments(1030, 1)
    tr, te, unl = np.arange(30), np.arange(30, 230), np.arange(530, 534)
    X, target = a.select(tr), b.select(unl)
    fit = fit_deep("pls_matched", X, y[tr], pipeline=SNV_D1, folds=cv_folds(30, k=3),
                   target=target, seed=1)  # fmt: skip
    facts = fit.info["instrument"]
    assert not facts["used"] and facts["reason"].startswith("unstable")
    assert facts["spread"] >= facts["benefit"] > 0
    # the fallback is plain PLS + instrument mean-centering ...
    plain = pls_estimator(SNV_D1).fit(X, y[tr])
    centering = InstrumentMeanCentering().fit(X, target)
    fallback = np.ravel(plain.predict(centering.transform(b.select(te))))
    np.testing.assert_allclose(fit.predict(b.select(te), "target"), np.maximum(fallback, 0))
    # ... which is better here than the matching it refused
    response = fit_instrument_response(X.values, target.values)
    sim = X.with_values(response.transform(X.values).astype(np.float32))
    forced = pls_estimator(SNV_D1).fit(sim, y[tr])
    forced_pred = forced.predict(InstrumentMeanCentering().fit(sim, target).transform(b.select(te)))
    rmse = lambda p: np.sqrt(np.mean((np.ravel(p) - y[te]) ** 2))  # noqa: E731
    assert rmse(fallback) < rmse(forced_pred)


def test_registry_lists_recipes_by_task_and_target():
    assert "pls_net_matched" not in available("regression", has_target=False)
    assert "pls_net_matched" in available("regression", has_target=True)
    assert available("classification", has_target=False) == ["pls_net", "cnn", "cnn_heads"]
    assert available("regression", True, "pls") == ["pls_matched"]
    assert all(e.summary for e in DEEP_RECIPES.values())


def test_bad_calls_are_one_clear_error():
    data = make_nir(12, seed=0)["A"]
    y = data.meta["analyte"].to_numpy()
    folds = cv_folds(12, k=3)
    with pytest.raises(ConfigError, match="unknown deep recipe"):
        fit_deep("transformer", data, y, pipeline=SNV_D1, folds=folds)
    with pytest.raises(ConfigError, match="does not serve"):
        fit_deep("cnn_pls", data, y, task="classification", pipeline=SNV_D1, folds=folds)
    with pytest.raises(DataError, match="unlabeled spectra"):
        fit_deep("pls_net_matched", data, y, pipeline=SNV_D1, folds=folds)
