"""OOD by default: T2/Q for PLS bundles (limits, calibrated false rejection, AUROC on other
data), a detector in every CLI-trained bundle, and ``--ood`` choosing it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

import spectrakit as sk
from spectrakit.cli._app import main
from spectrakit.datasets.synthetic import make_synthetic
from spectrakit.ood import HotellingQ
from spectrakit.training.chemometric import fit_chemometric

STATED = 0.05


def _auroc(inlier: np.ndarray, outlier: np.ndarray) -> float:
    y = np.r_[np.zeros(len(inlier)), np.ones(len(outlier))]
    return float(roc_auc_score(y, np.r_[inlier, outlier]))


def test_t2_and_q_limits_follow_their_distributions():
    """Gaussian scores: T2 of new points exceeds its F limit at the stated rate."""
    rng = np.random.default_rng(0)
    n, a = 400, 3
    fit = np.c_[rng.normal(size=(n, a)) * [3.0, 2.0, 1.0], np.sqrt(rng.chisquare(5, n))]
    det = HotellingQ(confidence=0.95).fit(fit)
    new = np.c_[rng.normal(size=(20000, a)) * [3.0, 2.0, 1.0], np.sqrt(rng.chisquare(5, 20000))]
    t2, q = det.statistics(new)
    assert np.mean(t2 > det.limits_[0]) == pytest.approx(0.05, abs=0.01)
    assert np.mean(q > det.limits_[1]) == pytest.approx(0.05, abs=0.02)
    # Box: g chi2(h) with the moments of Q; for chi2(5) residuals that is chi2(5) itself
    assert det.limits_[1] == pytest.approx(stats.chi2.ppf(0.95, 5), rel=0.1)
    f_limit = a * (n - 1) * (n + 1) / (n * (n - a)) * stats.f.ppf(0.95, a, n - a)
    assert det.limits_[0] == pytest.approx(f_limit)


@pytest.fixture(scope="module")
def synthetic_bundle(tmp_path_factory):
    ind = make_synthetic(700, seed=0)
    train, heldout = ind.select(np.arange(200)), ind.select(np.arange(200, 700))
    out = tmp_path_factory.mktemp("t2q") / "b"
    pred = fit_chemometric(
        train, ["c_comp0"], model="pls", pipeline={"steps": ["SNV"]}, out=out, max_components=8
    )
    return pred, heldout


def test_t2q_keeps_the_false_rejection_and_flags_other_spectra(synthetic_bundle):
    predictor, heldout = synthetic_bundle
    assert predictor.ood.name == "t2q" and predictor.ood.false_rejection_ == STATED
    inlier = predictor.predict(heldout)
    frr = float(inlier["is_ood"].mean())
    # another sample type (other components), and the same samples with a contaminant band
    other = predictor.predict(make_synthetic(200, seed=1))
    base = make_synthetic(200, seed=5)
    band = 0.3 * base.values.max() * np.exp(-0.5 * ((base.axis.values - 1234.0) / 6.0) ** 2)
    spiked = predictor.predict(base.with_values(base.values + band))
    auc_other = _auroc(inlier["ood_score"], other["ood_score"])
    auc_spiked = _auroc(inlier["ood_score"], spiked["ood_score"])
    print(
        f"T2/Q synthetic: stated FRR {STATED}, held-out FRR {frr:.3f} (n={len(inlier)}), "
        f"AUROC other set {auc_other:.3f}, contaminant {auc_spiked:.3f}"
    )
    assert 0.02 <= frr <= 0.09  # binomial 99 % band around 5 % for n = 500
    assert auc_other >= 0.95 and auc_spiked >= 0.95


def test_t2q_flags_coffee_against_fermentation(tmp_path):
    pytest.importorskip("chemotools")
    from spectrakit.datasets import load_coffee, load_fermentation

    train = load_fermentation("train")
    order = np.random.default_rng(0).permutation(train.n_spectra)
    fit_rows, kept_rows = order[:16], order[16:]
    predictor = fit_chemometric(
        train.select(fit_rows), ["glucose"], model="pls", out=tmp_path / "b", max_components=6
    )
    coffee = load_coffee()
    # coffee is recorded by point index: put its 1841 points onto the fermentation grid
    grid = np.linspace(0, coffee.n_points - 1, train.n_points)
    coffee_on = sk.Spectra(
        np.stack([np.interp(grid, coffee.axis.values, v) for v in coffee.values]), train.axis
    )
    inlier = predictor.predict(train.select(kept_rows))["ood_score"]
    outlier = predictor.predict(coffee_on)
    auc = _auroc(inlier, outlier["ood_score"])
    print(f"T2/Q coffee vs fermentation: AUROC {auc:.3f}, flagged {outlier.is_ood.mean():.2f}")
    assert auc >= 0.95 and outlier["is_ood"].mean() > 0.95


@pytest.fixture(scope="module")
def labelled_csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("deep")
    sk.write(make_synthetic(120, seed=2, axis=(400.0, 1800.0, 128)), d / "train.csv")
    return d


@pytest.mark.parametrize(("flag", "expected"), [(None, "dime"), ("mahalanobis", "mahalanobis")])
def test_finetune_deep_model_stores_a_calibrated_detector(labelled_csv, flag, expected):
    out = labelled_csv / f"bundle-{expected}"
    args = ["finetune", "--data", str(labelled_csv / "train.csv"), "--target", "c_comp0"]
    args += ["--model", "mlp_tiny", "--epochs", "2", "--out", str(out)]
    args += [] if flag is None else ["--ood", flag]
    assert main(args) == 0
    desc = json.loads((out / "ood.json").read_text())
    assert desc["type"] == expected and desc["false_rejection"] == STATED
    assert desc["threshold"] is not None
    pred_csv = labelled_csv / f"pred-{expected}.csv"
    data = str(labelled_csv / "train.csv")
    assert main(["predict", "--model", str(out), "--data", data, "--out", str(pred_csv)]) == 0
    assert {"ood_score", "is_ood"} <= set(pd.read_csv(pred_csv).columns)


def test_ood_none_and_wrong_detector_are_explicit(labelled_csv, capsys):
    out = labelled_csv / "bundle-none"
    args = ["finetune", "--data", str(labelled_csv / "train.csv"), "--target", "c_comp0"]
    args += ["--model", "mlp_tiny", "--epochs", "1"]
    assert main([*args, "--out", str(out), "--ood", "none"]) == 0
    assert not (out / "ood.json").exists()
    assert main([*args, "--out", str(labelled_csv / "x"), "--ood", "t2q"]) == 2
    assert "T2/Q" in capsys.readouterr().err
