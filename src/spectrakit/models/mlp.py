"""Plain multilayer perceptron on the flattened spectrum (fixed length)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from spectrakit.layers import get_act_layer
from spectrakit.models._base import SpectralModel
from spectrakit.models._registry import register_model

__all__ = ["MLP"]


class MLP(SpectralModel):
    """Fully connected network on the C*L flattened input.

    Parameters
    ----------
    hidden : sequence of int
        Widths of the hidden layers; the last one is the embedding width D.
    act : str
        Activation name.
    dropout : float
        Dropout after each hidden layer.
    **kwargs
        :class:`SpectralModel` arguments; ``input_length`` is required.
    """

    family = "mlp"
    variable_length = False

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (512, 256),
        act: str = "gelu",
        dropout: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        act_layer = get_act_layer(act)
        layers: list[nn.Module] = []
        width = self.in_channels * self.input_length
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LayerNorm(h), act_layer(), nn.Dropout(dropout)]
            width = h
        self.body = nn.Sequential(*layers)
        self.init_head(width)

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, C, L) -> (B, D)."""
        return self.body(x.flatten(1))


@register_model
def mlp_tiny(**kwargs: Any) -> MLP:
    """MLP with hidden layers 64-32 (about 16k parameters for 256 points)."""
    return MLP(**{**dict(hidden=(64, 32)), **kwargs})


@register_model
def mlp(**kwargs: Any) -> MLP:
    """MLP with hidden layers 512-256."""
    return MLP(**kwargs)
