"""Per-spectrum random augmentations: noise, axis shift/stretch, drift, scaling, broadening."""

from __future__ import annotations

import torch

from spectrakit.augment._base import Augmentation, normal, register_augmentation, uniform
from spectrakit.augment._functional import gaussian_blur, shift, stretch
from spectrakit.core.errors import ConfigError

__all__ = [
    "BaselineDrift",
    "Broaden",
    "CosmicSpikes",
    "GaussianNoise",
    "IntensityScale",
    "PoissonNoise",
    "Shift",
    "Stretch",
]


def _spread(x: torch.Tensor) -> torch.Tensor:
    """Per-spectrum standard deviation (B, C, 1), floored to avoid a zero scale."""
    return x.std(dim=-1, keepdim=True).clamp_min(1e-12)


def _check_range(name: str, low: float, high: float, minimum: float | None = None) -> None:
    if not low <= high or (minimum is not None and low < minimum):
        bound = f" and low >= {minimum}" if minimum is not None else ""
        raise ConfigError(
            f"{name}: invalid range", expected=f"low <= high{bound}", got=f"low={low}, high={high}"
        )


@register_augmentation
class GaussianNoise(Augmentation):
    """Add white Gaussian noise.

    Parameters
    ----------
    std : float, default=0.01
        Noise standard deviation; relative to each spectrum's own std when ``relative``.
    relative : bool, default=True
    """

    def __init__(self, std: float = 0.01, relative: bool = True) -> None:
        self.std = std
        self.relative = relative

    def _apply(self, x, y, axis, generator):
        scale = float(self.std) * (_spread(x) if self.relative else 1.0)
        return x + scale * normal(x.shape, generator, x), y


@register_augmentation
class PoissonNoise(Augmentation):
    """Shot noise: Gaussian noise with variance proportional to the (positive) intensity.

    Parameters
    ----------
    counts_per_unit : float, default=1000.0
        Detector counts corresponding to an intensity of 1; fewer counts = noisier.
    """

    def __init__(self, counts_per_unit: float = 1000.0) -> None:
        self.counts_per_unit = counts_per_unit

    def _apply(self, x, y, axis, generator):
        k = float(self.counts_per_unit)
        sigma = torch.sqrt(x.clamp_min(0) * k) / k
        return x + sigma * normal(x.shape, generator, x), y


@register_augmentation
class Shift(Augmentation):
    """Shift spectra along the axis by a random sub-point amount (linear interpolation).

    Parameters
    ----------
    max_shift : float, default=2.0
        Largest shift, in points (``units="points"``) or axis units (``units="axis"``,
        converted with the median spacing of ``axis``).
    units : {"points", "axis"}, default="points"
    """

    def __init__(self, max_shift: float = 2.0, units: str = "points") -> None:
        self.max_shift = max_shift
        self.units = units

    def _apply(self, x, y, axis, generator):
        limit = _in_points(float(self.max_shift), self.units, axis, "Shift")
        return shift(x, uniform((x.shape[0],), -limit, limit, generator, x)), y


def _in_points(value: float, units: str, axis: torch.Tensor | None, name: str) -> float:
    if units == "points":
        return value
    if units != "axis":
        raise ConfigError(f"{name}: invalid units", expected="'points' or 'axis'", got=repr(units))
    if axis is None or axis.numel() < 2:
        raise ConfigError(
            f"{name} in axis units needs the axis",
            fix="pass axis=... when calling, or use units='points'",
        )
    return value / float(torch.diff(axis.reshape(-1)).abs().median())


@register_augmentation
class Stretch(Augmentation):
    """Stretch or compress spectra about their centre by a random factor.

    Parameters
    ----------
    max_change : float, default=0.01
        Factor drawn in ``[1 - max_change, 1 + max_change]``.
    """

    def __init__(self, max_change: float = 0.01) -> None:
        self.max_change = max_change

    def _apply(self, x, y, axis, generator):
        m = float(self.max_change)
        _check_range("Stretch", 1 - m, 1 + m, minimum=1e-3)
        return stretch(x, uniform((x.shape[0],), 1 - m, 1 + m, generator, x)), y


@register_augmentation
class BaselineDrift(Augmentation):
    """Add a random low-order polynomial baseline.

    Parameters
    ----------
    amplitude : float, default=0.1
        Coefficient range ``[-amplitude, amplitude]`` for each power of ``t`` in [-1, 1];
        relative to each spectrum's std when ``relative``.
    order : int, default=2
    relative : bool, default=True
    """

    def __init__(self, amplitude: float = 0.1, order: int = 2, relative: bool = True) -> None:
        self.amplitude = amplitude
        self.order = order
        self.relative = relative

    def _apply(self, x, y, axis, generator):
        b, _, n = x.shape
        t = torch.linspace(-1.0, 1.0, n, device=x.device, dtype=x.dtype)
        powers = torch.stack([t**k for k in range(int(self.order) + 1)])  # (K, L)
        a = float(self.amplitude)
        coef = uniform((b, int(self.order) + 1), -a, a, generator, x)
        drift = (coef @ powers)[:, None, :]
        scale = _spread(x) if self.relative else 1.0
        return x + drift * scale, y


@register_augmentation
class IntensityScale(Augmentation):
    """Multiply every spectrum by a random factor in ``[low, high]``.

    Parameters
    ----------
    low, high : float, default=0.9, 1.1
    """

    def __init__(self, low: float = 0.9, high: float = 1.1) -> None:
        self.low = low
        self.high = high

    def _apply(self, x, y, axis, generator):
        _check_range("IntensityScale", float(self.low), float(self.high))
        f = uniform((x.shape[0], 1, 1), float(self.low), float(self.high), generator, x)
        return x * f, y


@register_augmentation
class Broaden(Augmentation):
    """Broaden bands by a Gaussian convolution of random width (unit area, so areas keep).

    Parameters
    ----------
    min_sigma, max_sigma : float, default=0.5, 2.0
        Range of the Gaussian standard deviation, in points.
    """

    def __init__(self, min_sigma: float = 0.5, max_sigma: float = 2.0) -> None:
        self.min_sigma = min_sigma
        self.max_sigma = max_sigma

    def _apply(self, x, y, axis, generator):
        _check_range("Broaden", float(self.min_sigma), float(self.max_sigma), minimum=1e-3)
        sigma = uniform((x.shape[0],), float(self.min_sigma), float(self.max_sigma), generator, x)
        return gaussian_blur(x, sigma), y


@register_augmentation
class CosmicSpikes(Augmentation):
    """Add up to ``max_spikes`` one-point spikes (cosmic rays) per spectrum.

    Parameters
    ----------
    max_spikes : int, default=2
        Each spectrum gets a uniform random number of spikes in ``0..max_spikes``.
    min_height, max_height : float, default=1.0, 5.0
        Spike height relative to the spectrum's intensity range (max - min).
    """

    def __init__(
        self, max_spikes: int = 2, min_height: float = 1.0, max_height: float = 5.0
    ) -> None:
        self.max_spikes = max_spikes
        self.min_height = min_height
        self.max_height = max_height

    def _apply(self, x, y, axis, generator):
        _check_range("CosmicSpikes", float(self.min_height), float(self.max_height), minimum=0.0)
        b, c, n = x.shape
        k = int(self.max_spikes)
        if k <= 0:
            return x, y
        flat = x.reshape(b * c, n)
        count = (uniform((b * c, 1), 0.0, k + 1.0, generator, x)).floor()
        keep = torch.arange(k, device=x.device, dtype=x.dtype)[None, :] < count
        where = (uniform((b * c, k), 0.0, float(n), generator, x)).long().clamp(max=n - 1)
        height = uniform((b * c, k), float(self.min_height), float(self.max_height), generator, x)
        span = (flat.amax(dim=1, keepdim=True) - flat.amin(dim=1, keepdim=True)).clamp_min(1e-12)
        spikes = torch.zeros_like(flat).scatter_add(1, where, height * span * keep)
        return (flat + spikes).reshape(b, c, n), y
