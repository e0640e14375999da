"""Fusion of tabular features with a spectral embedding."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ExtraFusion"]


class ExtraFusion(nn.Module):
    """Fuse ``n_extra`` tabular features into a (B, D) embedding, keeping its width.

    ``out = emb + MLP([emb, extra])``: a residual update, so the spectral embedding passes
    through unchanged when the MLP learns to ignore the extras. Extras should be
    standardized by the caller (no per-sample normalization here: it would erase a
    constant shift of all features, and everything when ``n_extra == 1``).

    Parameters
    ----------
    dim : int
        Embedding width D.
    n_extra : int
        Number of tabular features E.
    hidden : int, optional
        Hidden width of the MLP (default ``min(max(dim, 32), 256)``).
    act_layer : type of nn.Module
        Activation.
    """

    def __init__(
        self, dim: int, n_extra: int, hidden: int | None = None, act_layer: type = nn.GELU
    ) -> None:
        super().__init__()
        hidden = hidden or min(max(dim, 32), 256)
        self.fc1 = nn.Linear(dim + n_extra, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, emb: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        """(B, D), (B, E) -> (B, D)."""
        h = torch.cat([emb, extra], dim=1)
        return emb + self.fc2(self.act(self.fc1(h)))
