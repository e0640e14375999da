"""Multi-head self-attention with optional capture of the attention map."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spectrakit.core.errors import ModelError

__all__ = ["Attention"]


class Attention(nn.Module):
    """Multi-head self-attention (Vaswani et al., 2017) on (B, T, D) tokens.

    Set ``capture = True`` to keep the softmax attention of the last call in
    ``last_attention`` (B, heads, T, T); otherwise the fused
    ``scaled_dot_product_attention`` kernel is used.

    Parameters
    ----------
    dim : int
        Token width D (divisible by ``num_heads``).
    num_heads : int
        Number of heads.
    qkv_bias : bool
        Bias in the query/key/value projection.
    attn_drop, proj_drop : float
        Dropout on attention weights and on the output projection.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int = 8,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if dim % num_heads:
            raise ModelError(
                "attention width must be divisible by the number of heads",
                expected=f"a multiple of {num_heads}",
                got=str(dim),
                fix="change embed_dim or num_heads",
            )
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.capture = False
        self.last_attention: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T, D)."""
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        drop = self.attn_drop if self.training else 0.0
        if self.capture:
            attn = (q * self.scale) @ k.transpose(-2, -1)
            attn = attn.softmax(dim=-1)
            self.last_attention = attn.detach()
            out = F.dropout(attn, drop, self.training) @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, dropout_p=drop)
        out = out.transpose(1, 2).reshape(b, t, d)
        return self.proj_drop(self.proj(out))
