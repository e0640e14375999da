"""CNN-Peak: PeakMixer with the plain convolutional peak module used for bacteria spectra.

The PeakMixer seed pairs its MLP-Mixer and learned interpretable path with two peak
modules: ResPeak (inception + squeeze-excitation + residual, for molecular substructures,
:mod:`spectrakit.models.peakmixer`) and CNN-Peak for the bacteria set. A CNN-Peak block is
two same-width convolutions (kernels 7 and 5) with batch norm and activation, without
inception branches, attention or shortcut: a cheaper extractor for the broad, overlapping
bands of cell spectra. Mixer, interpretable path, embedding and head are PeakMixer's
(class-specific Grad-CAM, ``class_channel_weights()`` and ONNX export work the same).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spectrakit.models._registry import register_model
from spectrakit.models.peakmixer import PeakMixer

__all__ = ["CNNPeak", "CNNPeakBlock"]


class CNNPeakBlock(nn.Module):
    """Conv(7) -> BN -> act -> Conv(5) -> BN -> act, at constant width.

    Parameters
    ----------
    channels : int
        Width K (input and output).
    act_layer : type of nn.Module
        Activation.
    kernel_sizes : tuple of int
        The two kernels.
    """

    def __init__(
        self, channels: int, act_layer: type = nn.ReLU, kernel_sizes: tuple[int, int] = (7, 5)
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for k in kernel_sizes:
            layers += [
                nn.Conv1d(channels, channels, k, padding=k // 2, bias=False),
                nn.BatchNorm1d(channels),
                act_layer(),
            ]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K, L) -> (B, K, L)."""
        return self.body(x)


class CNNPeak(PeakMixer):
    """PeakMixer on CNN-Peak blocks (see the module docstring); arguments as PeakMixer.

    ``use_se`` is accepted for a uniform signature and ignored (CNN-Peak has no attention).
    """

    family = "cnnpeak"

    def build_peak_block(self, width: int, use_se: bool, act_layer: type) -> nn.Module:
        """A :class:`CNNPeakBlock` of width K."""
        return CNNPeakBlock(width, act_layer=act_layer)


def _cnnpeak(size: dict[str, Any], kwargs: dict[str, Any]) -> CNNPeak:
    return CNNPeak(**{**size, **kwargs})


@register_model
def cnnpeak_tiny(**kwargs: Any) -> CNNPeak:
    """CNN-Peak mixer, width 24, 2 CNN-Peak blocks, 16 tokens, 2 mixer blocks."""
    return _cnnpeak(dict(width=24, depth=2, n_tokens=16, n_mixer=2), kwargs)


@register_model
def cnnpeak_small(**kwargs: Any) -> CNNPeak:
    """CNN-Peak mixer, width 64, 4 CNN-Peak blocks, 32 tokens, 4 mixer blocks."""
    return _cnnpeak(dict(width=64, depth=4, n_tokens=32, n_mixer=4), kwargs)


@register_model
def cnnpeak_base(**kwargs: Any) -> CNNPeak:
    """CNN-Peak mixer for bacteria spectra: width 64, 6 blocks, 20 mixer blocks."""
    return _cnnpeak(dict(width=64, depth=6, n_tokens=32, n_mixer=20), kwargs)
