"""Split-conformal coverage reaches the nominal level within binomial sampling error."""

import numpy as np
import pandas as pd
import pytest

from spectrakit import ConfigError, DataError
from spectrakit.chemometrics import PLSRegressor, make_baseline
from spectrakit.datasets import MeasurementSettings, MixtureSettings
from spectrakit.datasets.synthetic import make_synthetic
from spectrakit.evaluation import ConformalClassifier, ConformalRegressor, conformal_quantile

N_TRAIN, N_CAL, N_TEST = 300, 800, 1500
AXIS = (400.0, 1800.0, 250)


def _tolerance(alpha: float) -> float:
    # coverage given the calibration set is Beta-distributed around 1 - alpha (variance
    # ~ alpha(1-alpha)/n_cal), the test fraction adds binomial noise: 3.5 sigma of both,
    # plus the 1/(n_cal+1) upward step of the finite-sample quantile
    sd = np.sqrt(alpha * (1 - alpha) * (1 / N_TEST + 1 / N_CAL))
    return 3.5 * sd + 1 / (N_CAL + 1)


@pytest.fixture(scope="module")
def regression_split():
    s = make_synthetic(
        N_TRAIN + N_CAL + N_TEST,
        axis=AXIS,
        mixture=MixtureSettings(n_components=3),
        measurement=MeasurementSettings(read_noise=20.0),
        seed=5,
    )
    idx = np.arange(s.n_spectra)
    return (
        s.select(idx[:N_TRAIN]),
        s.select(idx[N_TRAIN : N_TRAIN + N_CAL]),
        s.select(idx[N_TRAIN + N_CAL :]),
    )


@pytest.fixture(scope="module")
def classification_split():
    s = make_synthetic(
        N_TRAIN + N_CAL + N_TEST,
        task="classification",
        axis=AXIS,
        mixture=MixtureSettings(n_components=3, n_classes=3, class_spread=0.9),
        measurement=MeasurementSettings(read_noise=30.0),
        seed=6,
    )
    idx = np.arange(s.n_spectra)
    return (
        s.select(idx[:N_TRAIN]),
        s.select(idx[N_TRAIN : N_TRAIN + N_CAL]),
        s.select(idx[N_TRAIN + N_CAL :]),
    )


def test_quantile_finite_sample_rank():
    scores = np.arange(1.0, 11.0)  # n = 10
    assert conformal_quantile(scores, 0.2) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert conformal_quantile(scores, 0.5) == 6.0  # ceil(5.5) = 6
    with pytest.raises(DataError, match="too few calibration spectra"):
        conformal_quantile(scores, 0.05)  # ceil(11 * .95) = 11 > 10
    with pytest.raises(ConfigError):
        conformal_quantile(scores, 1.5)


@pytest.fixture(scope="module")
def regressor(regression_split):
    return PLSRegressor(n_components=3).fit(regression_split[0], "c_comp0")


@pytest.fixture(scope="module")
def classifier(classification_split):
    return make_baseline("ridge", "classification").fit(classification_split[0], "label")


@pytest.mark.parametrize("alpha", [0.1, 0.2])
def test_regression_intervals_reach_nominal_coverage(regression_split, regressor, alpha):
    _, cal, test = regression_split
    model = regressor
    conf = ConformalRegressor(model, alpha=alpha).calibrate(cal, cal.meta["c_comp0"])
    report = conf.evaluate(test, test.meta["c_comp0"])
    assert report["coverage"] == pytest.approx(1 - alpha, abs=_tolerance(alpha))
    assert report["mean_width"] > 0
    print(f"alpha={alpha}: coverage {report['coverage']:.3f}, width {report['mean_width']:.3f}")


def test_narrower_intervals_at_higher_alpha(regression_split, regressor):
    _, cal, _ = regression_split
    model = regressor
    w = [
        ConformalRegressor(model, alpha=a).calibrate(cal, cal.meta["c_comp0"]).quantile_
        for a in (0.05, 0.2)
    ]
    assert w[0] > w[1]


@pytest.mark.parametrize("alpha", [0.1, 0.2])
@pytest.mark.parametrize("method", ["lac", "aps"])
def test_classification_sets_reach_nominal_coverage(
    classification_split, classifier, alpha, method
):
    _, cal, test = classification_split
    model = classifier
    conf = ConformalClassifier(model, alpha=alpha, method=method)
    report = conf.calibrate(cal, cal.meta["label"]).evaluate(test, test.meta["label"])
    tol = _tolerance(alpha)
    assert report["coverage"] >= 1 - alpha - tol
    if method == "lac":
        assert report["coverage"] <= 1 - alpha + tol
    assert 0.5 < report["mean_set_size"] < 2.5  # LAC may return empty sets when confident
    print(f"{method} alpha={alpha}: coverage {report['coverage']:.3f}")


class _FramePredictor:
    """Stand-in for a loaded bundle: predict returns a DataFrame with proba_ columns."""

    def __init__(self, model):
        self.model = model

    def predict(self, X):
        P = self.model.predict_proba(X)
        return pd.DataFrame({f"proba_{c}": P[:, i] for i, c in enumerate(self.model.classes_)})


def test_works_with_predictor_style_frames(classification_split, classifier):
    _, cal, test = classification_split
    inner = classifier
    direct = ConformalClassifier(inner, 0.1).calibrate(cal, cal.meta["label"])
    framed = ConformalClassifier(_FramePredictor(inner), 0.1).calibrate(cal, cal.meta["label"])
    assert framed.quantile_ == pytest.approx(direct.quantile_)
    assert np.array_equal(framed.predict_set(test), direct.predict_set(test))


def test_uncalibrated_is_an_error(regression_split, regressor):
    with pytest.raises(ConfigError, match="not calibrated"):
        ConformalRegressor(regressor).predict_interval(regression_split[2])
