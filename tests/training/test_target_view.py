"""Target-view validation: transfer candidates ranked on simulated new-instrument spectra."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.datasets.nir import make_nir, nir_instrument_pair
from spectrakit.evaluation.protocol import strip_targets
from spectrakit.training.auto import auto_fit
from spectrakit.training.deep_recipes import fit_deep
from spectrakit.training.recipes import cv_folds
from spectrakit.training.target_view import choose, target_view

SNV_D1 = {
    "steps": [
        {"step": "SNV", "params": {}},
        {"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}},
    ]
}


def _rmse(p, y) -> float:
    return float(np.sqrt(np.mean((np.asarray(p, float) - y) ** 2)))


@pytest.fixture(scope="module")
def two_instruments():
    """30 labelled spectra of instrument A; 300 unlabeled and 200 test spectra of B."""
    master, slave = nir_instrument_pair()
    data = make_nir(530, instruments=(master, slave), seed=0)
    a = data["A"].crop(1104.0, 2492.0)
    b = data["B"].resample(a.axis.values)
    y = a.meta["analyte"].to_numpy()
    train, unl, test = np.arange(30), np.arange(30, 330), np.arange(330, 530)
    target = strip_targets(b.select(unl), ["analyte"])
    return a.select(train), y[train], target, b.select(test), y[test], b.select(train)


@pytest.fixture(scope="module")
def candidates(two_instruments):
    train, y, target, *_ = two_instruments
    folds = cv_folds(len(y), k=3, seed=0)
    choice = auto_fit(train, y, pipelines={"snv+d1": SNV_D1}, target=target, deep=(),
                      folds=folds)  # fmt: skip
    view = target_view(train, target)
    matched = fit_deep("pls_matched", train, y, pipeline=SNV_D1, folds=folds, target=target,
                       view=view)  # fmt: skip
    return [*choice.candidates, matched]


def test_view_is_the_training_spectra_as_the_new_instrument_measures_them(two_instruments):
    train, _, target, _, _, same_on_b = two_instruments
    view = target_view(train, target)
    assert view is not None and view.spectra.values.shape == train.values.shape
    np.testing.assert_allclose(view.spectra.values, view.response.transform(train.values),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    # known answer: the same samples measured on the new instrument (never seen by the fit)
    gap = lambda s: float(np.sqrt(np.mean((s.values - same_on_b.values).mean(0) ** 2)))  # noqa: E731
    assert gap(view.spectra) < gap(train)
    assert target_view(train, None) is None
    # spectra of something else entirely: the instrument model does not explain them
    noise = np.random.default_rng(0).normal(size=target.values.shape)
    assert target_view(train, target.with_values(noise.astype(np.float32))) is None


def test_target_view_picks_the_matched_candidate_where_plain_cv_does_not(
    two_instruments, candidates
):
    _, _, _, test, y_test, _ = two_instruments
    eligible = [c for c in candidates if c.kind != "pls"]
    by_cv = min(eligible, key=lambda c: (c.cv_error, not c.kind.startswith("pls")))
    chosen, by_view = choose(candidates, has_target=True)
    assert by_view and chosen.name == "pls_matched"
    assert by_cv.name != "pls_matched"
    # known answer on the new instrument's test spectra: the view's pick is the better one
    assert _rmse(chosen.predict(test, "target"), y_test) < _rmse(
        by_cv.predict(test, "target"), y_test
    )
    assert all(c.target_error is not None for c in eligible)


def test_auto_fit_ranks_transfer_candidates_on_the_view_and_says_so(two_instruments):
    train, y, target, *_ = two_instruments
    folds = cv_folds(len(y), k=3, seed=0)
    choice = auto_fit(train, y, pipelines={"snv+d1": SNV_D1}, target=target, deep=(),
                      folds=folds)  # fmt: skip
    best = min(choice.candidates, key=lambda c: c.target_error)
    assert choice.chosen is best
    assert "simulated as the new instrument" in choice.reason
    assert choice.table()["target_error"].notna().all()
