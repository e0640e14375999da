"""Stateful preprocessing fitted inside folds gives honest (worse) scores than fitting on all."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from spectrakit import Spectra
from spectrakit.chemometrics import PLSDA, PLSRegressor, SpectralEstimator
from spectrakit.data.splits import get_splitter
from spectrakit.evaluation import cross_validate
from spectrakit.preprocessing import MSC, Pipeline, Standardize


def _scatter_set(seed: int, n: int = 30, p: int = 150) -> Spectra:
    """Three Gaussian bands with multiplicative scatter, additive offsets and noise."""
    rng = np.random.default_rng(seed)
    pos = np.linspace(0.0, 1.0, p)
    pure = np.stack([np.exp(-0.5 * ((pos - c) / 0.03) ** 2) for c in (0.3, 0.5, 0.7)])
    conc = rng.uniform(0, 1, (n, 3))
    X = (conc @ pure) * rng.uniform(0.7, 1.3, (n, 1)) + rng.uniform(-0.2, 0.2, (n, 1))
    X += rng.normal(0, 0.01, (n, p))
    return Spectra(X, 400 + 1000 * pos, meta={"y": conc[:, 0]})


def _pipeline() -> Pipeline:
    return Pipeline([("msc", MSC()), ("std", Standardize())])


def _model() -> PLSRegressor:
    return PLSRegressor(n_components=4)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_in_fold_preprocessing_is_honest(seed):
    spectra = _scatter_set(seed)
    honest = cross_validate(_model, spectra, "y", "kfold:5", pipeline=_pipeline())
    # the mistake: MSC reference and scaler learned from all spectra, test folds included
    leaked_input = _pipeline().fit(spectra).transform(spectra)
    leaked = cross_validate(_model, leaked_input, "y", "kfold:5")
    assert honest.scores["rmse"] != pytest.approx(leaked.scores["rmse"], rel=1e-3)
    assert honest.scores["rmse"] > leaked.scores["rmse"]  # in-fold is never the better one


def test_cross_validate_refits_pipeline_per_fold():
    spectra = _scatter_set(0)
    res = cross_validate(
        SpectralEstimator(_model(), pipeline=_pipeline()),
        spectra,
        "y",
        "kfold:5",
        return_estimators=True,
    )
    refs = [est.model_["preprocess"].named_steps["msc"].reference_ for est in res.estimators]
    assert len(refs) == 5
    # each fold learned its own MSC reference from its own training spectra
    for i, (train, _) in enumerate(get_splitter("kfold:5").split(spectra)):
        expected = spectra.values[train].astype(float).mean(axis=0)
        assert np.allclose(refs[i], expected, atol=1e-4)
    assert not np.allclose(refs[0], refs[1])
    assert sorted(res.predictions["index"]) == list(range(spectra.n_spectra))


@parametrize_with_checks(
    [
        PLSRegressor(n_components=2),
        PLSRegressor(max_components=3, cv=3),
        PLSDA(n_components=2),
        SpectralEstimator(Ridge(), pipeline=StandardScaler()),
        SpectralEstimator(LogisticRegression(), pipeline=StandardScaler()),
    ]
)
def test_baselines_follow_the_sklearn_contract(estimator, check):
    # cloning per fold is only honest if estimators keep parameters and state apart
    check(estimator)
