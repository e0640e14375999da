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


#: options of the slave-instrument test runs, and of the transfer standards
SLAVE_TEST = {"cv": "none", "test": "slave_test.csv"}
STANDARDS = {"master": "master.csv", "slave": "slave.csv"}
#: every successful invocation: model and options (``*.csv`` values are files of the fixture)
RUNS = {
    "pls": ("pls", {"cv": "group:sample:4"}),
    **{
        method: ("pls", {**SLAVE_TEST, "transfer": method, **STANDARDS})
        for method in ("ds", "pds", "sst", "slope-bias")
    },
    "dipls": (
        "pls",
        {
            **SLAVE_TEST,
            "transfer": "dipls",
            "unlabeled": "unlabeled.csv",
            "components": 4,
            "lam": 1,
        },
    ),
    "plsda": ("plsda", {"data": "classes.csv", "target": "label", "cv": "stratified:3"}),
    "conformal": (
        "pls",
        {"cv": "none", "test": "test.csv", "calibration": "calibration.csv", "alpha": 0.1},
    ),
}


def _argv(files, model, options):
    """``MODEL --data train.csv --target conc`` and ``--key value`` for every option."""
    options = {"data": "train.csv", "target": "conc", **options}
    argv = [model]
    for key, value in options.items():
        path = isinstance(value, str) and value.endswith(".csv")
        argv += [f"--{key}", files / value if path else value]
    return argv


_DONE: dict[tuple, object] = {}


def _ran(files, name):
    """The output folder of run ``name`` (run once per module, and it must succeed)."""
    if (files, name) not in _DONE:
        model, options = RUNS[name]
        out = files / f"run_{name}"
        assert _run(*_argv(files, model, options), "--out", out) == 0, name
        _DONE[files, name] = out
    return _DONE[files, name]


def _metrics(files, name):
    return json.loads((_ran(files, name) / "metrics.json").read_text())


@pytest.mark.parametrize("name", list(RUNS))
def test_every_run_writes_metrics_and_a_report(files, name):
    out = _ran(files, name)
    assert (out / "metrics.json").is_file() and (out / "report.html").is_file()


def test_pls_cv_and_test_outputs(files):
    metrics = _metrics(files, "pls")
    assert metrics["cv"]["n_folds"] == 4 and metrics["cv"]["scheme"] == "group:sample:4"
    assert metrics["cv"]["pooled"]["rmse"] < 0.05
    assert (_ran(files, "pls") / "cv_predictions.csv").exists()


@pytest.mark.parametrize("method", ["ds", "pds", "sst", "slope-bias"])
def test_transfer_with_standards(files, method):
    m = _metrics(files, method)
    before = m["transfer"]["uncorrected_scores"]["rmse"]
    after = m["test"]["rmse"]
    assert after < before / 4, f"{method}: RMSEP slave {before:.4f} -> {after:.4f}"
    assert "calibration transfer" in (_ran(files, method) / "report.html").read_text()


def test_dipls_with_unlabeled(files):
    m = _metrics(files, "dipls")
    assert m["transfer"]["n_components"] == 4
    assert np.isfinite(m["test"]["rmse"])


def test_plsda_classification(files):
    m = _metrics(files, "plsda")
    assert m["task"] == "classification" and m["cv"]["pooled"]["accuracy"] > 0.8
    assert (_ran(files, "plsda") / "figures" / "cv_confusion.png").exists()


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
    options = {**SLAVE_TEST, "transfer": "ds", **STANDARDS, "slave": tmp_path / "few.csv"}
    assert _run(*_argv(files, "pls", options), "--out", tmp_path / "o") == 2
    assert "differ in count" in capsys.readouterr().err


def test_conformal_intervals_on_test(files):
    m = _metrics(files, "conformal")["conformal"]
    # 3.5 binomial/Beta standard deviations for 150 calibration and 300 test spectra
    sd = np.sqrt(0.1 * 0.9 * (1 / 300 + 1 / 150))
    assert abs(m["coverage"] - 0.9) < 3.5 * sd + 1 / 151
    out = _ran(files, "conformal")
    pred = pd.read_csv(out / "predictions.csv")
    inside = (pred["y_true"] >= pred["lower"]) & (pred["y_true"] <= pred["upper"])
    assert inside.mean() == pytest.approx(m["coverage"])
    assert "Split-conformal intervals" in (out / "report.html").read_text()


def test_save_stores_a_slope_bias_transfer_and_refuses_standardization(files, capsys):
    common = _argv(files, "pls", {**SLAVE_TEST, **STANDARDS})
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
