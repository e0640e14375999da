"""The asPLS objective and weights against their definition, written out with SciPy.

``Phi(z; z) = sum (w / alpha) (y - z)^2 + lam |D z|^2`` with ``r = y - z``, ``sigma`` the
ddof=1 spread of the negative residuals, ``w = expit(-k (r - sigma) / sigma)`` and
``alpha = max(|r| / max |r|, eps)`` (Zhang et al. 2020, as pybaselines weights it; the
floor keeps ``w / alpha`` finite where the baseline passes through the spectrum).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from test_aspls_fast import raman_spectra

from spectrakit.preprocessing.baseline import AsPLS
from spectrakit.preprocessing.baseline._aspls_objective import aspls_objective, aspls_weights

EPS = float(np.finfo(float).eps)


def definition(y: np.ndarray, z: np.ndarray, lam: float, k: float, d: int) -> float:
    """The objective of one baseline, term by term (no shared code with the module)."""
    r = y - z
    sigma = np.std(r[r < 0], ddof=1)
    w = expit(-(k / sigma) * (r - sigma))
    alpha = np.maximum(np.abs(r) / np.abs(r).max(), EPS)  # r is 0 where z passes through y
    return float(np.sum(w / alpha * r**2) + lam * np.sum(np.diff(z, d) ** 2))


@pytest.mark.parametrize(("lam", "k", "d"), [(1e5, 0.5, 2), (1e3, 2.0, 1), (1e7, 0.5, 3)])
def test_objective_matches_its_definition(lam, k, d):
    Y = raman_spectra(6, seed=5)
    Z = AsPLS(lam=lam, asymmetric_coef=k, diff_order=d, method="reference").baseline(Y)
    got = aspls_objective(Y, Z, lam, k, d)
    want = [definition(y, z, lam, k, d) for y, z in zip(Y, Z, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert aspls_objective(Y[2], Z[2], lam, k, d) == pytest.approx(want[2], rel=1e-9)


def test_weights_match_their_definition_and_keep_the_shape():
    Y = raman_spectra(3, seed=6)
    Z = AsPLS(lam=1e5).baseline(Y)
    w, alpha = aspls_weights(Y, Z, 0.5)
    assert w.shape == alpha.shape == Y.shape
    for y, z, wi, ai in zip(Y, Z, w, alpha, strict=True):
        r = y - z
        sigma = np.std(r[r < 0], ddof=1)
        np.testing.assert_allclose(wi, expit(-(0.5 / sigma) * (r - sigma)), rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(ai, np.maximum(np.abs(r) / np.abs(r).max(), EPS))
    w1, alpha1 = aspls_weights(Y[1], Z[1], 0.5)
    assert w1.shape == (Y.shape[1],)
    np.testing.assert_array_equal(w1, w[1])
    np.testing.assert_array_equal(alpha1, alpha[1])


def test_a_worse_baseline_scores_higher():
    Y = raman_spectra(4, seed=7)
    Z = AsPLS(lam=1e5).baseline(Y)
    # a baseline lifted into the bands, or a wiggly one, is a worse asPLS answer
    assert (aspls_objective(Y, Z + 0.2, 1e5) > aspls_objective(Y, Z, 1e5)).all()
    wiggle = 0.05 * np.sin(np.linspace(0.0, 40.0, Y.shape[1]))
    assert (aspls_objective(Y, Z + wiggle, 1e5) > aspls_objective(Y, Z, 1e5)).all()
