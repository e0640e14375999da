"""Inception-style multi-kernel 1D convolution."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["InceptionBlock1d"]


class InceptionBlock1d(nn.Module):
    """Parallel convolutions of several kernel sizes, concatenated (Szegedy et al., 2015).

    Peaks of different widths are matched by different kernels (ResPeak, PeakMixer).

    Parameters
    ----------
    in_channels : int
        Input channels.
    out_channels : int
        Output channels, split as evenly as possible across the branches.
    kernel_sizes : sequence of int
        Odd kernel sizes of the branches.
    stride : int
        Stride of every branch.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_sizes: Sequence[int] = (5, 7, 9),
        stride: int = 1,
    ) -> None:
        super().__init__()
        n = len(kernel_sizes)
        widths = [out_channels // n + (i < out_channels % n) for i in range(n)]
        self.branches = nn.ModuleList(
            nn.Conv1d(in_channels, w, k, stride=stride, padding=k // 2, bias=False)
            for w, k in zip(widths, kernel_sizes, strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, L) -> (B, out_channels, L // stride)."""
        return torch.cat([branch(x) for branch in self.branches], dim=1)
