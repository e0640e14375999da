"""Transfer by centering keeps a real change of the analyte and removes an instrument offset."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.chemometrics import InstrumentMeanCentering
from spectrakit.chemometrics.label_shift import (
    analyte_signature,
    estimate_label_shift,
    unit_signature,
)
from spectrakit.core.errors import AxisError, DataError
from spectrakit.evaluation.demo_data import (
    FIELD_PIPELINE,
    drop_flat,
    match_reference,
    synthetic_fermentation,
)
from spectrakit.preprocessing import get_pipeline


def _bands(rng, n: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Analyte plus two interferents, all varying; ``shift`` moves the analyte's level."""
    x = np.linspace(0, 1, 200)
    band = [np.exp(-0.5 * ((x - m) / 0.05) ** 2) for m in (0.3, 0.35, 0.7)]
    c = rng.uniform(0, 1, (n, 3))
    c[:, 0] += shift
    return c @ np.stack(band) + rng.normal(0, 1e-3, (n, 200)), c[:, 0]


def test_a_pure_concentration_change_is_kept_in_full():
    rng = np.random.default_rng(0)
    Xs, ys = _bands(rng, 30)
    Xt, yt = _bands(rng, 200, shift=0.6)
    est = estimate_label_shift(Xs, ys, Xt)
    assert est.kept > 0.95
    assert est.shift == pytest.approx(yt.mean() - ys.mean(), abs=0.05)
    # every read-out of 1..A latent variables sees about the same change
    assert est.spread < 0.1 * abs(est.mean)
    assert "label shift" in est.describe()


def test_an_offset_the_analyte_does_not_explain_is_removed():
    """Equal label distributions, a structured offset on the new spectra: no shift kept."""
    rng = np.random.default_rng(1)
    Xs, ys = _bands(rng, 30)
    Xt, _ = _bands(rng, 200)
    x = np.linspace(0, 1, 200)
    for offset in (0.05 * x, 0.02 * np.exp(-0.5 * ((x - 0.5) / 0.08) ** 2)):  # slope, band
        est = estimate_label_shift(Xs, ys, Xt + offset)
        assert est.kept == 0.0 and est.shift == 0.0
        assert est.spread > abs(est.mean) / 3  # the read-outs disagree


def _fermentation():
    train, process, ref = synthetic_fermentation(n_process=240)
    process = drop_flat(process)
    matched = match_reference(process, ref)
    pipe = get_pipeline(FIELD_PIPELINE).fit(train)
    return train, process, matched, pipe


def test_fermentation_concentration_shift_is_estimated_from_the_spectra_alone():
    train, process, _, pipe = _fermentation()
    y = train.meta["glucose"].to_numpy()
    est = estimate_label_shift(pipe.transform(train).values, y, pipe.transform(process).values)
    minutes = process.meta["time_min"].to_numpy()
    true_shift = float(np.mean(45 * np.exp(-minutes / 700.0)) - y.mean())
    assert abs(true_shift) > 10  # the standards span 0-50 g/L, the early process is richer
    assert est.kept > 0.9
    assert est.shift == pytest.approx(true_shift, abs=1.5)


def test_unit_signature_is_read_as_one_label_unit():
    rng = np.random.default_rng(2)
    X, y = _bands(rng, 40)
    coef = np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0]

    def readout(v):
        return (v - X.mean(0)) @ coef + y.mean()

    u = unit_signature(X, y, readout)
    m = X.mean(0)
    assert readout((m + 2.5 * u)[None])[0] - readout(m[None])[0] == pytest.approx(2.5)
    assert np.corrcoef(u, analyte_signature(X, y))[0, 1] == pytest.approx(1.0)


def test_kept_change_stays_in_the_centred_spectra():
    rng = np.random.default_rng(3)
    master, slave = rng.normal(size=(10, 50)), rng.normal(size=(12, 50)) + 1.0
    keep = rng.normal(size=50)
    imc = InstrumentMeanCentering().fit(master, slave, keep=keep)
    np.testing.assert_allclose(
        imc.transform(slave).mean(axis=0), master.mean(axis=0) + keep, atol=1e-5
    )
    with pytest.raises(AxisError, match="kept mean change"):
        InstrumentMeanCentering().fit(master, slave, keep=keep[:10])


def test_label_shift_refuses_mismatched_inputs():
    rng = np.random.default_rng(4)
    with pytest.raises(DataError, match="label-shift"):
        estimate_label_shift(rng.normal(size=(10, 20)), np.arange(9.0), rng.normal(size=(5, 20)))
    with pytest.raises(DataError, match="label-shift"):
        estimate_label_shift(rng.normal(size=(10, 20)), np.arange(10.0), rng.normal(size=(5, 21)))
    with pytest.raises(DataError, match="labels that vary"):
        analyte_signature(rng.normal(size=(10, 20)), np.ones(10))
