"""Every registered augmentation: seeded determinism, shape kept, and a config round trip.

Parametrised over :data:`spectrakit.augment.AUGMENTATIONS`. ``EXAMPLES`` gives non-default
parameters (so the round trip must carry them); an augmentation without an entry is built
with its defaults.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import torch

from spectrakit.augment import AUGMENTATIONS, Augmentation, augmentation_from_config

A = AUGMENTATIONS
EXAMPLES: dict[str, Callable[[], Augmentation]] = {
    "Compose": lambda: A["Compose"]([A["Shift"](1.5), A["GaussianNoise"](0.03)], seed=3),
    "RandomApply": lambda: A["RandomApply"](A["IntensityScale"](0.5, 1.5), p=0.7),
    "AdditiveMix": lambda: A["AdditiveMix"](0.1, 0.4),
    "MixK": lambda: A["MixK"](k=2, convex=False, low=0.2, high=0.6),
    "Mixup": lambda: A["Mixup"](alpha=0.4),
    "GaussianNoise": lambda: A["GaussianNoise"](std=0.05, relative=False),
    "PoissonNoise": lambda: A["PoissonNoise"](counts_per_unit=200.0),
    "Shift": lambda: A["Shift"](max_shift=3.0, units="axis"),
    "Stretch": lambda: A["Stretch"](max_change=0.03),
    "BaselineDrift": lambda: A["BaselineDrift"](amplitude=0.3, order=3, relative=False),
    "IntensityScale": lambda: A["IntensityScale"](0.7, 1.3),
    "Broaden": lambda: A["Broaden"](1.0, 3.0),
    "CosmicSpikes": lambda: A["CosmicSpikes"](max_spikes=4, min_height=2.0, max_height=3.0),
}


def _make(name: str) -> Augmentation:
    return EXAMPLES[name]() if name in EXAMPLES else A[name]()


def _batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    axis = torch.linspace(400.0, 1800.0, 64, dtype=torch.float64)
    peak = torch.exp(-0.5 * ((axis - 1000.0) / 30.0) ** 2).float()
    x = 1.0 + peak * torch.rand(8, 1, 1, generator=g) + 0.01 * torch.rand(8, 1, 64, generator=g)
    return x, torch.rand(8, generator=g), axis


def _run(aug: Augmentation, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y, axis = _batch()
    return aug(x, y, axis=axis, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", list(AUGMENTATIONS))
def test_seeded_determinism(name):
    aug = _make(name)
    x, y, axis = _batch()
    original = x.clone()
    out, y_out = aug(x, y, axis=axis, generator=torch.Generator().manual_seed(7))
    assert torch.equal(x, original), "the input batch was modified in place"
    assert out.shape == x.shape and y_out.shape == y.shape
    assert torch.isfinite(out).all()
    again, y_again = _run(aug, 7)
    assert torch.equal(out, again) and torch.equal(y_out, y_again)
    other, _ = _run(aug, 8)
    assert not torch.equal(out, other), "another seed gives the same draw"


@pytest.mark.parametrize("name", list(AUGMENTATIONS))
def test_config_round_trip(name):
    aug = _make(name)
    cfg = aug.to_config()
    rebuilt = augmentation_from_config(json.loads(json.dumps(cfg)))
    assert type(rebuilt) is type(aug)
    assert rebuilt.to_config() == cfg
    if name in EXAMPLES and name not in ("Compose", "RandomApply"):  # those need arguments
        assert cfg != A[name]().to_config(), "the example should use non-default parameters"
    out, y_out = _run(aug, 11)
    out2, y_out2 = _run(rebuilt, 11)
    assert torch.equal(out, out2) and torch.equal(y_out, y_out2)
