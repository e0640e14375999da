"""Hotelling T2 / Q outlier screening of the training spectra, chosen by CV inside the folds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.cross_decomposition import PLSRegression

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.training import screening
from spectrakit.training.folds import cv_folds
from spectrakit.training.recipes import DeepRecipe
from spectrakit.training.screening import (
    OutlierScreen,
    check_screen,
    q_limit,
    screen_cv,
    t2_limit,
)

PLANTED = np.array([3, 17, 29, 41, 55])


def _band(grid, centre, width):
    return np.exp(-0.5 * ((grid - centre) / width) ** 2)


def _spectra(n, rng):
    grid = np.arange(100.0)
    y = rng.uniform(0, 1, n)
    X = y[:, None] * _band(grid, 30, 5) + rng.uniform(0.5, 1.5, (n, 1)) * _band(grid, 70, 9)
    return X + 0.01 * rng.normal(size=X.shape), y


def _planted(seed=0):
    """60 training spectra, five of them contaminated (a foreign band and a wrong reference)."""
    rng = np.random.default_rng(seed)
    X, y = _spectra(60, rng)
    grid = np.arange(100.0)
    for i in PLANTED:
        X[i] += 0.6 * _band(grid, rng.uniform(10, 90), 3)
        y[i] += 2.0
    return X, y


def _pls():
    return PLSRegression(n_components=2, scale=False)


def test_planted_outliers_are_flagged_and_screening_improves_the_cv_error():
    X, y = _planted()
    screen = OutlierScreen(0.99).fit(X)
    assert set(np.flatnonzero(screen.outliers_)) >= set(PLANTED)
    assert screen.outliers_.sum() <= len(PLANTED) + 2  # few clean spectra flagged
    folds = cv_folds(60, k=5, seed=0)
    choice = screen_cv(_pls, X, y, folds)
    assert choice.confidence is not None
    chosen = f"{choice.confidence:g}"
    assert choice.cv_error[chosen] < choice.cv_error["off"]
    clean = np.setdiff1d(np.arange(60), PLANTED)  # the held-out clean spectra gain most
    err = lambda k: np.sqrt(np.mean((choice.predictions[k][clean] - y[clean]) ** 2))  # noqa: E731
    assert err(chosen) < 0.5 * err("off")
    assert choice.dropped["off"] == 0.0 and choice.dropped["0.99"] > 0
    # the known answer on new clean spectra: the screened model is the better one
    Xte, yte = _spectra(200, np.random.default_rng(1))
    keep = ~screen.outliers_
    rmse = lambda m: np.sqrt(np.mean((m.predict(Xte).ravel() - yte) ** 2))  # noqa: E731
    assert rmse(_pls().fit(X[keep], y[keep])) < 0.5 * rmse(_pls().fit(X, y))


def test_clean_data_keep_screening_off():
    X, y = _spectra(60, np.random.default_rng(2))
    choice = screen_cv(_pls, X, y, cv_folds(60, k=5, seed=0))
    assert choice.cv_error["off"] <= min(choice.cv_error.values()) * 1.02


def _spy(seen):
    """An OutlierScreen that records the spectra every fit sees."""

    class Spy(OutlierScreen):
        def fit(self, X, y=None):
            seen.append(np.asarray(X).copy())
            return super().fit(X, y)

    return Spy


def test_the_held_out_fold_never_fits_the_limits(monkeypatch):
    X, y = _planted()
    seen = []

    monkeypatch.setattr(screening, "OutlierScreen", _spy(seen))
    folds = cv_folds(60, k=5, seed=0)
    screen_cv(_pls, X, y, folds, confidences=(0.99,))
    assert len(seen) == len(folds)
    for fitted, (tr, _) in zip(seen, folds, strict=True):
        assert np.array_equal(fitted, X[tr])  # exactly the training rows of the fold
    # and the limits of a fold do not move when its held-out spectra change
    tr, va = folds[0]
    X2 = X.copy()
    X2[va] += 100.0
    a, b = OutlierScreen(0.99).fit(X[tr]), OutlierScreen(0.99).fit(X2[tr])
    assert (a.t2_limit_, a.q_limit_) == (b.t2_limit_, b.q_limit_)


def test_limits_match_their_distributions():
    """Gaussian data: a new spectrum exceeds each limit at the nominal rate (1 - c)."""
    rng = np.random.default_rng(0)
    sd = np.r_[10.0, 6.0, 4.0, np.linspace(1.0, 0.3, 27)]
    train = rng.normal(size=(2000, 30)) * sd
    fresh = rng.normal(size=(20000, 30)) * sd
    for q_method in ("jackson-mudholkar", "box"):
        s = OutlierScreen(0.95, n_components=3, q_method=q_method).fit(train)
        t2, q = s.statistics(fresh)
        assert np.mean(t2 > s.t2_limit_) == pytest.approx(0.05, abs=0.01)
        assert np.mean(q > s.q_limit_) == pytest.approx(0.05, abs=0.01)
    # known values: one residual eigenvalue makes Q a scaled chi-square with 1 dof
    assert q_limit(np.array([2.0]), 0.95, "box") == pytest.approx(2 * stats.chi2.ppf(0.95, 1))
    assert t2_limit(30, 2, 0.95) == pytest.approx(2 * 29 / 28 * stats.f.ppf(0.95, 2, 28))


def test_pls_screen_and_class_labels():
    X, y = _planted()
    pls = OutlierScreen(0.99, method="pls", n_components=3).fit(X, y)
    assert set(np.flatnonzero(pls.outliers_)) >= set(PLANTED)
    labels = np.where(y > 0.5, "high", "low")
    assert OutlierScreen(0.99, method="pls", n_components=2).fit(X, labels).outliers_.any()


def test_bad_settings_and_spectra_are_one_clear_error():
    assert check_screen("off") is None and check_screen(None) is None
    assert check_screen("cv") == "cv" and check_screen("0.975") == 0.975
    for bad in ("0.3", 1.0, "often", True):
        with pytest.raises(ConfigError, match="invalid outlier screening"):
            check_screen(bad)
    with pytest.raises(ConfigError, match="invalid outlier screening"):
        DeepRecipe("x", screen=1.5)
    with pytest.raises(ConfigError, match="unknown screening model"):
        OutlierScreen(0.99, method="ica")
    with pytest.raises(DataError, match="at least 5"):
        OutlierScreen(0.99).fit(np.ones((3, 10)))
    X = np.random.default_rng(0).normal(size=(20, 10))
    X[2, 3] = np.nan
    with pytest.raises(DataError, match="NaN"):
        OutlierScreen(0.99).fit(X)
    with pytest.raises(DataError, match="wrong shape"):
        OutlierScreen(0.99).fit(np.nan_to_num(X)).flags(np.ones((2, 5)))
    with pytest.raises(ConfigError, match="needs the targets"):
        OutlierScreen(0.99, method="pls").fit(np.random.default_rng(0).normal(size=(20, 10)))


def test_a_recipe_screens_inside_every_fold_and_records_the_choice(monkeypatch):
    from dataclasses import replace

    from spectrakit.training import recipes
    from spectrakit.training.recipes import fit_recipe, get_recipe

    X, y = _planted()
    X = X.astype(np.float32)
    seen = []

    monkeypatch.setattr(recipes, "OutlierScreen", _spy(seen))
    rec = replace(get_recipe("cnn"), steps=(10,), ensemble=1, screen="cv", augment=0.0)
    folds = cv_folds(60, k=3, seed=0)
    model = fit_recipe(rec, X, y, folds=folds, base=_pls(), seed=0)  # base: the screening PLS
    assert model.screening["confidence"] in (0.99, 0.975, 0.95)  # PLS CV chose to screen
    assert set(model.screening["cv_error"]) == {"off", "0.99", "0.975", "0.95"}
    assert set(model.screening["dropped"]) >= set(PLANTED.tolist())
    assert len(seen) == len(folds) + 1  # one screen per fold, one for the final fit
    for fitted, (tr, _) in zip(seen, folds, strict=False):
        assert np.array_equal(fitted, X[tr])
    assert np.array_equal(seen[-1], X)
    assert model.recipe.to_config()["screen"] == "cv"
    off = fit_recipe(replace(rec, screen=None), X, y, folds=folds, seed=0)
    assert off.screening == {"confidence": None, "dropped": []}


def test_fit_supervised_screens_the_training_spectra_and_records_it(tmp_path):
    from spectrakit.core.spectra import Spectra
    from spectrakit.training import FitConfig, fit_supervised

    X, y = _planted()
    train = Spectra(X.astype(np.float32), np.linspace(1000, 1198, 100), meta={"y": y})
    cfg = FitConfig(model="cnn1d_tiny", max_epochs=1, screen="0.99", ood="none", progress=False,
                    loggers=(), seed=0)  # fmt: skip
    predictor = fit_supervised(train, "y", config=cfg, out=tmp_path / "m")
    record = predictor.config.training["recipe"]["screening"]
    assert record["confidence"] == 0.99 and set(record["dropped"]) >= set(PLANTED.tolist())
    assert predictor.config.training["options"]["screen"] == "0.99"
    cv = screening.screen_training(train, ["y"], "cv", seed=0)[1]
    assert cv["confidence"] is not None and set(cv["cv_error"]) == {"off", "0.99", "0.975", "0.95"}
    assert screening.screen_training(train, ["y"], "off") == (train, None)
