"""Calibration transfer on a synthetic two-instrument set with a known shift and broadening.

Master: four Gaussian bands. Slave: the same samples with every band shifted by +4 cm-1,
broadened by 50 %, 20 % less sensitive and on a sloping background. A PLS model is built
on master spectra only; 12 transfer standards are measured on both instruments.
"""

import numpy as np
import pytest

from spectrakit import AxisError, DataError, Spectra
from spectrakit.chemometrics import (
    DIPLS,
    DirectStandardization,
    InstrumentMeanCentering,
    PiecewiseDirectStandardization,
    PLSRegressor,
    SlopeBiasCorrection,
    SpectralSpaceTransformation,
)

AXIS = np.arange(1000.0, 1400.0, 2.0)
BANDS = [(1100.0, 8.0), (1180.0, 10.0), (1250.0, 6.0), (1300.0, 12.0)]
SLAVE = {"shift": 4.0, "broaden": 1.5, "gain": 0.8, "slope": 0.3}


def measure(C, rng, shift=0.0, broaden=1.0, gain=1.0, slope=0.0, noise=0.01, interferent=0.0):
    pure = np.stack([np.exp(-0.5 * ((AXIS - (c + shift)) / (w * broaden)) ** 2) for c, w in BANDS])
    X = gain * (C @ pure) + slope * (AXIS - 1000) / 400 + rng.normal(0, noise, (len(C), AXIS.size))
    if interferent:  # an uncalibrated band overlapping the analyte, plus random slopes
        X += rng.uniform(0, interferent, (len(C), 1)) * np.exp(-0.5 * ((AXIS - 1115) / 15) ** 2)
        X += rng.uniform(-interferent, interferent, (len(C), 1)) * (AXIS - 1000) / 400
    return X


def conc(n, rng):
    return rng.uniform(0.1, 1.0, (n, 4))


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(0)
    c_cal, c_std, c_test = conc(60, rng), conc(12, rng), conc(100, rng)
    data = {
        "cal": measure(c_cal, rng),
        "y_cal": c_cal[:, 0],
        "master_std": measure(c_std, rng),
        "slave_std": measure(c_std, rng, **SLAVE),
        "y_std": c_std[:, 0],
        "master_test": measure(c_test, rng),
        "slave_test": measure(c_test, rng, **SLAVE),
        "y_test": c_test[:, 0],
        "rng": rng,
    }
    data["model"] = PLSRegressor(max_components=8).fit(data["cal"], data["y_cal"])
    return data


def rmsep(model, X, y):
    return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))


@pytest.mark.parametrize(
    "standardizer",
    [
        DirectStandardization(ridge=1e-3),
        DirectStandardization(rank=8),
        PiecewiseDirectStandardization(half_width=3),
        PiecewiseDirectStandardization(half_width=2, local="pls", n_components=2),
        SpectralSpaceTransformation(),
    ],
    ids=["DS-ridge", "DS-rank", "PDS-ridge", "PDS-pls", "SST"],
)
def test_standardization_recovers_transfer_loss(setup, standardizer):
    m, y = setup["model"], setup["y_test"]
    master = rmsep(m, setup["master_test"], y)
    raw = rmsep(m, setup["slave_test"], y)
    standardizer.fit(setup["master_std"], setup["slave_std"])
    fixed = rmsep(m, standardizer.transform(setup["slave_test"]), y)
    recovered = (raw - fixed) / (raw - master)
    print(f"{standardizer!r}: master {master:.4f}, slave raw {raw:.4f}, corrected {fixed:.4f}")
    assert raw > 8 * master  # the instrument change breaks the model
    assert fixed < 1.6 * master  # and the correction restores it
    assert recovered > 0.9


def test_slope_bias_correction(setup):
    m, y = setup["model"], setup["y_test"]
    raw = rmsep(m, setup["slave_test"], y)
    sb = SlopeBiasCorrection().fit(m.predict(setup["slave_std"]), setup["y_std"])
    fixed = float(np.sqrt(np.mean((sb.transform(m.predict(setup["slave_test"])) - y) ** 2)))
    assert fixed < raw / 5
    assert sb.slope_ != pytest.approx(1.0, abs=0.05)


def test_pds_is_banded_and_keeps_spectra(setup):
    pds = PiecewiseDirectStandardization(half_width=2)
    master = Spectra(setup["master_std"], AXIS)
    slave = Spectra(setup["slave_std"], AXIS)
    pds.fit(master, slave)
    rows, cols = np.nonzero(pds.F_)
    assert np.abs(rows - cols).max() <= 2
    out = pds.transform(Spectra(setup["slave_test"], AXIS))
    assert isinstance(out, Spectra) and out.axis == master.axis


def test_transfer_errors_are_clear(setup):
    with pytest.raises(DataError, match="differ in count"):
        DirectStandardization().fit(setup["master_std"], setup["slave_std"][:-1])
    master = Spectra(setup["master_std"], AXIS)
    slave = Spectra(setup["slave_std"], AXIS + 0.5)
    with pytest.raises(AxisError, match="different axes"):
        PiecewiseDirectStandardization().fit(master, slave)
    with pytest.raises(AxisError, match="different lengths"):
        SpectralSpaceTransformation().fit(setup["master_std"], setup["slave_std"][:, :-1])


def test_mean_centering_removes_constant_offset(setup):
    rng = np.random.default_rng(3)
    c_unl, c_test = conc(80, rng), conc(100, rng)
    offset = 0.2 * np.sin(AXIS / 40.0)  # instrument background, same for every spectrum
    unlabeled = measure(c_unl, rng) + offset
    test = measure(c_test, rng) + offset
    m = setup["model"]
    raw = rmsep(m, test, c_test[:, 0])
    fixed = rmsep(
        m, InstrumentMeanCentering().fit(setup["cal"], unlabeled).transform(test), c_test[:, 0]
    )
    assert fixed < raw / 5


def test_dipls_beats_pls_on_shifted_domain(setup):
    rng = np.random.default_rng(7)
    target = {"interferent": 0.8}
    unlabeled = measure(conc(80, rng), rng, **target)  # target domain, no reference values
    c_test = conc(100, rng)
    test = measure(c_test, rng, **target)
    y = c_test[:, 0]
    plain = rmsep(setup["model"], test, y)
    dipls = DIPLS(n_components=4, lam=100.0).fit(setup["cal"], setup["y_cal"], unlabeled)
    invariant = float(np.sqrt(np.mean((dipls.predict(test) - y) ** 2)))
    no_penalty = DIPLS(n_components=4, lam=0.0).fit(setup["cal"], setup["y_cal"], unlabeled)
    centered_only = float(np.sqrt(np.mean((no_penalty.predict(test) - y) ** 2)))
    print(
        f"target domain: PLS {plain:.4f}, di-PLS(lam=0) {centered_only:.4f}, "
        f"di-PLS(lam=100) {invariant:.4f}"
    )
    assert invariant < plain / 3
    assert invariant < centered_only / 2  # the invariance penalty itself does the work


def test_dipls_lam_zero_source_equals_pls(setup):
    # with lam=0 and the source domain, di-PLS is ordinary PLS (NIPALS PLS1)
    d = DIPLS(n_components=3, lam=0.0).fit(setup["cal"], setup["y_cal"], setup["slave_test"])
    p = PLSRegressor(n_components=3).fit(setup["cal"], setup["y_cal"])
    assert np.allclose(
        d.predict(setup["master_test"], domain="source"), p.predict(setup["master_test"]), atol=1e-8
    )
