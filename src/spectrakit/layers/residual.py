"""Residual blocks (post- and pre-activation) for 1D or 2D convolution stacks."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["BasicBlock", "PreActBlock", "conv_norm_act"]


def conv_norm_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int = 1,
    conv_layer: type = nn.Conv1d,
    norm_layer: type = nn.BatchNorm1d,
    act_layer: type = nn.ReLU,
) -> nn.Sequential:
    """``conv -> norm -> act`` with 'same'-style padding (``kernel_size // 2``)."""
    return nn.Sequential(
        conv_layer(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False),
        norm_layer(out_channels),
        act_layer(),
    )


def _shortcut(
    in_channels: int, out_channels: int, stride: int, conv_layer: type, norm_layer: type | None
) -> nn.Module:
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    conv = conv_layer(in_channels, out_channels, 1, stride, bias=False)
    return nn.Sequential(conv, norm_layer(out_channels)) if norm_layer else conv


class BasicBlock(nn.Module):
    """Post-activation residual block (He et al., 2016): two convs, BN, ReLU after the sum.

    Parameters
    ----------
    in_channels, out_channels : int
        Channel widths.
    stride : int
        Stride of the first conv (and of the projection shortcut).
    kernel_size : int
        Odd kernel size.
    conv_layer, norm_layer, act_layer : type of nn.Module
        ``nn.Conv1d``/``nn.BatchNorm1d`` for spectra, ``nn.Conv2d``/``nn.BatchNorm2d`` for images.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernel_size: int = 3,
        conv_layer: type = nn.Conv1d,
        norm_layer: type = nn.BatchNorm1d,
        act_layer: type = nn.ReLU,
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = conv_layer(in_channels, out_channels, kernel_size, stride, pad, bias=False)
        self.bn1 = norm_layer(out_channels)
        self.act1 = act_layer()
        self.conv2 = conv_layer(out_channels, out_channels, kernel_size, 1, pad, bias=False)
        self.bn2 = norm_layer(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride, conv_layer, norm_layer)
        self.act2 = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, *S) -> (B, C_out, *S / stride)."""
        out = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        return self.act2(out + self.shortcut(x))


class PreActBlock(nn.Module):
    """Pre-activation residual block of ResNetV2 (He et al., 2016, "Identity Mappings").

    ``x + conv2(act(bn2(conv1(act(bn1(x))))))``; the projection shortcut, when needed,
    takes the pre-activated input.

    Parameters
    ----------
    in_channels, out_channels : int
        Channel widths.
    stride : int
        Stride of the first conv.
    kernel_size : int
        Odd kernel size.
    conv_layer, norm_layer, act_layer : type of nn.Module
        Layer types.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        kernel_size: int = 3,
        conv_layer: type = nn.Conv1d,
        norm_layer: type = nn.BatchNorm1d,
        act_layer: type = nn.ReLU,
    ) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.bn1 = norm_layer(in_channels)
        self.act1 = act_layer()
        self.conv1 = conv_layer(in_channels, out_channels, kernel_size, stride, pad, bias=False)
        self.bn2 = norm_layer(out_channels)
        self.act2 = act_layer()
        self.conv2 = conv_layer(out_channels, out_channels, kernel_size, 1, pad, bias=False)
        self.shortcut = _shortcut(in_channels, out_channels, stride, conv_layer, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, *S) -> (B, C_out, *S / stride)."""
        pre = self.act1(self.bn1(x))
        skip = x if isinstance(self.shortcut, nn.Identity) else self.shortcut(pre)
        out = self.conv1(pre)
        return skip + self.conv2(self.act2(self.bn2(out)))
