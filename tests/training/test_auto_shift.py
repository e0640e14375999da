"""The automatic choice's transfer candidates keep the estimated label shift."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.chemometrics import DIPLS, InstrumentMeanCentering
from spectrakit.datasets.nir import make_nir, nir_instrument_pair
from spectrakit.evaluation.demo_data import (
    FIELD_PIPELINE,
    drop_flat,
    match_reference,
    synthetic_fermentation,
)
from spectrakit.preprocessing import get_pipeline
from spectrakit.training.auto import pls_estimator
from spectrakit.training.auto_shift import (
    analyte_preserving_centering,
    keep_shift_in_dipls,
    keep_shift_in_scores,
)
from spectrakit.training.folds import cv_folds
from spectrakit.training.scorenet import ScoreRecipe, fit_scorenet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

D1 = {"steps": [{"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}}]}


@pytest.fixture(scope="module")
def fermentation():
    """Standards 0-50 g/L; an early process (+12 g/L richer on average) with ethanol, drift."""
    train, process, ref = synthetic_fermentation(n_process=240)
    process = drop_flat(process)
    matched = match_reference(process, ref)
    target = sk.Spectra(process.values, process.axis)
    return train, train.meta["glucose"].to_numpy(), target, matched


def test_centering_that_keeps_the_shift_predicts_the_process_level(fermentation):
    """Full centering moves the process mean onto the standards' mean (bias ~ -shift)."""
    train, y, target, matched = fermentation
    est = pls_estimator(FIELD_PIPELINE).fit(train, y)
    kept, shift = analyte_preserving_centering(est, train, y, target)
    full = InstrumentMeanCentering().fit(train, target)
    truth = matched.meta["glucose"].to_numpy()
    bias_kept = np.mean(est.predict(kept.transform(matched)) - truth)
    bias_full = np.mean(est.predict(full.transform(matched)) - truth)
    assert abs(bias_full) > 8
    assert abs(bias_kept) < 2
    # the predicted mean of the process spectra is the standards' mean plus the shift
    assert np.mean(est.predict(kept.transform(target))) == pytest.approx(
        y.mean() + shift.shift, rel=1e-6
    )


def test_equal_distribution_instrument_shift_centering_still_helps():
    master, slave = nir_instrument_pair()
    data = make_nir(570, instruments=(master, slave), seed=0)
    a = data["A"].crop(1104.0, 2492.0)
    b = data["B"].resample(a.axis.values)
    y_all = a.meta["analyte"].to_numpy()
    tr, unl, te = np.arange(40), np.arange(40, 540), np.arange(540, 570)
    train, y = a.select(tr), y_all[tr]
    est = pls_estimator(D1).fit(train, y)
    target = sk.Spectra(b.values[unl], b.axis)
    kept, shift = analyte_preserving_centering(est, train, y, target)
    full = InstrumentMeanCentering().fit(train, target)
    test, yt = b.select(te), y_all[te]

    def rmse(pred):
        return float(np.sqrt(np.mean((np.ravel(pred) - yt) ** 2)))

    plain, e_full = rmse(est.predict(test)), rmse(est.predict(full.transform(test)))
    e_kept = rmse(est.predict(kept.transform(test)))
    assert e_full < 0.8 * plain  # the instrument offset is what centering removes
    assert e_kept <= 1.05 * e_full
    assert abs(shift.shift) < 0.5 * np.std(y)


def test_dipls_target_centre_keeps_the_shift(fermentation):
    train, y, target, matched = fermentation
    pipe = get_pipeline(FIELD_PIPELINE).fit(train)
    Zs, Zt, Zq = (pipe.transform(s).values for s in (train, target, matched))
    model = DIPLS(n_components=2, lam=0.0).fit(Zs, y, Zt)
    truth = matched.meta["glucose"].to_numpy()
    assert abs(np.mean(model.predict(Zq, domain="target") - truth)) > 8  # centred: erased
    shift = keep_shift_in_dipls(model, Zs, y, Zt)
    assert model.predict(Zt, domain="target").mean() == pytest.approx(y.mean() + shift.shift)
    assert abs(np.mean(model.predict(Zq, domain="target") - truth)) < 2
    # the source side is untouched
    np.testing.assert_allclose(model.predict(Zs, domain="source").mean(), y.mean(), rtol=1e-9)


def test_adapted_score_network_keeps_the_shift(fermentation):
    train, y, target, matched = fermentation
    rec = ScoreRecipe(steps=(0, 30), ensemble=1)
    m = fit_scorenet(pls_estimator(FIELD_PIPELINE), train, y, recipe=rec, target=target,
                     folds=cv_folds(len(y), k=3, seed=0), seed=0)  # fmt: skip
    assert m.adapted
    truth = matched.meta["glucose"].to_numpy()
    assert abs(np.mean(m.predict(matched, "target") - truth)) > 8  # centred: erased
    shift = keep_shift_in_scores(m, train, y, target)
    assert shift.kept > 0.9
    assert abs(np.mean(m.predict(matched, "target") - truth)) < 2
    assert np.mean(m.predict(target, "target")) == pytest.approx(y.mean() + shift.shift, abs=1.0)
