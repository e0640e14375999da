"""Local-level smoother: known answer (penalised least squares), ML variances, bad input."""

import numpy as np
import pytest

from spectrakit.chemometrics.local_level import _filter, _smooth, fit_local_level
from spectrakit.core.errors import DataError


def _penalised(p: np.ndarray, lam: float) -> np.ndarray:
    """Reference: argmin |p - mu|^2 + lam |D mu|^2 by a dense solve."""
    n = p.size
    d = np.diff(np.eye(n), axis=0)
    return np.linalg.solve(np.eye(n) + lam * d.T @ d, p)


@pytest.mark.parametrize("q", [1e-3, 0.1, 5.0])
def test_smoother_equals_penalised_least_squares(q):
    p = np.random.default_rng(1).normal(size=40).cumsum()
    a, v, _, _ = _filter(p, q)
    np.testing.assert_allclose(_smooth(a, v, q), _penalised(p, 1.0 / q), atol=1e-9)


def test_ml_variances_recover_the_simulated_ones():
    rng = np.random.default_rng(0)
    level = 20 + rng.normal(0, 0.3, 2000).cumsum()
    p = level + rng.normal(0, 2.0, level.size)
    fit = fit_local_level(p)
    assert 3.0 < fit.noise_var < 5.5  # true 4.0
    assert 0.04 < fit.level_var < 0.16  # true 0.09
    raw = np.sqrt(np.mean((p - level) ** 2))
    assert np.sqrt(np.mean((fit.smoothed - level) ** 2)) < 0.5 * raw


def test_a_constant_level_with_noise_is_smoothed_flat():
    p = 7.0 + np.random.default_rng(2).normal(0, 1.0, 500)
    fit = fit_local_level(p)
    assert np.ptp(fit.smoothed) < 0.5
    assert abs(fit.smoothed.mean() - 7.0) < 0.2


@pytest.mark.parametrize("bad", [np.ones(2), np.ones((3, 2)), np.array([1.0, np.nan, 2.0])])
def test_bad_series_is_refused_in_one_line(bad):
    with pytest.raises(DataError, match="expected a finite 1-D series"):
        fit_local_level(bad)
