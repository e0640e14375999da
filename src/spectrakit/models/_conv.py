"""Shared tail of convolutional families: global pooling, attention pooling or flattening.

Global average pooling makes the embedding blind to *where* a band is: two spectra whose
bands differ only in position give the same embedding. ``flatten`` and ``attention``
keep positions (for a fixed input length).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.models._base import SpectralModel

__all__ = ["GLOBAL_POOLS", "AttentionPool1d", "ConvSpectralModel", "make_stages"]

#: the embedding heads of a conv family.
GLOBAL_POOLS = ("avg", "flatten", "attention")


class AttentionPool1d(nn.Module):
    """(B, K, L') -> (B, K): attention pooling over positions that knows the positions.

    A learned position embedding ``P`` (K, L') is added to the feature map, a 1x1
    convolution scores every position, and the softmax of the scores weights the sum of
    ``F + P``; a feature found at position ``l`` brings ``P[:, l]`` into the embedding.

    Parameters
    ----------
    channels : int
        K.
    length : int
        L' (the feature map's fixed length).
    """

    def __init__(self, channels: int, length: int) -> None:
        super().__init__()
        self.position = nn.Parameter(0.02 * torch.randn(1, channels, length))
        self.score = nn.Conv1d(channels, 1, 1)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Pooled features (B, K)."""
        h = feats + self.position
        weights = torch.softmax(self.score(torch.tanh(h)), dim=-1)
        return (h * weights).sum(dim=-1)


class ConvSpectralModel(SpectralModel):
    """A model whose embedding is the pooled output of a conv stack ``self.features``.

    Subclasses build ``self.features`` (B, C, L) -> (B, K, L') and call :meth:`finish`.

    Parameters
    ----------
    global_pool : {"avg", "flatten", "attention"}
        Global average pooling over L' (any input length, blind to band positions),
        flattening the (K, L') map (fixed ``input_length``, as in the original papers that
        flatten) or :class:`AttentionPool1d` (fixed ``input_length``, K features).
    **kwargs
        :class:`SpectralModel` arguments.
    """

    def __init__(self, *, global_pool: str = "avg", **kwargs: Any) -> None:
        if global_pool not in GLOBAL_POOLS:
            raise ModelError(
                "invalid global_pool",
                expected="'avg', 'flatten' or 'attention'",
                got=repr(global_pool),
                fix="use 'avg' for spectra of any length",
            )
        super().__init__(variable_length=global_pool == "avg", **kwargs)
        self.global_pool = global_pool

    def finish(self, channels: int, gradcam_layer: str, min_length: int = 1) -> None:
        """Set the Grad-CAM layer, shortest length and the head (after ``self.features``)."""
        self.gradcam_layer = gradcam_layer
        self.min_length = min_length
        if self.global_pool == "avg":
            self.init_head(channels)
            return
        if self.input_length < min_length:
            raise ModelError(
                f"input_length too short for {self.family}",
                expected=f"at least {min_length} points",
                got=str(self.input_length),
                fix="use longer spectra or global_pool='avg'",
            )
        was_training = self.training
        self.features.eval()
        with torch.no_grad():
            out = self.features(torch.zeros(1, self.in_channels, self.input_length))
        self.features.train(was_training)
        if self.global_pool == "attention":
            self.pool = AttentionPool1d(out.shape[1], out.shape[2])
            self.init_head(out.shape[1])
            return
        self.init_head(out[0].numel())

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, C, L) -> (B, D): pooled or flattened ``features(x)``."""
        f = self.features(x)
        if self.global_pool == "attention":
            return self.pool(f)
        return f.flatten(1) if self.global_pool == "flatten" else f.mean(-1)


def make_stages(
    widths: list[int] | tuple[int, ...],
    blocks: list[int] | tuple[int, ...],
    in_channels: int,
    block: type[nn.Module],
    first_stride: int = 1,
    **block_kwargs: Any,
) -> tuple[nn.Sequential, int]:
    """Residual stages ``layer1..layerN``; stride 2 at the start of every stage but the first."""
    stages: list[tuple[str, nn.Module]] = []
    c_in = in_channels
    for i, (w, n) in enumerate(zip(widths, blocks, strict=True)):
        stride = first_stride if i == 0 else 2
        layer = [block(c_in, w, stride, **block_kwargs)]
        layer += [block(w, w, 1, **block_kwargs) for _ in range(n - 1)]
        stages.append((f"layer{i + 1}", nn.Sequential(*layer)))
        c_in = w
    return nn.Sequential(OrderedDict(stages)), c_in
