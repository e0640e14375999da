"""pls_net for classes: a network on PLS-DA scores that starts as PLS-DA, steps chosen by CV."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.datasets import MixtureSettings, make_synthetic
from spectrakit.training.deep_recipes import fit_deep, pls_estimator
from spectrakit.training.folds import cv_folds
from spectrakit.training.scorenet import ScoreRecipe, fit_scorenet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SNV = {"steps": [{"step": "SNV", "params": {}}]}


@pytest.fixture(scope="module")
def raman():
    data = make_synthetic(
        224,
        task="classification",
        mixture=MixtureSettings(
            library="raman", n_components=4, class_perturbation=2.0, class_spread=0.4
        ),
        seed=3,
    )
    labels = data.meta["label"].to_numpy()
    rng = np.random.default_rng(0)
    tr = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:6] for c in np.unique(labels)]
    )
    te = np.setdiff1d(np.arange(len(labels)), tr)
    return data.select(tr), labels[tr], data.select(te), labels[te]


def test_step_zero_is_the_pls_da_model(raman):
    train, y, test, _ = raman
    folds = cv_folds(len(y), k=3, y=np.unique(y, return_inverse=True)[1], seed=0)
    m = fit_scorenet(pls_estimator(SNV, "classification"), train, y, task="classification",
                     recipe=ScoreRecipe(steps=(0,)), folds=folds)  # fmt: skip
    plsda = pls_estimator(SNV, "classification").fit(train, y)
    np.testing.assert_array_equal(m.predict(test), plsda.predict(test))
    # the CV error at step 0 is PLS-DA's error rate on the same folds
    oof = np.empty(len(y), dtype=y.dtype)
    for tr, va in folds:
        oof[va] = (
            pls_estimator(SNV, "classification")
            .fit(train.select(tr), y[tr])
            .predict(train.select(va))
        )
    assert m.cv_curve[0] == pytest.approx(np.mean(oof != y))
    assert set(m.predict(test)) <= set(y) and m.classes.tolist() == sorted(set(y))


def test_registry_recipe_for_classes_is_never_worse_than_pls_da_on_cv(raman):
    train, y, test, y_test = raman
    folds = cv_folds(len(y), k=3, y=np.unique(y, return_inverse=True)[1], seed=1)
    fit = fit_deep("pls_net", train, y, task="classification", pipeline=SNV, folds=folds,
                   seed=1, quick=True)  # fmt: skip
    curve = fit.model.model.cv_curve
    assert fit.cv_error == min(curve.values()) <= curve[0]
    assert fit.cv_predictions.shape == (len(y),) and set(fit.cv_predictions) <= set(y)
    pred = fit.predict(test)
    assert pred.dtype == y.dtype and np.mean(pred == y_test) > 0.5  # 4 classes: chance 0.25


def test_bad_class_targets_are_one_clear_error(raman):
    train, y, _, _ = raman
    est = pls_estimator(SNV, "classification")
    with pytest.raises(DataError, match="two classes"):
        fit_scorenet(est, train, np.zeros(len(y), dtype=int), task="classification")
    with pytest.raises(DataError, match="one target per spectrum"):
        fit_scorenet(est, train, y[:-1], task="classification")
    with pytest.raises(ConfigError, match="unknown task"):
        fit_scorenet(est, train, y, task="ranking")
