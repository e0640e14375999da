"""MLP-Mixer block on token sequences."""

from __future__ import annotations

import torch
from torch import nn

from spectrakit.layers.mlp import Mlp

__all__ = ["MixerBlock"]


class MixerBlock(nn.Module):
    """MLP-Mixer block (Tolstikhin et al., 2021): token mixing, then channel mixing.

    Parameters
    ----------
    dim : int
        Channels per token D.
    num_tokens : int
        Number of tokens T (fixed: the token-mixing MLP acts along them).
    mlp_ratio : (float, float)
        Hidden width of the token-mixing MLP (x T) and channel-mixing MLP (x D).
    act_layer, norm_layer : type of nn.Module
        Activation, normalization.
    drop : float
        Dropout inside the MLPs.
    """

    def __init__(
        self,
        dim: int,
        num_tokens: int,
        mlp_ratio: tuple[float, float] = (0.5, 4.0),
        act_layer: type = nn.GELU,
        norm_layer: type = nn.LayerNorm,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.mlp_tokens = Mlp(
            num_tokens, max(int(num_tokens * mlp_ratio[0]), 1), act_layer=act_layer, drop=drop
        )
        self.norm2 = norm_layer(dim)
        self.mlp_channels = Mlp(dim, int(dim * mlp_ratio[1]), act_layer=act_layer, drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, D)."""
        x = x + self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp_channels(self.norm2(x))
