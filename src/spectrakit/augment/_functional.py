"""Deterministic kernels behind the random augmentations (usable on their own)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["gaussian_blur", "resample_positions", "shift", "stretch"]


def resample_positions(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of ``x`` at fractional point ``positions``; edges held constant.

    Parameters
    ----------
    x : Tensor of shape (B, C, L)
    positions : Tensor of shape (B, L_out)
        Point indices (fractional) to read, per spectrum.

    Returns
    -------
    Tensor of shape (B, C, L_out)
    """
    n = x.shape[-1]
    pos = positions.clamp(0, n - 1).to(x.dtype)
    left = pos.floor().clamp(max=n - 2).long() if n > 1 else pos.floor().long()
    frac = (pos - left.to(x.dtype)).unsqueeze(1)
    idx = left.unsqueeze(1).expand(-1, x.shape[1], -1)
    lo = torch.gather(x, 2, idx)
    if n == 1:
        return lo
    hi = torch.gather(x, 2, idx + 1)
    return lo + (hi - lo) * frac


def shift(x: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Shift every spectrum by ``points[b]`` points (sub-point, linear interpolation).

    A positive shift moves features to higher indices: ``out[..., i] = x[..., i - s]``.

    Parameters
    ----------
    x : Tensor of shape (B, C, L)
    points : Tensor of shape (B,)
    """
    idx = torch.arange(x.shape[-1], device=x.device, dtype=x.dtype)
    return resample_positions(x, idx[None, :] - points.to(x.dtype)[:, None])


def stretch(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """Stretch every spectrum about its centre by ``factor[b]`` (> 1 widens features).

    Parameters
    ----------
    x : Tensor of shape (B, C, L)
    factor : Tensor of shape (B,)
    """
    n = x.shape[-1]
    idx = torch.arange(n, device=x.device, dtype=x.dtype)
    centre = (n - 1) / 2.0
    return resample_positions(x, centre + (idx[None, :] - centre) / factor.to(x.dtype)[:, None])


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Convolve every spectrum with a unit-area Gaussian of width ``sigma[b]`` points.

    Parameters
    ----------
    x : Tensor of shape (B, C, L)
    sigma : Tensor of shape (B,)
        Standard deviations in points (> 0).
    """
    b, c, n = x.shape
    radius = max(1, int(torch.ceil(3 * sigma.max()).item()))
    offsets = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    kernels = torch.exp(-0.5 * (offsets[None, :] / sigma.to(x.dtype)[:, None]) ** 2)
    kernels = kernels / kernels.sum(dim=1, keepdim=True)  # (B, K), unit area keeps intensity
    weight = kernels.repeat_interleave(c, dim=0)[:, None, :]  # (B*C, 1, K)
    padded = F.pad(x.reshape(1, b * c, n), (radius, radius), mode="replicate")
    return F.conv1d(padded, weight, groups=b * c).reshape(b, c, n)
