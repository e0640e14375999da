"""Augmentations: reproducible with a seed, right shapes, exact linear mixing, exact shifts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from spectrakit import ConfigError, DataError
from spectrakit import augment as A


def batch(b=8, c=1, n=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    axis = torch.linspace(400, 1800, n)
    centres = 600 + 1000 * torch.rand(b, c, 1, generator=g)
    x = (
        torch.exp(-0.5 * ((axis - centres) / 15) ** 2)
        + 0.1
        + 0.01 * torch.rand(b, c, n, generator=g)
    )
    return x, axis


ALL = [
    A.GaussianNoise(0.05),
    A.PoissonNoise(100.0),
    A.Shift(3.0),
    A.Shift(10.0, units="axis"),
    A.Stretch(0.02),
    A.BaselineDrift(0.2, order=3),
    A.IntensityScale(0.8, 1.2),
    A.Broaden(0.5, 3.0),
    A.CosmicSpikes(3, 2.0, 6.0),
    A.AdditiveMix(),
    A.MixK(3),
    A.MixK(2, convex=False),
    A.Mixup(0.4),
    A.RandomApply(A.GaussianNoise(0.1), p=0.5),
]


@pytest.mark.parametrize("aug", ALL, ids=lambda a: repr(a)[:40])
def test_shapes_seeded_reproducible_and_input_untouched(aug):
    x, axis = batch(b=6, c=2)
    keep = x.clone()
    out1 = aug(x, axis=axis, generator=torch.Generator().manual_seed(3))
    out2 = aug(x, axis=axis, generator=torch.Generator().manual_seed(3))
    out3 = aug(x, axis=axis, generator=torch.Generator().manual_seed(4))
    assert out1.shape == x.shape and out1.dtype == x.dtype
    assert torch.isfinite(out1).all()
    torch.testing.assert_close(out1, out2, rtol=0, atol=0)
    assert not torch.equal(out1, out3)
    torch.testing.assert_close(x, keep, rtol=0, atol=0)


def test_compose_seed_and_config_round_trip():
    x, axis = batch()
    aug = A.Compose(
        [
            A.RandomApply(A.Shift(2.0), p=0.7),
            A.BaselineDrift(0.1),
            A.GaussianNoise(0.02),
            A.AdditiveMix(0.2, 0.8),
        ],
        seed=7,
    )
    cfg = json.loads(json.dumps(aug.to_config()))
    twin = A.augmentation_from_config(cfg)
    y = torch.rand(8, 2)
    for _ in range(3):  # the two generators advance in step across batches
        xa, ya = aug(x, y, axis=axis)
        xb, yb = twin(x, y, axis=axis)
        torch.testing.assert_close(xa, xb, rtol=0, atol=0)
        torch.testing.assert_close(ya, yb, rtol=0, atol=0)
    listed = A.augmentation_from_config([{"name": "GaussianNoise", "params": {"std": 0.1}}])
    assert isinstance(listed, A.Compose)
    with pytest.raises(ConfigError, match="unknown augmentation"):
        A.augmentation_from_config({"name": "Rotate"})
    with pytest.raises(ConfigError, match="invalid parameters"):
        A.augmentation_from_config({"name": "GaussianNoise", "params": {"sigma": 1}})


def test_additive_mix_keeps_linear_target_relation_exactly():
    # spectra generated from targets by a linear model: x = y @ components
    g = torch.Generator().manual_seed(0)
    components = torch.rand(3, 1, 64, generator=g, dtype=torch.float64)
    y = torch.rand(16, 3, generator=g, dtype=torch.float64)
    x = torch.einsum("bk,kcl->bcl", y, components)
    for aug in (A.AdditiveMix(), A.MixK(4), A.MixK(3, convex=False, low=0.0, high=2.0)):
        xm, ym = aug(x, y, generator=torch.Generator().manual_seed(1))
        assert not torch.allclose(xm, x)
        torch.testing.assert_close(xm, torch.einsum("bk,kcl->bcl", ym, components))


def test_mixing_refuses_class_labels_and_mixup_gives_soft_labels():
    x, _ = batch()
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    with pytest.raises(DataError, match="Mixup"):
        A.AdditiveMix()(x, labels)
    with pytest.raises(ConfigError, match="n_classes"):
        A.Mixup()(x, labels)
    xm, soft = A.Mixup(0.4, n_classes=3)(x, labels, generator=torch.Generator().manual_seed(0))
    assert soft.shape == (8, 3)
    torch.testing.assert_close(soft.sum(dim=1), torch.ones(8))
    # each mixed spectrum is the same blend of two inputs as its label
    onehot = torch.nn.functional.one_hot(labels, 3).float()
    coef = torch.linalg.lstsq(x.reshape(8, -1).T, xm.reshape(8, -1).T).solution.T  # (8, 8)
    torch.testing.assert_close(coef @ onehot, soft, atol=1e-3, rtol=0)


@pytest.mark.parametrize("k", [1, 3, -2])
def test_integer_shift_equals_rolled_spectrum_in_interior(k):
    x, _ = batch(b=4)
    out = A.shift(x, torch.full((4,), float(k)))
    rolled = torch.roll(x, shifts=k, dims=-1)
    m = abs(k)
    torch.testing.assert_close(out[..., m:-m], rolled[..., m:-m])


def test_sub_point_shift_interpolates_linearly():
    x = torch.arange(10.0).reshape(1, 1, 10) * 2.0  # a ramp
    out = A.shift(x, torch.tensor([0.25]))
    torch.testing.assert_close(out[..., 1:], x[..., 1:] - 0.5)


def test_shift_in_axis_units_moves_the_peak():
    x, axis = batch(b=64, n=701)  # 2 cm-1 spacing: 20 cm-1 = 10 points
    g = torch.Generator().manual_seed(0)
    out = A.Shift(20.0, units="axis")(x, axis=axis, generator=g)
    moved = (out[:, 0].argmax(-1) - x[:, 0].argmax(-1)).abs()
    assert moved.max().item() <= 10 and moved.max().item() >= 8
    with pytest.raises(ConfigError, match="needs the axis"):
        A.Shift(20.0, units="axis")(x)


def test_broaden_keeps_area_and_widens():
    x, _ = batch(b=3, n=256)
    x = x - 0.1
    out = A.Broaden(2.0, 2.0)(x)
    torch.testing.assert_close(out.sum(-1), x.sum(-1), rtol=1e-3, atol=1e-3)
    assert (out.amax(-1) < x.amax(-1)).all()


def test_cosmic_spikes_add_narrow_positive_points():
    x, _ = batch(b=32, n=256)
    out = A.CosmicSpikes(2, 3.0, 4.0)(x, generator=torch.Generator().manual_seed(0))
    diff = out - x
    assert (diff >= 0).all()
    per_spectrum = (diff > 0).sum(-1)
    assert per_spectrum.max() <= 2 and per_spectrum.sum() > 0


def test_random_apply_probability_and_bad_input():
    x, _ = batch(b=400, n=16)
    out = A.RandomApply(A.IntensityScale(2.0, 2.0), p=0.25)(
        x, generator=torch.Generator().manual_seed(0)
    )
    frac = (out != x).any(-1).float().mean().item()
    assert 0.18 < frac < 0.32
    with pytest.raises(DataError, match="unsqueeze"):
        A.GaussianNoise()(torch.rand(4, 16))
    with pytest.raises(DataError, match="rows"):
        A.GaussianNoise()(torch.rand(4, 1, 16), torch.rand(3))


def test_numpy_free_of_side_effects_on_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    x, _ = batch()
    A.Compose([A.Mixup(0.3), A.MixK(3)], seed=0)(x)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())
