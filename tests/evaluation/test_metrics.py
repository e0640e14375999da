import numpy as np
import pytest
from sklearn import metrics as skm

from spectrakit import DataError
from spectrakit.evaluation.metrics import (
    bias,
    classification_metrics,
    expected_calibration_error,
    mae,
    r2,
    regression_metrics,
    rmse,
    rpd,
    sep,
)


def test_regression_hand_computed():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.5, 2.5, 4.5])  # errors +0.5, +0.5, -0.5, +0.5
    assert rmse(y, p) == pytest.approx(0.5)
    assert mae(y, p) == pytest.approx(0.5)
    assert bias(y, p) == pytest.approx(0.25)
    # SEP: deviations from the bias: .25, .25, -.75, .25 -> sum sq = 0.75, /(n-1) = 0.25
    assert sep(y, p) == pytest.approx(0.5)
    assert r2(y, p) == pytest.approx(1 - 1.0 / 5.0)
    # RPD = SD(y) / SEP = 1.2909944 / 0.5
    assert rpd(y, p) == pytest.approx(np.std(y, ddof=1) / 0.5)


def test_regression_matches_sklearn_and_identity():
    rng = np.random.default_rng(0)
    y = rng.normal(10, 3, 200)
    p = y + rng.normal(0.7, 1.0, 200)
    m = regression_metrics(y, p)
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(y, p))
    assert m["r2"] == pytest.approx(skm.r2_score(y, p))
    # RMSE^2 = SEP^2 (n-1)/n + bias^2
    assert m["rmse"] ** 2 == pytest.approx(m["sep"] ** 2 * 199 / 200 + m["bias"] ** 2)
    assert m["bias"] == pytest.approx(0.7, abs=0.2)


def test_regression_bad_input():
    with pytest.raises(DataError, match="differ in length"):
        rmse([1, 2], [1])
    with pytest.raises(DataError, match="missing or infinite"):
        rmse([1, np.nan], [1, 2])


def test_classification_known_answers():
    y = np.array(["a", "a", "a", "a", "b", "b", "c", "c"])
    p = np.array(["a", "a", "a", "b", "b", "b", "c", "a"])
    m = classification_metrics(y, p)
    assert m["accuracy"] == pytest.approx(6 / 8)
    # recalls: a 3/4, b 2/2, c 1/2 -> mean 0.75
    assert m["balanced_accuracy"] == pytest.approx((0.75 + 1.0 + 0.5) / 3)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, p))
    assert m["macro_f1"] == pytest.approx(skm.f1_score(y, p, average="macro"))
    assert m["confusion_matrix"] == [[3, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["per_class"]["a"]["precision"] == pytest.approx(3 / 4)
    assert m["per_class"]["c"]["recall"] == pytest.approx(1 / 2)


def test_roc_auc_ovr_matches_sklearn():
    rng = np.random.default_rng(3)
    y = rng.choice(["x", "y", "z"], 300)
    P = rng.dirichlet([1, 1, 1], 300)
    P[np.arange(300), np.searchsorted(["x", "y", "z"], y)] += 0.5
    P /= P.sum(axis=1, keepdims=True)
    pred = np.array(["x", "y", "z"])[P.argmax(axis=1)]
    m = classification_metrics(y, pred, P, classes=["x", "y", "z"])
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, P, multi_class="ovr"))
    assert 0.5 < m["roc_auc"] <= 1.0


def test_ece_hand_computed():
    # two confidence bins: 0.9 (2 samples, 1 correct -> |0.5-0.9| = 0.4),
    # 0.6 (2 samples, 2 correct -> |1 - 0.6| = 0.4) -> ECE 0.4
    classes = ["a", "b"]
    P = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    y = np.array(["a", "b", "a", "b"])
    assert expected_calibration_error(y, P, classes) == pytest.approx(0.4)


def test_ece_perfectly_calibrated_is_small():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.5, 1.0, 20000)
    correct = rng.uniform(size=conf.size) < conf
    P = np.c_[conf, 1 - conf]
    y = np.where(correct, "a", "b")
    assert expected_calibration_error(y, P, ["a", "b"]) < 0.02
