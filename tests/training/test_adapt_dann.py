"""DANN (gradient reversal + domain classifier) as an adaptation of the small-data CNN."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spectrakit.core.errors import ConfigError
from spectrakit.training.adapt import (
    ALIGNMENTS,
    FeatureAligner,
    alignment_loss,
    dann_lambda,
    grad_reverse,
)
from spectrakit.training.recipes import DeepRecipe, fit_recipe, get_recipe

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _band(grid, centre, width):
    return np.exp(-0.5 * ((grid - centre) / width) ** 2)


def _domain(n, rng, target):
    """Analyte band at 40 (target y), a matrix band at 90; the new instrument adds a band."""
    grid = np.arange(128.0)
    y = rng.uniform(0, 1, n)
    X = y[:, None] * _band(grid, 40, 6) + rng.uniform(0.5, 1.5, (n, 1)) * _band(grid, 90, 10)
    if target:  # an interferent of random height that only the new instrument sees
        X = X + rng.uniform(0, 1.5, (n, 1)) * _band(grid, 64, 4)
    return (X + 0.02 * rng.normal(size=X.shape)).astype(np.float32), y


def _domain_accuracy(model, Xs, Xt):
    """5-fold CV accuracy of a fresh classifier telling the two domains' features apart."""
    with torch.no_grad():
        fs = model.members[0].eval().features(torch.tensor(Xs), 0).numpy()
        ft = model.target_members[0].eval().features(torch.tensor(Xt), 1).numpy()
    Z, d = np.concatenate([fs, ft]), np.r_[np.zeros(len(fs)), np.ones(len(ft))]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return cross_val_score(clf, Z, d, cv=5).mean()


def _r2(p, y):
    return 1 - np.mean((p - y) ** 2) / np.var(y)


def test_dann_features_hide_the_domain_while_the_task_is_learnt():
    rng = np.random.default_rng(0)
    (Xs, ys), (Xt, yt) = _domain(80, rng, False), _domain(80, rng, True)
    Xtest, ytest = _domain(100, rng, False)
    rec = replace(get_recipe("cnn_dann"), steps=(400,), ensemble=1, augment=0.0,
                  align_weight=1.0)  # fmt: skip
    folds = [(np.arange(60), np.arange(60, 80))]
    dann = fit_recipe(rec, Xs, ys, X_target=Xt, folds=folds, seed=0)
    plain = fit_recipe(replace(rec, align=None), Xs, ys, X_target=Xt, folds=folds, seed=0)
    acc_dann, acc_plain = _domain_accuracy(dann, Xs, Xt), _domain_accuracy(plain, Xs, Xt)
    assert acc_plain > 0.9  # without alignment the features give the instrument away
    assert acc_dann < acc_plain - 0.1  # toward chance (0.5)
    assert dann.adaptation["domain_accuracy"][0] < 0.65  # the adversary itself is fooled
    assert _r2(dann.predict(Xtest), ytest) > 0.8  # the source task is still learnt
    assert _r2(dann.predict(Xt, "target"), yt) > _r2(plain.predict(Xt, "target"), yt) + 0.2
    assert dann.recipe.to_config()["align"] == "dann"


def test_gradient_reversal_is_identity_forward_and_minus_lambda_backward():
    x = torch.randn(4, 3, requires_grad=True)
    out = grad_reverse(x, 0.7)
    assert torch.equal(out, x)
    out.sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, -0.7))


def test_lambda_schedule_is_ganins():
    assert dann_lambda(0.0) == 0.0
    assert dann_lambda(0.5) == pytest.approx(2 / (1 + np.exp(-5)) - 1)
    assert dann_lambda(1.0) == pytest.approx(0.99991, abs=1e-5)
    assert dann_lambda(2.0) == dann_lambda(1.0)  # clipped to the run
    values = [dann_lambda(p) for p in np.linspace(0, 1, 11)]
    assert values == sorted(values)


def test_domain_classifier_learns_the_domains_its_features_reveal():
    """With the features fixed the adversary separates two clouds; its loss falls."""
    torch.manual_seed(0)
    aligner = FeatureAligner("dann", 2)
    fs, ft = torch.randn(64, 2), torch.randn(64, 2) + 3.0
    opt = torch.optim.Adam(aligner.parameters(), lr=1e-2)
    first = None
    for _ in range(200):
        loss = aligner(fs, ft, 1.0)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.2 * first and aligner.history[-1] > 0.95


def test_aligner_names_and_bad_calls():
    assert ALIGNMENTS == ("coral", "mmd", "dann")
    fs, ft = torch.randn(8, 4), torch.randn(8, 4)
    for name in ("coral", "mmd"):
        assert torch.allclose(FeatureAligner(name, 4)(fs, ft), alignment_loss(name, fs, ft))
        assert not list(FeatureAligner(name, 4).parameters())
    with pytest.raises(ConfigError, match="domain classifier"):
        alignment_loss("dann", fs, ft)
    with pytest.raises(ConfigError, match="unknown alignment"):
        FeatureAligner("wasserstein", 4)
    with pytest.raises(ConfigError, match="unknown alignment"):
        DeepRecipe("x", align="adversarial")
    assert get_recipe("cnn_dann").align == "dann"


def test_the_registry_offers_cnn_dann_only_with_target_spectra():
    from spectrakit.training.deep_recipes import DEEP_RECIPES, available

    assert "cnn_dann" in available("regression", True)
    assert "cnn_dann" in available("classification", True)
    assert "cnn_dann" not in available("regression", False)
    assert DEEP_RECIPES["cnn_dann"].needs_target
    assert "cnn_heads" in available("classification", False)
