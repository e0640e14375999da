"""DIME's k and alpha tuned on training data only (leave one class out), stored in the bundle."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from test_open_set import _spectra

import spectrakit
from spectrakit.cli import main
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.evaluation import open_set_figures
from spectrakit.ood import load_detector, tune_dime


def _embeddings(n_per_class: int, seed: int):
    """Three classes, each on its own 2-D plane through its own mean, in 20 dimensions."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    basis = np.linalg.qr(np.random.default_rng(99).normal(size=(20, 20)))[0]  # shared
    for c in range(3):
        plane = basis[:, 2 * c : 2 * c + 2]
        coords = rng.normal(0, 3.0, (n_per_class, 2))
        X.append(4.0 * basis[:, 6 + c] + coords @ plane.T + rng.normal(0, 0.05, (n_per_class, 20)))
        y += [c] * n_per_class
    return np.vstack(X), np.array(y)


def test_tuning_finds_the_dimension_of_the_known_classes():
    X_fit, y_fit = _embeddings(60, 0)
    X_held, y_held = _embeddings(30, 1)
    out = tune_dime(X_fit, y_fit, X_held, y_held)
    grid = pd.DataFrame(out["grid"])
    # two known classes span 2 planes + the line between their means: 5 dimensions; fewer
    # components leave known spectra far from the model
    assert out["k"] >= 4, out["k"]
    assert out["TEFF"] > 0.9 and out["alpha"] in (0.01, 0.025, 0.05, 0.1, 0.2)
    assert out["TEFF"] >= grid["TEFF"].max() - 0.05  # within one standard error of the best
    assert grid.loc[grid["k"] == 1, "TEFF"].max() < out["TEFF"] - 0.1  # too few components
    with pytest.raises(DataError, match="at least two classes"):
        tune_dime(X_fit, np.zeros(len(X_fit)), X_held, np.zeros(len(X_held)))


def test_cli_tunes_dime_on_training_data_and_records_it(tmp_path):
    rng = np.random.default_rng(0)
    spectrakit.write(_spectra(list(rng.choice(list("abc"), 150)), 1), tmp_path / "train.csv")
    test_labels = [*rng.choice(list("abc"), 30), *["novel"] * 15]
    spectrakit.write(_spectra(test_labels, 2), tmp_path / "test.csv")
    args = ["finetune", "--data", str(tmp_path / "train.csv"), "--target", "kind",
            "--task", "classification", "--model", "mlp_tiny", "--epochs", "30",
            "--lr", "3e-3", "--batch-size", "16", "--no-progress", "--loggers", ""]  # fmt: skip
    assert main([*args, "--ood-tune", "--out", str(tmp_path / "m")]) == 0
    desc = json.loads((tmp_path / "m" / "ood.json").read_text())
    tuning = desc["tuning"]
    assert desc["params"]["n_components"] == tuning["k"]
    assert desc["false_rejection"] == tuning["alpha"] and len(tuning["grid"]) >= 5
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["metrics"]["ood_tuning"]["k"] == tuning["k"]
    assert load_detector(tmp_path / "m").tuning_["alpha"] == tuning["alpha"]
    out = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "test.csv"),
                 "--open-set", "--out", str(out)]) == 0  # fmt: skip
    table = pd.read_csv(out)
    f = open_set_figures(table["kind"], table["predicted"], known=list("abc"))
    print("tuned", {k: tuning[k] for k in ("k", "alpha", "TEFF")},
          {k: round(f[k], 3) for k in ("TSNS", "TSPS", "TEFF")})  # fmt: skip
    assert f["TSPS"] >= 0.8 and f["TSNS"] >= 0.8


def test_tuning_needs_a_classifier(tmp_path):
    from spectrakit.ood import fit_ood

    spectra = _spectra(["a", "b"] * 20, 0)
    spectra.meta["y"] = np.arange(40, dtype=float)
    spectrakit.write(spectra, tmp_path / "r.csv")
    assert main(["finetune", "--data", str(tmp_path / "r.csv"), "--target", "y",
                 "--model", "mlp_tiny", "--epochs", "1", "--no-progress", "--loggers", "",
                 "--ood", "none", "--out", str(tmp_path / "m")]) == 0  # fmt: skip
    with pytest.raises(ConfigError, match="OOD tuning is for DIME on a classifier"):
        fit_ood(spectrakit.load(tmp_path / "m"), spectra, tune=True)


# The named steps of the tuning: candidate k, one pass leaving each class out.
def test_candidate_ks_are_limited_by_the_smallest_fitting_set_and_the_dimension():
    from spectrakit.ood._tune import _candidate_ks

    y = np.array([0] * 5 + [1] * 10 + [2] * 10)  # leaving 1 or 2 out keeps 15 spectra
    X = np.zeros((25, 20))
    assert _candidate_ks(None, X, y, np.unique(y)) == [1, 2, 3, 4, 6, 8, 12]  # k <= 14
    assert _candidate_ks(None, X[:, :5], y, np.unique(y)) == [1, 2, 3, 4]  # k <= D
    assert _candidate_ks([0, 3, 3, 40], X, y, np.unique(y)) == [3]
    assert _candidate_ks([40], X, y, np.unique(y)) == [1]  # none fits: one component


def test_far_unknown_classes_are_all_rejected_and_known_ones_mostly_kept():
    from spectrakit.ood._tune import _leave_one_class_out

    rng = np.random.default_rng(0)
    X = rng.normal(0, 1.0, (60, 8))
    y = np.repeat([0, 1, 2], 20)
    X += 1000.0 * np.eye(8)[y]  # every class is far from the others along its own direction
    Xh = rng.normal(0, 1.0, (30, 8)) + 1000.0 * np.eye(8)[np.repeat([0, 1, 2], 10)]
    yh = np.repeat([0, 1, 2], 10)
    tsns, tsps, n_eval = _leave_one_class_out(X, y, Xh, yh, np.unique(y), [1, 2], [0.1, 0.2], rng)
    assert tsns.shape == tsps.shape == (2, 2)
    np.testing.assert_array_equal(tsps, 1.0)  # the left-out class is always rejected
    assert (tsns > 0.5).all() and (tsns <= 1.0).all()
    assert n_eval == 3 * 10  # each fold judges the other half of its 20 known spectra
