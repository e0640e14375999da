"""PLS on the chemotools fermentation set reproduces the published pipeline's figures.

Published pipeline (chemotools documentation, "Training a regression model" / "Brewing a PLS
regressor"): range cut 950-1500 cm-1, linear (end-point) baseline correction,
Savitzky-Golay first derivative (window 15, order 2), mean-centering, PLS with the number of
components chosen by 10-fold cross-validation on the 21 standards (6 in the documentation).
The model is then applied to the on-line spectra of the fermentation.

Here it is built from spectrakit steps. The stored axis is rounded to whole wavenumbers
(spacing jumps between 1 and 2 cm-1), so the cropped spectra are put on a uniform grid with
the instrument's mean spacing, 1.343 cm-1 = (1833 - 428) / 1046, before the derivative.
Each HPLC time is matched to its on-line spectrum (1.25 min per spectrum) and the spectra
+-5 around it are averaged. Known figures: RMSEP about 5.4 g/L with a bias of about +3 g/L
(predictions above the HPLC values).
"""

import warnings

import numpy as np
import pytest

from spectrakit import Spectra
from spectrakit.chemometrics import PLSRegressor, make_baseline
from spectrakit.evaluation.metrics import regression_metrics
from spectrakit.preprocessing import (
    Crop,
    LinearCorrection,
    MeanCenter,
    Pipeline,
    Resample,
    SavitzkyGolay,
)

pytest.importorskip("chemotools", reason="the fermentation data ship with chemotools")
from spectrakit.datasets import load_fermentation, load_fermentation_reference

MIN_PER_SPECTRUM = 1.25
HALF_WINDOW = 5


def published_pipeline() -> Pipeline:
    return Pipeline(
        [
            ("range_cut", Crop(950.0, 1500.0)),
            ("uniform_grid", Resample(start=950.0, stop=1499.0, step=1.343)),
            ("linear_correction", LinearCorrection()),
            ("sg_derivative", SavitzkyGolay(window=15, polyorder=2, deriv=1)),
            ("mean_center", MeanCenter()),
        ]
    )


@pytest.fixture(scope="module")
def fermentation():
    train = load_fermentation("train")
    online = load_fermentation("test")
    ref = load_fermentation_reference()
    idx = np.rint(ref["time_min"].to_numpy() / MIN_PER_SPECTRUM).astype(int)
    assert len(idx) == 34 and idx.max() < online.n_spectra
    averaged = np.stack(
        [online.values[max(0, i - HALF_WINDOW) : i + HALF_WINDOW + 1].mean(axis=0) for i in idx]
    )
    test = Spectra(averaged, online.axis, meta={"glucose": ref["glucose"].to_numpy()})
    return train, test


@pytest.fixture(scope="module")
def fitted(fermentation):
    train, test = fermentation
    model = make_baseline("pls", pipeline=published_pipeline(), max_components=10, cv=10)
    model.fit(train, "glucose")
    pred = model.predict(test)
    return model, pred, regression_metrics(test.meta["glucose"], pred)


def test_reproduces_published_figures(fitted):
    model, _, m = fitted
    print(
        f"fermentation PLS: {model.model_[-1].n_components_} LV, RMSEP {m['rmse']:.2f} g/L, "
        f"bias {m['bias']:+.2f} g/L, SEP {m['sep']:.2f}, R2 {m['r2']:.3f}"
    )
    assert model.model_[-1].n_components_ == 6  # as chosen by CV in the documentation
    assert m["rmse"] == pytest.approx(5.4, abs=0.6)  # measured 5.50 g/L
    assert m["bias"] == pytest.approx(3.0, abs=1.0)  # measured +3.23 g/L
    assert m["sep"] < m["rmse"]  # most of the error is the bias


def test_cross_check_with_chemotools_transformers(fitted, fermentation):
    """The same pipeline from chemotools' own transformers gives nearly the same figures."""
    from chemotools.baseline import LinearCorrection
    from chemotools.derivative import SavitzkyGolay as CtSavitzkyGolay
    from chemotools.feature_selection import RangeCut
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, test = fermentation
    _, pred, ours = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        reference = make_pipeline(
            RangeCut(start=950, end=1500, wavenumbers=train.axis.values),
            LinearCorrection(),
            CtSavitzkyGolay(window_length=15, polyorder=2, deriv=1),
            StandardScaler(with_std=False),
            PLSRegression(n_components=6, scale=False),
        ).fit(train.values, train.meta["glucose"].to_numpy())
        theirs = regression_metrics(test.meta["glucose"], reference.predict(test.values).ravel())
    print(f"chemotools pipeline: RMSEP {theirs['rmse']:.2f}, bias {theirs['bias']:+.2f}")
    assert ours["rmse"] == pytest.approx(theirs["rmse"], abs=0.5)
    assert ours["bias"] == pytest.approx(theirs["bias"], abs=0.6)
    assert np.corrcoef(pred, reference.predict(test.values).ravel())[0, 1] > 0.98


def test_our_pls_matches_sklearn_on_the_preprocessed_standards(fermentation):
    from sklearn.cross_decomposition import PLSRegression

    train, _ = fermentation
    X = published_pipeline().fit_transform(train).values.astype(float)
    y = train.meta["glucose"].to_numpy()
    ours = PLSRegressor(n_components=6).fit(X, y).predict(X)
    ref = PLSRegression(n_components=6, scale=False).fit(X, y).predict(X).ravel()
    assert np.allclose(ours, ref, atol=1e-3 * np.ptp(y))
