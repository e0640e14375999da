"""Squeeze-and-excitation channel attention."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SqueezeExcite"]


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation (Hu et al., 2018) for (B, C, L) or (B, C, H, W) maps.

    Parameters
    ----------
    channels : int
        Channels C.
    reduction : int
        Bottleneck reduction of the gating MLP.
    act_layer : type of nn.Module
        Activation inside the gate.
    """

    def __init__(self, channels: int, reduction: int = 8, act_layer: type = nn.ReLU) -> None:
        super().__init__()
        hidden = max(channels // reduction, 4)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Rescale each channel by a gate computed from its global average."""
        s = x.flatten(2).mean(-1)
        gate = torch.sigmoid(self.fc2(self.act(self.fc1(s))))
        return x * gate.reshape(*gate.shape, *([1] * (x.dim() - 2)))
