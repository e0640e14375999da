"""Saving a fitted chemometric model: the fitting step before any write, the bundle fields."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.chemometrics import make_baseline
from spectrakit.core.errors import ConfigError
from spectrakit.training import chemometric as chem


def _ridge(n: int = 24):
    rng = np.random.default_rng(1)
    axis = np.linspace(1000.0, 1400.0, 60)
    conc = rng.uniform(0, 1, n)
    band = np.exp(-0.5 * ((axis - 1200.0) / 15.0) ** 2)
    s = sk.Spectra(conc[:, None] * band + rng.normal(0, 0.01, (n, 60)), axis)
    return make_baseline("ridge", pipeline={"steps": ["SNV"]}).fit(s, conc), s, conc


def test_held_out_predictions_are_those_of_each_fold_model():
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    est, s, y = _ridge()
    fitted = chem._fit_for_bundle(est, s, y, "regression", "dime", 0.1, folds=4, seed=3)
    ref = np.empty(len(y))
    for tr, te in KFold(4, shuffle=True, random_state=3).split(np.arange(len(y))):
        ref[te] = clone(est).fit(s[tr], y[tr]).predict(s[te])
    np.testing.assert_allclose(fitted.cv_raw[:, 0], ref, rtol=1e-5, atol=1e-6)
    assert fitted.folds == 4 and fitted.detector.name == "dime"
    assert fitted.detector.threshold_ is not None


def test_folds_are_capped_at_the_number_of_spectra_and_none_means_no_detector():
    est, s, y = _ridge(n=6)
    fitted = chem._fit_for_bundle(est, s, y, "regression", "none", 0.1, folds=10, seed=0)
    assert fitted.folds == 6 and fitted.detector is None
    assert np.isfinite(fitted.cv_raw).all()


def test_unknown_detector_is_refused_before_anything_is_written(tmp_path):
    est, s, y = _ridge()
    with pytest.raises(ConfigError, match="unknown OOD detector"):
        chem.save_chemometric(est, s, y, tmp_path / "b", task="regression", targets=["y"], ood="x")
    assert not (tmp_path / "b").exists()


def test_metrics_and_training_records_merge_in_a_fixed_order(tmp_path):
    est, s, y = _ridge()
    fitted = chem._fit_for_bundle(est, s, y, "regression", "knn", 0.1, folds=3, seed=0)
    record = {
        "metrics": {"cv_r2": -1.0, "ood": "mine", "note": 1},
        "training": {"cv_folds": 99, "who": "me"},
        "targets": ["y"],
    }
    fields = chem._save_fields(est, fitted, s, y, (2.0, 0.5), record)
    assert fields["metrics"]["cv_r2"] == -1.0  # the caller's metric wins over the CV one
    assert fields["metrics"]["ood"] == "knn"  # the detector's name wins over the caller's
    assert fields["metrics"]["ood_calibration"] == "3-fold CV held-out"
    assert list(fields["metrics"])[:2] == ["cv_rmse", "cv_r2"]
    assert fields["training"]["cv_folds"] == 99 and fields["training"]["who"] == "me"
    assert fields["training"]["transfer"] == {"method": "slope-bias", "slope": 2.0, "bias": 0.5}
    assert fields["training"]["data"]["n_spectra"] == len(y)
    assert fields["output"]["target_std"] == [2.0] and fields["output"]["target_mean"] == [0.5]
    pred = chem.save_chemometric(
        est, s, y, tmp_path / "b", task="regression", targets=["y"], ood="knn", folds=3,
        metrics={"note": 1}, output_correction=(2.0, 0.5),
    ).predict(s)  # fmt: skip
    np.testing.assert_allclose(pred["y"], 2.0 * est.predict(s) + 0.5, rtol=1e-5, atol=1e-5)
    config = sk.load(tmp_path / "b").config
    assert config.metrics["note"] == 1 and config.training["cv_folds"] == 3


def test_classes_are_stratified_as_in_the_automatic_choice():
    # 3 classes of 4 spectra, sorted by class: plain shuffled K-fold leaves some held-out
    # fold without a class; the bundle's CV must split as the automatic choice ranks
    from spectrakit.training.folds import cv_folds

    rng = np.random.default_rng(2)
    axis = np.linspace(1000.0, 1400.0, 40)
    labels = np.repeat(np.array(["a", "b", "c"]), 4)
    centre = {"a": 1100.0, "b": 1200.0, "c": 1300.0}
    X = np.stack([np.exp(-0.5 * ((axis - centre[c]) / 20.0) ** 2) for c in labels])
    s = sk.Spectra(X + rng.normal(0, 0.02, X.shape), axis)
    splits = chem._folds(labels, 4, seed=0, task="classification")
    assert all(sorted(labels[te]) == ["a", "b", "c"] for _, te in splits)
    codes = np.unique(labels, return_inverse=True)[1]
    expected = cv_folds(len(labels), k=4, y=codes, seed=0)
    assert all((a[1] == b[1]).all() for a, b in zip(splits, expected, strict=True))
    est = make_baseline("plsda", "classification", pipeline={"steps": ["SNV"]}).fit(s, labels)
    fitted = chem._fit_for_bundle(est, s, labels, "classification", "none", 0.1, 4, seed=0)
    assert fitted.folds == 4 and chem._cv_metrics(
        "classification", labels, fitted.cv_raw, fitted.classes
    )["cv_accuracy"] == pytest.approx(1.0)
    # a class with one spectrum cannot be stratified: plain K-fold, as before
    single = np.array(["a"] * 5 + ["b"])
    assert len(chem._folds(single, 3, seed=0, task="classification")) == 3
