"""Feed-forward block used by transformers and mixers."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Mlp"]


class Mlp(nn.Module):
    """Two-layer perceptron ``fc2(drop(act(fc1(x))))`` on the last dimension.

    Parameters
    ----------
    in_features : int
        Input width.
    hidden_features : int, optional
        Hidden width (default ``in_features``).
    out_features : int, optional
        Output width (default ``in_features``).
    act_layer : type of nn.Module
        Activation.
    drop : float
        Dropout after the activation and after ``fc2``.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int | None = None,
        out_features: int | None = None,
        act_layer: type = nn.GELU,
        drop: float = 0.0,
    ) -> None:
        super().__init__()
        hidden_features = hidden_features or in_features
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., in_features) -> (..., out_features)."""
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))
