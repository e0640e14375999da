"""A PLS-started score network as one model of the registry (so it is saved as a bundle).

``pls_scorenet``: preprocessed spectra (B, 1, p) -> PLS latent scores ``t`` (centre/scale
and rotations of the fitted PLS, float64) -> scores standardized with the mean/SD of one
instrument (the training one, or the new one when the network was adapted) -> the average of
``n_members`` score networks ``linear(t) + mlp(t)``, blended with the PLS regression on the
same scores: ``w * networks + (1 - w) * PLS``. The embedding is the standardized scores.
The networks are fitted by :func:`spectrakit.training.scorenet.fit_scorenet`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.models._base import SpectralModel
from spectrakit.models._registry import register_model

__all__ = ["PLSScoreNet", "ScoreMLP"]


class ScoreMLP(nn.Module):
    """Standardized scores (B, A) -> prediction (B,): ``(linear(t) + out(mlp(t))) * y_sd``."""

    def __init__(self, n_components: int, hidden: int) -> None:
        super().__init__()
        self.register_buffer("y_sd", torch.tensor(1.0))
        self.linear = nn.Linear(n_components, 1)
        self.body = nn.Sequential(
            nn.Linear(n_components, hidden), nn.GELU(), nn.Linear(hidden, hidden)
        )
        self.act = nn.GELU()
        self.out = nn.Linear(hidden, 1)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Predictions for a batch."""
        return (self.linear(t)[:, 0] + self.out(self.act(self.body(t)))[:, 0]) * self.y_sd


class PLSScoreNet(SpectralModel):
    """PLS scores, per-instrument standardization, averaged score networks, PLS blend.

    Parameters
    ----------
    n_components : int
        PLS latent variables A.
    hidden : int
        Width of the score networks.
    n_members : int
        Score networks averaged (0: the PLS regression alone).
    blend : float
        Weight ``w`` of the networks against the PLS regression (1: networks only).
    **kwargs
        :class:`SpectralModel` arguments; ``input_length`` (p), one channel, one output.
    """

    family = "scorenet"
    variable_length = False

    def __init__(
        self,
        *,
        n_components: int = 2,
        hidden: int = 32,
        n_members: int = 1,
        blend: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.in_channels != 1 or self.n_outputs != 1 or not 0.0 <= float(blend) <= 1.0:
            raise ModelError(
                "invalid PLS score network",
                expected="one input channel, one output, 0 <= blend <= 1",
                got=f"in_channels={self.in_channels}, n_outputs={self.n_outputs}, blend={blend}",
            )
        p, a = self.input_length, int(n_components)
        self.dtype_ref = nn.Parameter(torch.zeros(0), requires_grad=False)
        for name, shape in (("x_mean", (p,)), ("x_std", (p,)), ("rotations", (p, a)),
                            ("t_mean", (a,)), ("t_sd", (a,)), ("pls_coef", (a,)),
                            ("pls_bias", (1,))):  # fmt: skip
            self.register_buffer(name, torch.ones(shape, dtype=torch.float64))
        self.members = nn.ModuleList(ScoreMLP(a, int(hidden)) for _ in range(int(n_members)))
        self.blend = float(blend) if len(self.members) else 0.0
        self.num_features = a
        self.fusion = None

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, 1, p) -> standardized PLS scores (B, A)."""
        t = ((x.flatten(1).double() - self.x_mean) / self.x_std) @ self.rotations
        return ((t - self.t_mean) / self.t_sd).float()

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, A) -> (B, 1): blend of the averaged networks and the PLS regression."""
        pls = feats.double() @ self.pls_coef + self.pls_bias
        if not len(self.members):
            return pls.float()[:, None]
        nets = torch.stack([m(feats) for m in self.members]).mean(dim=0).double()
        return (self.blend * nets + (1.0 - self.blend) * pls).float()[:, None]

    def reset_head(self, n_outputs: int) -> None:
        """Refused: the fitted members are refit, not fine-tuned."""
        raise ModelError(
            "a fitted PLS score network is not fine-tuned further",
            expected="a registry network for fine-tuning",
            got=self.family,
            fix="refit with spectrakit.training.scorenet.fit_scorenet",
        )


@register_model
def pls_scorenet(**kwargs: Any) -> PLSScoreNet:
    """A fitted PLS-started score network ensemble (written by ``finetune --model auto``)."""
    return PLSScoreNet(**kwargs)
