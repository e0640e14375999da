"""Batched, seeded torch augmentations for spectra (B, C, L), composable and configurable.

Examples
--------
>>> import torch
>>> from spectrakit.augment import Compose, Shift, GaussianNoise, augmentation_from_config
>>> aug = Compose([Shift(1.5), GaussianNoise(0.02)], seed=0)
>>> same = augmentation_from_config(aug.to_config())
>>> x = torch.rand(8, 1, 64)
>>> torch.equal(aug(x), same(x))
True
"""

from spectrakit.augment._base import (
    AUGMENTATIONS,
    Augmentation,
    Compose,
    RandomApply,
    augmentation_from_config,
    list_augmentations,
    register_augmentation,
)
from spectrakit.augment._functional import gaussian_blur, resample_positions, shift, stretch
from spectrakit.augment._mixing import AdditiveMix, MixK, Mixup, PairDifference
from spectrakit.augment._transforms import (
    BaselineDrift,
    Broaden,
    CosmicSpikes,
    GaussianNoise,
    IntensityScale,
    PoissonNoise,
    Shift,
    Stretch,
)

__all__ = [
    "AUGMENTATIONS",
    "AdditiveMix",
    "Augmentation",
    "BaselineDrift",
    "Broaden",
    "Compose",
    "CosmicSpikes",
    "GaussianNoise",
    "IntensityScale",
    "MixK",
    "Mixup",
    "PairDifference",
    "PoissonNoise",
    "RandomApply",
    "Shift",
    "Stretch",
    "augmentation_from_config",
    "gaussian_blur",
    "list_augmentations",
    "register_augmentation",
    "resample_positions",
    "shift",
    "stretch",
]
