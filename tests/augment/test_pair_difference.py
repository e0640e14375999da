"""PairDifference: within-class differences keep labels; regression targets move with x."""

from __future__ import annotations

import pytest
import torch

from spectrakit.augment import PairDifference, augmentation_from_config
from spectrakit.augment.defaults import default_augmentation
from spectrakit.core.errors import ConfigError, DataError


def _classes(n_per: int = 6, k: int = 3, length: int = 40):
    """Spectra that are exactly their class's template, with integer and one-hot labels."""
    g = torch.Generator().manual_seed(0)
    templates = torch.rand(k, length, generator=g)
    codes = torch.arange(k).repeat_interleave(n_per)
    return templates[codes][:, None, :], codes, templates


def test_a_class_without_inner_variation_is_left_unchanged_and_labels_kept():
    x, codes, _ = _classes()
    gen = torch.Generator().manual_seed(1)
    out, labels = PairDifference(0.5, 1.0, classes=True)(x, codes, generator=gen)
    assert torch.allclose(out, x, atol=1e-6)  # every same-class difference is zero
    assert torch.equal(labels, codes)
    onehot = torch.nn.functional.one_hot(codes, 3).float()
    out, soft = PairDifference(0.5, 1.0, classes=True)(x, onehot, generator=gen)
    assert torch.allclose(out, x, atol=1e-6) and torch.equal(soft, onehot)
    # any two rows: the classes leak into each other
    mixed, _ = PairDifference(0.5, 1.0)(x, codes.double(), generator=gen)
    assert (mixed - x).abs().max() > 0.1


def test_added_variation_is_within_class_only():
    """Spectra = template + nuisance: the output stays template[label] + nuisance span."""
    x, codes, templates = _classes(n_per=8)
    g = torch.Generator().manual_seed(2)
    nuisance = torch.randn(2, x.shape[-1], generator=g)
    x = x + (torch.randn(len(codes), 2, generator=g) @ nuisance)[:, None, :]
    out, _ = PairDifference(0.0, 2.0, classes=True)(x, codes, generator=g)
    rest = (out[:, 0] - templates[codes]).T  # (L, B), must lie in span(nuisance)
    coef = torch.linalg.lstsq(nuisance.T, rest).solution
    assert torch.allclose(nuisance.T @ coef, rest, atol=1e-4)
    assert (out - x).abs().max() > 0.1  # and it did add some


def test_regression_targets_follow_a_linear_spectrum():
    g = torch.Generator().manual_seed(3)
    band, base = torch.rand(30, generator=g), torch.rand(30, generator=g)
    y = torch.rand(16, generator=g, dtype=torch.float64)
    x = (y[:, None].float() * band + base)[:, None, :]
    out, y_out = PairDifference(0.0, 1.0)(x, y, generator=g)
    assert not torch.allclose(y_out, y)
    assert torch.allclose(out[:, 0], y_out[:, None].float() * band + base, atol=1e-5)


def test_bad_calls_and_config_round_trip():
    x, codes, _ = _classes()
    with pytest.raises(ConfigError):
        PairDifference(classes=True)(x)
    with pytest.raises(DataError):
        PairDifference(classes=True)(x, codes.double(), generator=torch.Generator())
    aug = PairDifference(0.1, 0.7, classes=True)
    assert augmentation_from_config(aug.to_config()).to_config() == aug.to_config()


def test_default_classification_augmentation_adds_within_class_differences():
    x, _, _ = _classes()
    aug = default_augmentation(x[:, 0].numpy(), task="classification", n_classes=3, seed=0)
    names = [a["name"] for a in aug.to_config()["params"]["transforms"]]
    assert "PairDifference" in names
    reg = default_augmentation(x[:, 0].numpy(), task="regression", seed=0)
    assert "PairDifference" not in [a["name"] for a in reg.to_config()["params"]["transforms"]]
