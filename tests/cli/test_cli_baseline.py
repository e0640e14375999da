"""``spectrakit baseline``: cross-validation, test set, calibration transfer, clear errors."""

import json

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.cli._app import main

AXIS = np.arange(1000.0, 1400.0, 2.0)
BANDS = [(1100.0, 8.0), (1180.0, 10.0), (1250.0, 6.0), (1300.0, 12.0)]


def _spectra(C, rng, shift=0.0, broaden=1.0, gain=1.0, slope=0.0, **meta):
    pure = np.stack([np.exp(-0.5 * ((AXIS - (c + shift)) / (w * broaden)) ** 2) for c, w in BANDS])
    X = gain * (C @ pure) + slope * (AXIS - 1000) / 400 + rng.normal(0, 0.01, (len(C), AXIS.size))
    return sk.Spectra(X, AXIS, meta={"conc": C[:, 0], **meta})


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("baseline")
    rng = np.random.default_rng(0)
    slave = {"shift": 4.0, "broaden": 1.5, "gain": 0.8, "slope": 0.3}
    c_cal, c_std, c_test = (rng.uniform(0.1, 1, (n, 4)) for n in (60, 12, 40))
    sample = [f"s{i // 2}" for i in range(60)]  # replicate pairs
    sk.write(_spectra(c_cal, rng, sample=sample), d / "train.csv")
    sk.write(_spectra(c_std, rng), d / "master.csv")
    sk.write(_spectra(c_std, rng, **slave), d / "slave.csv")
    sk.write(_spectra(c_test, rng, **slave), d / "slave_test.csv")
    sk.write(_spectra(rng.uniform(0.1, 1, (50, 4)), rng, **slave), d / "unlabeled.csv")
    sk.write(_spectra(rng.uniform(0.1, 1, (150, 4)), rng), d / "calibration.csv")
    sk.write(_spectra(rng.uniform(0.1, 1, (300, 4)), rng), d / "test.csv")
    labels = np.where(c_cal[:, 0] > 0.55, "high", "low")
    sk.write(_spectra(c_cal, rng, label=labels), d / "classes.csv")
    return d


def _run(*argv):
    return main(["baseline", *map(str, argv)])


def test_pls_cv_and_test_outputs(files):
    out = files / "pls"
    code = _run(
        "pls",
        "--data",
        files / "train.csv",
        "--target",
        "conc",
        "--cv",
        "group:sample:4",
        "--out",
        out,
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["cv"]["n_folds"] == 4 and metrics["cv"]["scheme"] == "group:sample:4"
    assert metrics["cv"]["pooled"]["rmse"] < 0.05
    assert (out / "report.html").exists() and (out / "cv_predictions.csv").exists()


@pytest.mark.parametrize("method", ["ds", "pds", "sst", "slope-bias"])
def test_transfer_with_standards(files, method):
    out = files / f"transfer_{method}"
    code = _run(
        "pls",
        "--data",
        files / "train.csv",
        "--target",
        "conc",
        "--cv",
        "none",
        "--test",
        files / "slave_test.csv",
        "--transfer",
        method,
        "--master",
        files / "master.csv",
        "--slave",
        files / "slave.csv",
        "--out",
        out,
    )
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())
    before = m["transfer"]["uncorrected_scores"]["rmse"]
    after = m["test"]["rmse"]
    print(f"{method}: RMSEP slave {before:.4f} -> {after:.4f}")
    assert after < before / 4
    assert "calibration transfer" in (out / "report.html").read_text()


def test_dipls_with_unlabeled(files):
    out = files / "dipls"
    code = _run(
        "pls",
        "--data",
        files / "train.csv",
        "--target",
        "conc",
        "--cv",
        "none",
        "--test",
        files / "slave_test.csv",
        "--transfer",
        "dipls",
        "--unlabeled",
        files / "unlabeled.csv",
        "--components",
        "4",
        "--lam",
        "1",
        "--out",
        out,
    )
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["transfer"]["n_components"] == 4
    assert np.isfinite(m["test"]["rmse"])


def test_plsda_classification(files):
    out = files / "plsda"
    code = _run(
        "plsda",
        "--data",
        files / "classes.csv",
        "--target",
        "label",
        "--cv",
        "stratified:3",
        "--out",
        out,
    )
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "classification" and m["cv"]["pooled"]["accuracy"] > 0.8
    assert (out / "figures" / "cv_confusion.png").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--target", "nope"], "no target column 'nope'"),
        (["--target", "conc", "--cv", "group"], "needs a metadata column"),
        (["--target", "conc", "--transfer", "pds", "--test", "{slave_test}"], "transfer standards"),
        (["--target", "conc", "--transfer", "dipls", "--test", "{slave_test}"], "--unlabeled"),
        (["--target", "conc", "--pipeline", "no-such-preset"], "no-such-preset"),
    ],
)
def test_bad_input_is_one_line(files, capsys, argv, message):
    argv = [a.format(slave_test=files / "slave_test.csv") for a in argv]
    code = _run("pls", "--data", files / "train.csv", *argv, "--out", files / "err")
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_standards_count_mismatch(files, tmp_path, capsys):
    few = sk.read(files / "slave.csv")
    sk.write(few.select(range(10)), tmp_path / "few.csv")
    code = _run(
        "pls",
        "--data",
        files / "train.csv",
        "--target",
        "conc",
        "--cv",
        "none",
        "--test",
        files / "slave_test.csv",
        "--transfer",
        "ds",
        "--master",
        files / "master.csv",
        "--slave",
        tmp_path / "few.csv",
        "--out",
        tmp_path / "o",
    )
    assert code == 2
    assert "differ in count" in capsys.readouterr().err


def test_conformal_intervals_on_test(files):
    out = files / "conformal"
    code = _run(
        "pls",
        "--data",
        files / "train.csv",
        "--target",
        "conc",
        "--cv",
        "none",
        "--test",
        files / "test.csv",
        "--calibration",
        files / "calibration.csv",
        "--alpha",
        "0.1",
        "--out",
        out,
    )
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())["conformal"]
    # 3.5 binomial/Beta standard deviations for 150 calibration and 300 test spectra
    sd = np.sqrt(0.1 * 0.9 * (1 / 300 + 1 / 150))
    assert abs(m["coverage"] - 0.9) < 3.5 * sd + 1 / 151
    pred = pd.read_csv(out / "predictions.csv")
    inside = (pred["y_true"] >= pred["lower"]) & (pred["y_true"] <= pred["upper"])
    assert inside.mean() == pytest.approx(m["coverage"])
    assert "Split-conformal intervals" in (out / "report.html").read_text()


def test_save_stores_a_slope_bias_transfer_and_refuses_standardization(files, capsys):
    common = ["pls", "--data", files / "train.csv", "--target", "conc", "--cv", "none",
              "--test", files / "slave_test.csv", "--master", files / "master.csv",
              "--slave", files / "slave.csv"]  # fmt: skip
    out, bundle = files / "saved_sb", files / "bundle_sb"
    assert _run(*common, "--transfer", "slope-bias", "--out", out, "--save", bundle) == 0
    pred = pd.read_csv(out / "predictions.csv")["y_pred"].to_numpy()
    saved = sk.load(bundle).predict(sk.read(files / "slave_test.csv"))
    np.testing.assert_allclose(saved["conc"], pred, rtol=1e-4, atol=1e-5)
    cfg = json.loads((bundle / "config.json").read_text())
    assert cfg["training"]["transfer"]["method"] == "slope-bias"
    code = _run(*common, "--transfer", "pds", "--out", files / "saved_pds",
                "--save", files / "bundle_pds")  # fmt: skip
    assert code == 2 and "--save cannot store --transfer pds" in capsys.readouterr().err
    assert not (files / "bundle_pds").exists() and not (files / "saved_pds").exists()
