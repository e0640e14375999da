"""VGG-style 1D CNN with batch normalization (Simonyan & Zisserman, 2015; SpectraTorch).

Stacks of k3 convolutions + BN + ReLU separated by max-pooling, as recommended by the
SpectraTorch project for spectral classification ("VGG16 works very well"; batch
normalization helps with small batches). Global average pooling feeds the head.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.layers import conv_norm_act, get_act_layer
from spectrakit.models._conv import ConvSpectralModel
from spectrakit.models._registry import register_model

__all__ = ["VGG1d"]

VGG11 = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG1d(ConvSpectralModel):
    """VGG-style 1D network.

    Parameters
    ----------
    cfg : sequence of int or "M"
        Channels of each k3 conv-BN-act layer; ``"M"`` is a max-pool of 2.
    kernel_size : int
        Convolution kernel.
    act : str
        Activation name.
    **kwargs
        ``global_pool`` and :class:`SpectralModel` arguments.
    """

    family = "vgg1d"

    def __init__(
        self,
        *,
        cfg: Sequence[int | str] = VGG16,
        kernel_size: int = 3,
        act: str = "relu",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        act_layer = get_act_layer(act)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in, n_conv, n_pool = self.in_channels, 0, 0
        for item in cfg:
            if item == "M":
                n_pool += 1
                layers[f"pool{n_pool}"] = nn.MaxPool1d(2)
            elif isinstance(item, int) and item > 0:
                n_conv += 1
                layers[f"conv{n_conv}"] = conv_norm_act(
                    c_in, item, kernel_size, act_layer=act_layer
                )
                c_in = item
            else:
                raise ModelError(
                    "invalid vgg1d cfg entry",
                    expected="positive channel counts or 'M'",
                    got=repr(item),
                    fix="e.g. cfg=[64, 'M', 128, 'M']",
                )
        self.features = nn.Sequential(layers)
        self.finish(c_in, f"features.conv{n_conv}", min_length=2**n_pool)


@register_model
def vgg1d_tiny(**kwargs: Any) -> VGG1d:
    """VGG1D with 16-32-64-64 channels and 3 pools (about 20k parameters)."""
    return VGG1d(**{**dict(cfg=(16, "M", 32, "M", 64, "M", 64)), **kwargs})


@register_model
def vgg1d_11(**kwargs: Any) -> VGG1d:
    """VGG11 layout in 1D with batch norm (about 3.1M parameters)."""
    return VGG1d(**{**dict(cfg=VGG11), **kwargs})


@register_model
def vgg1d(**kwargs: Any) -> VGG1d:
    """VGG16 layout in 1D with batch norm (about 4.9M parameters)."""
    return VGG1d(**kwargs)
