"""ResNet1D of the bacteria-ID Raman study (Ho et al., Nat. Commun. 10, 4927, 2019).

A conv stem (64 filters, k5) followed by residual layers of ``hidden`` channels (6 layers
of 2 blocks, hidden 100, kernel 5, stride 2 from the second layer on). The original
flattens the last map into the classifier; global average pooling is the default here
(any input length), ``global_pool="flatten"`` gives the original.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from spectrakit.layers import BasicBlock, conv_norm_act
from spectrakit.models._conv import ConvSpectralModel, make_stages
from spectrakit.models._registry import register_model

__all__ = ["ResNet1d"]


class ResNet1d(ConvSpectralModel):
    """Residual 1D CNN (Ho et al., 2019).

    Parameters
    ----------
    hidden : int
        Channels of every residual layer.
    n_layers : int
        Residual layers (stride 2 from the second on).
    n_blocks : int
        Residual blocks per layer.
    stem_channels : int
        Channels of the stem convolution.
    kernel_size : int
        Kernel of every convolution.
    **kwargs
        ``global_pool`` and :class:`SpectralModel` arguments.
    """

    family = "resnet1d"

    def __init__(
        self,
        *,
        hidden: int = 100,
        n_layers: int = 6,
        n_blocks: int = 2,
        stem_channels: int = 64,
        kernel_size: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        stem = conv_norm_act(self.in_channels, stem_channels, kernel_size)
        stages, c_out = make_stages(
            [hidden] * n_layers,
            [n_blocks] * n_layers,
            stem_channels,
            BasicBlock,
            kernel_size=kernel_size,
        )
        self.features = nn.Sequential(stem, *stages)
        self.finish(c_out, f"features.{n_layers}", min_length=1)


@register_model
def resnet1d_tiny(**kwargs: Any) -> ResNet1d:
    """ResNet1D with hidden 24, 3 layers of 1 block, stem 16 (about 18k parameters)."""
    return ResNet1d(**{**dict(hidden=24, n_layers=3, n_blocks=1, stem_channels=16), **kwargs})


@register_model
def resnet1d(**kwargs: Any) -> ResNet1d:
    """Ho et al. (2019): hidden 100, 6 layers x 2 blocks, stem 64, kernel 5 (about 1.2M)."""
    return ResNet1d(**kwargs)
