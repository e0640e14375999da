"""Plain 1D CNN for spectra, after the pychemauth tutorial model.

Mahynski, N.A. et al. "Encoding PGAA spectra as images for material classification with
convolutional neural networks", J. Radioanal. Nucl. Chem. (2025): three strided
convolutions (16 filters k16 s8 -> max-pool 2 -> 128 k8 s4 -> max-pool 2 -> 512 k8 s2),
'same'-style padding, then a dense layer. The tutorial flattens the last feature map;
here global average pooling is the default (any length, class activation maps), and
``global_pool="flatten"`` reproduces the fixed-length original.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.layers import get_act_layer
from spectrakit.models._conv import ConvSpectralModel
from spectrakit.models._registry import register_model

__all__ = ["CNN1d"]


class CNN1d(ConvSpectralModel):
    """Strided 1D CNN (pychemauth tutorial architecture).

    Parameters
    ----------
    filters, kernel_sizes, strides : sequence of int
        One entry per convolution. Padding is ``(kernel - stride) // 2``, so a layer maps
        L points to ``L // stride`` (Keras 'same' when L is a multiple of the stride).
    pool_size : int
        Max-pool after every convolution but the last.
    act : str
        Activation name.
    **kwargs
        :class:`~spectrakit.models._conv.ConvSpectralModel` arguments (``global_pool``)
        and :class:`SpectralModel` arguments.
    """

    family = "cnn1d"

    def __init__(
        self,
        *,
        filters: Sequence[int] = (16, 128, 512),
        kernel_sizes: Sequence[int] = (16, 8, 8),
        strides: Sequence[int] = (8, 4, 2),
        pool_size: int = 2,
        act: str = "relu",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not len(filters) == len(kernel_sizes) == len(strides):
            raise ModelError(
                "cnn1d layer lists differ in length",
                expected="filters, kernel_sizes and strides of equal length",
                got=f"{len(filters)}, {len(kernel_sizes)}, {len(strides)}",
                fix="give one kernel size and one stride per filter count",
            )
        act_layer = get_act_layer(act)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c_in = self.in_channels
        n = len(filters)
        for i, (c, k, s) in enumerate(zip(filters, kernel_sizes, strides, strict=True), 1):
            layers[f"conv{i}"] = nn.Conv1d(c_in, c, k, s, padding=max(k - s, 0) // 2)
            layers[f"act{i}"] = act_layer()
            if i < n:
                layers[f"pool{i}"] = nn.MaxPool1d(pool_size)
            c_in = c
        self.features = nn.Sequential(layers)
        self.finish(c_in, f"features.conv{n}", _min_length(self.features))


def _out_length(features: nn.Sequential, length: int) -> int:
    for m in features:
        if isinstance(m, nn.Conv1d):
            k, s, p = m.kernel_size[0], m.stride[0], m.padding[0]
            length = (length + 2 * p - k) // s + 1
        elif isinstance(m, nn.MaxPool1d):
            length = length // m.kernel_size
    return length


def _min_length(features: nn.Sequential) -> int:
    length = 1
    while _out_length(features, length) < 1:
        length += 1
    return length


@register_model
def cnn1d_tiny(**kwargs: Any) -> CNN1d:
    """Pychemauth CNN with 8/16/32 filters and strides 4/2/2 (about 2.7k parameters)."""
    args = dict(filters=(8, 16, 32), kernel_sizes=(8, 4, 4), strides=(4, 2, 2))
    return CNN1d(**{**args, **kwargs})


@register_model
def cnn1d(**kwargs: Any) -> CNN1d:
    """Pychemauth tutorial CNN: 16 k16 s8 / 128 k8 s4 / 512 k8 s2 (about 540k parameters)."""
    return CNN1d(**kwargs)
