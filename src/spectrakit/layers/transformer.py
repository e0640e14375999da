"""Pre-norm transformer encoder block."""

from __future__ import annotations

import torch
from torch import nn

from spectrakit.layers.attention import Attention
from spectrakit.layers.mlp import Mlp

__all__ = ["Block"]


class Block(nn.Module):
    """Pre-norm transformer block: ``x + attn(norm1(x))`` then ``x + mlp(norm2(x))``.

    Parameters
    ----------
    dim : int
        Token width D.
    num_heads : int
        Attention heads.
    mlp_ratio : float
        Hidden width of the MLP relative to ``dim``.
    qkv_bias : bool
        Bias in the query/key/value projection.
    drop, attn_drop : float
        Dropout on projections / attention weights.
    act_layer, norm_layer : type of nn.Module
        Activation of the MLP, normalization layer.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        act_layer: type = nn.GELU,
        norm_layer: type = nn.LayerNorm,
    ) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = Attention(dim, num_heads, qkv_bias, attn_drop, drop)
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, D)."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))
