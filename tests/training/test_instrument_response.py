"""Instrument response from unlabeled spectra: known distortions are recovered and undone."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import DataError
from spectrakit.training.instrument import _distort, fit_instrument_response


def _spectra(n, seed, length=300):
    rng = np.random.default_rng(seed)
    x = np.arange(length, dtype=np.float64)
    centres = np.array([60.0, 110.0, 150.0, 220.0])
    conc = rng.uniform(0.2, 1.0, size=(n, len(centres)))
    bands = np.exp(-0.5 * ((x[None, :] - centres[:, None]) / 6.0) ** 2)
    return conc @ bands + 0.1


def test_recovers_a_known_shift_broadening_and_response():
    src, tgt_samples = _spectra(40, 0), _spectra(300, 1)
    u = np.linspace(-1, 1, src.shape[1])
    target = _distort(tgt_samples, 1.5, 2.0) * (1.05 + 0.04 * u) + 0.02
    fit = fit_instrument_response(src, target)
    assert fit.shift == pytest.approx(1.5, abs=0.15)
    assert fit.width == pytest.approx(2.0, abs=0.3)
    assert fit.explains
    # the same samples, simulated on the target instrument, match their real measurement
    sim = fit.transform(tgt_samples)
    err = np.sqrt(np.mean((sim - target) ** 2)) / target.std()
    raw = np.sqrt(np.mean((tgt_samples - target) ** 2)) / target.std()
    assert err < 0.1 * raw


def test_identical_instruments_fit_no_distortion():
    src, tgt = _spectra(40, 2), _spectra(300, 3)
    fit = fit_instrument_response(src, tgt)
    assert abs(fit.shift) < 0.15 and fit.width < 0.5
    if fit.explains:  # then the simulated spectra keep their shape
        sim = fit.transform(src)
        r = [np.corrcoef(a, b)[0, 1] for a, b in zip(sim, src, strict=True)]
        assert min(r) > 0.99


def test_a_difference_it_cannot_explain_is_flagged():
    rng = np.random.default_rng(4)
    src = _spectra(40, 5)
    tgt = rng.normal(size=(200, src.shape[1])).cumsum(axis=1)  # unrelated spectra
    assert not fit_instrument_response(src, tgt).explains


def test_bad_input_is_one_clear_error():
    with pytest.raises(DataError, match="axis"):
        fit_instrument_response(np.ones((5, 50)), np.ones((5, 40)))
    with pytest.raises(DataError, match="at least 2"):
        fit_instrument_response(np.ones((1, 50)), np.ones((5, 50)))


def test_an_additive_curved_response_is_recovered():
    """A detector response is additive in absorbance: a curved baseline, not a gain curve."""
    src, tgt_samples = _spectra(40, 6), _spectra(300, 7)
    u = np.linspace(-1, 1, src.shape[1])
    target = _distort(tgt_samples, -1.0, 1.5) + 0.03 + 0.02 * u - 0.05 * u**2
    fit = fit_instrument_response(src, target)
    assert fit.shift == pytest.approx(-1.0, abs=0.15)
    assert fit.width == pytest.approx(1.5, abs=0.3)
    assert fit.residual < 0.01 and fit.explains
    np.testing.assert_allclose(fit.coef[2:], [0.03, 0.02, -0.05], atol=0.01)
