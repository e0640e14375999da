"""Export the last transformer block for the CLS token alone.

A patch transformer that pools its CLS token (:class:`~spectrakit.models.specbert.
MaskedTransformer` with ``use_cls_token``) reads one row of its last block's output: the
final LayerNorm and the CLS selection act row by row. Every other row of that block (its
query rows in the attention, the output projection, both LayerNorms and the MLP) is
computed and thrown away, about a fifth of the model's multiply-adds at depth 4. Only the
keys and values of the last block need all tokens.

While the graph is traced, the last block is replaced by :class:`ClsQueryBlock`, which
computes that block's output for the CLS row only, from the block's own weights; the graph
answers the same outputs and features with less work. The PyTorch model is unchanged, and
the graph is verified against it as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ClsQueryBlock", "applies", "cls_query_only"]


class ClsQueryBlock(nn.Module):
    """A pre-norm :class:`~spectrakit.layers.Block` evaluated for its first token only.

    Parameters
    ----------
    block : Block
        The block whose weights are used (not copied).
    """

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, 1, D): row 0 of ``block(x)``."""
        blk, attn = self.block, self.block.attn
        b, t, d = x.shape
        h = blk.norm1(x)
        weight, bias = attn.qkv.weight, attn.qkv.bias
        q = F.linear(h[:, :1], weight[:d], None if bias is None else bias[:d])
        kv = F.linear(h, weight[d:], None if bias is None else bias[d:])
        q = q.reshape(b, 1, attn.num_heads, attn.head_dim).transpose(1, 2)
        kv = kv.reshape(b, t, 2, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, kv[0], kv[1])
        y = x[:, :1] + attn.proj(out.transpose(1, 2).reshape(b, 1, d))
        return y + blk.mlp(blk.norm2(y))


def applies(model: nn.Module) -> bool:
    """Whether ``model`` pools the CLS token of a stack of pre-norm attention blocks."""
    from spectrakit.layers import Block
    from spectrakit.models.specbert import MaskedTransformer

    return (
        isinstance(model, MaskedTransformer)
        and model.cls_token is not None
        and len(model.blocks) > 0
        and type(model.blocks[-1]) is Block
    )


@contextlib.contextmanager
def cls_query_only(model: nn.Module) -> Iterator[bool]:
    """Inside the block, ``model``'s last block computes the CLS row only (when it applies).

    Yields whether the block was replaced; the original block is always put back.
    """
    if not applies(model):
        yield False
        return
    last = model.blocks[-1]
    model.blocks[-1] = ClsQueryBlock(last)
    try:
        yield True
    finally:
        model.blocks[-1] = last
