"""Split (B, C, L) spectra into patches and embed them."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PatchEmbed1d", "patchify", "unpatchify"]


def patchify(x: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Non-overlapping patches of a batch of spectra.

    Parameters
    ----------
    x : Tensor (B, C, L)
        L must be a multiple of ``patch_size``.
    patch_size : int
        Points per patch P.

    Returns
    -------
    Tensor (B, N, C*P)
        ``N = L // P``; patch ``n`` holds channel 0's P points, then channel 1's, ...
    """
    b, c, length = x.shape
    n = length // patch_size
    return x.reshape(b, c, n, patch_size).permute(0, 2, 1, 3).reshape(b, n, c * patch_size)


def unpatchify(patches: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Inverse of :func:`patchify`: (B, N, C*P) -> (B, C, N*P)."""
    b, n, cp = patches.shape
    p = cp // in_channels
    return patches.reshape(b, n, in_channels, p).permute(0, 2, 1, 3).reshape(b, in_channels, n * p)


class PatchEmbed1d(nn.Module):
    """Linear embedding of each patch (ViT, Dosovitskiy et al., 2021, in 1D).

    Parameters
    ----------
    patch_size : int
        Points per patch P.
    in_channels : int
        Channels C.
    embed_dim : int
        Token width D.
    """

    def __init__(self, patch_size: int, in_channels: int, embed_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Linear(in_channels * patch_size, embed_dim)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """(B, N, C*P) patches (see :func:`patchify`) -> (B, N, D) tokens."""
        return self.proj(patches)
