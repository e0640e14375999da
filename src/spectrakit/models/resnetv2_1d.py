"""Pre-activation ResNet (ResNetV2, He et al., 2016, "Identity Mappings") in 1D.

The SpectraTorch project's ResNetV2 for spectra: a strided k7 stem and max-pool, stages of
pre-activation basic blocks (BN-ReLU-conv twice, identity shortcut), a final BN-ReLU and
global average pooling.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import nn

from spectrakit.layers import PreActBlock, get_act_layer
from spectrakit.models._conv import ConvSpectralModel, make_stages
from spectrakit.models._registry import register_model

__all__ = ["ResNetV2_1d"]


class ResNetV2_1d(ConvSpectralModel):
    """Pre-activation 1D ResNet.

    Parameters
    ----------
    widths : sequence of int
        Channels of each stage (stride 2 from the second on).
    blocks : sequence of int
        Blocks per stage.
    stem_channels : int
        Channels of the stem (k7, stride 2, then max-pool 3 / 2).
    kernel_size : int
        Kernel of the block convolutions.
    act : str
        Activation name.
    **kwargs
        ``global_pool`` and :class:`SpectralModel` arguments.
    """

    family = "resnetv2_1d"

    def __init__(
        self,
        *,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks: Sequence[int] = (2, 2, 2, 2),
        stem_channels: int = 64,
        kernel_size: int = 3,
        act: str = "relu",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        act_layer = get_act_layer(act)
        stages, c_out = make_stages(
            list(widths),
            list(blocks),
            stem_channels,
            PreActBlock,
            kernel_size=kernel_size,
            act_layer=act_layer,
        )
        self.features = nn.Sequential(
            OrderedDict(
                stem=nn.Conv1d(self.in_channels, stem_channels, 7, 2, 3, bias=False),
                pool=nn.MaxPool1d(3, 2, 1),
                stages=stages,
                norm=nn.BatchNorm1d(c_out),
                act=act_layer(),
            )
        )
        self.finish(c_out, "features.act", min_length=1)


@register_model
def resnetv2_1d_tiny(**kwargs: Any) -> ResNetV2_1d:
    """ResNetV2-1D, stages 16-32-64, one block each (about 28k parameters)."""
    args = dict(widths=(16, 32, 64), blocks=(1, 1, 1), stem_channels=16)
    return ResNetV2_1d(**{**args, **kwargs})


@register_model
def resnetv2_1d(**kwargs: Any) -> ResNetV2_1d:
    """ResNetV2-18 layout in 1D: stages 64-128-256-512 x 2 blocks (about 3.8M parameters)."""
    return ResNetV2_1d(**kwargs)
