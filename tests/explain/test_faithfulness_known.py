"""Infidelity and max-sensitivity against answers computed by hand on closed-form models.

For f(x) = a/2 * sum(x^2) on constant spectra x = c, saliency (|gradient|) is the constant
map |a| c. Uniform noise d in [-r, r] on L points changes it by |a| d, so the relative
change is ||d|| / (c sqrt(L)), close to r / (c sqrt(3)) for large L and never above r / c.
Gaussian noise I of SD s changes f by a (c sum(I) - ||I||^2 / 2): the best multiple of the
attribution's prediction a c sum(I) leaves the quadratic term, so infidelity is close to
(a s^2 L / 2)^2.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from spectrakit import Spectra
from spectrakit.explain import infidelity_score, sensitivity_score

L = 4000


class Quadratic(nn.Module):
    """f(x) = scale/2 * sum(relu(x - shift)^2): one output, (B, 1, L) -> (B, 1)."""

    def __init__(self, scale: float = 1.0, shift: float = 0.0) -> None:
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.scale * (torch.relu(x - self.shift) ** 2).sum((1, 2))[:, None]


class Linear(nn.Module):
    """f(x) = w . x with positive w: saliency is w, the exact first-order change."""

    def __init__(self, weights: torch.Tensor) -> None:
        super().__init__()
        self.weights = weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x[:, 0] * self.weights).sum(1, keepdim=True)


def _constant(*levels: float, length: int = L) -> Spectra:
    return Spectra(np.repeat(np.array(levels)[:, None], length, 1), np.arange(float(length)))


def test_sensitivity_is_the_relative_change_of_the_map():
    spectra = _constant(1.0, 3.0)  # spread 2, so the radius is 0.02 * 2
    sens = sensitivity_score(Quadratic(), spectra, "saliency", 0, n_perturb_samples=8)
    r = 0.04
    np.testing.assert_allclose(sens, r / np.sqrt(3) / np.array([1.0, 3.0]), rtol=0.03)
    assert np.all(sens <= r / np.array([1.0, 3.0]))
    # the map's scale cancels: a model 1000 times larger is exactly as stable
    scaled = sensitivity_score(Quadratic(1000.0), spectra, "saliency", 0, n_perturb_samples=8)
    np.testing.assert_allclose(scaled, sens, rtol=1e-5)
    # a larger radius moves the map proportionally more
    wide = sensitivity_score(Quadratic(), spectra, "saliency", 0, radius=0.1, n_perturb_samples=8)
    np.testing.assert_allclose(wide, 5 * sens, rtol=1e-4)


def test_sensitivity_of_a_zero_map_is_undefined():
    """At x = shift the gradient is zero, and noise makes it nonzero: no relative change."""
    spectra = _constant(2.0, 3.0)  # spread 1: radius 0.02
    sens = sensitivity_score(Quadratic(shift=2.0), spectra, "saliency", 0, n_perturb_samples=8)
    assert np.isnan(sens[0])
    np.testing.assert_allclose(sens[1], 0.02 / np.sqrt(3), rtol=0.03)


def test_infidelity_is_zero_for_the_exact_attribution_of_a_linear_model():
    weights = torch.linspace(0.5, 1.5, 200)
    spectra = Spectra(np.random.default_rng(0).uniform(0.0, 1.0, (3, 200)), np.arange(200.0))
    inf = infidelity_score(Linear(weights), spectra, "saliency", 0, n_perturb_samples=32)
    assert inf.shape == (3,)
    np.testing.assert_allclose(inf, 0.0, atol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_infidelity_is_the_quadratic_term_the_attribution_misses(scale):
    length = 1000
    spectra = _constant(1.0, 3.0, length=length)  # spread 2: noise SD 0.05 * 2
    inf = infidelity_score(Quadratic(scale), spectra, "saliency", 0, n_perturb_samples=64)
    s = 0.1
    expected = (scale * s**2 * length / 2) ** 2
    assert np.all(inf > 0.85 * expected) and np.all(inf < 1.05 * expected), inf / expected


def test_relative_infidelity_is_the_unexplained_share_of_the_output_change():
    """The output change a c sum(I) - a ||I||^2 / 2 has energy a^2 (s^2 c^2 L + (s^2 L / 2)^2);
    the quadratic term is what is left: a share independent of the model's scale a."""
    length, s = 1000, 0.1
    spectra = _constant(1.0, 3.0, length=length)
    expected = (s**2 * length / 2) ** 2 / (s**2 * np.array([1.0, 9.0]) * length
                                           + (s**2 * length / 2) ** 2)  # fmt: skip
    for scale in (1.0, 50.0):
        share = infidelity_score(Quadratic(scale), spectra, "saliency", 0, n_perturb_samples=512,
                                 relative=True)  # fmt: skip
        np.testing.assert_allclose(share, expected, rtol=0.1)
    weights = torch.linspace(0.5, 1.5, 200)
    exact = Spectra(np.random.default_rng(0).uniform(0.0, 1.0, (3, 200)), np.arange(200.0))
    share = infidelity_score(Linear(weights), exact, "saliency", 0, relative=True)
    np.testing.assert_allclose(share, 0.0, atol=1e-5)
