"""Position encodings: index sinusoids, learned table, continuous physical-axis features."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["FourierAxisEmbed", "LearnedPosEmbed", "sincos_embed"]


def sincos_embed(positions: torch.Tensor, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """Fixed sinusoidal encoding of (possibly fractional) positions (Vaswani et al., 2017).

    Parameters
    ----------
    positions : Tensor (..., N)
        Token positions (indices or any real values).
    dim : int
        Output width (even).
    temperature : float
        Longest wavelength factor.

    Returns
    -------
    Tensor (..., N, dim)
        ``[sin(p * w_k), cos(p * w_k)]`` with ``w_k = temperature ** (-k / (dim/2))``.
    """
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=positions.device)
    omega = torch.exp(-math.log(temperature) * k / half)
    angles = positions.to(torch.float32).unsqueeze(-1) * omega
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class LearnedPosEmbed(nn.Module):
    """Learned position table for up to ``max_tokens`` tokens.

    Parameters
    ----------
    max_tokens : int
        Longest supported sequence.
    dim : int
        Token width.
    """

    def __init__(self, max_tokens: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, max_tokens, dim))
        nn.init.trunc_normal_(self.weight, std=0.02)

    @property
    def max_tokens(self) -> int:
        """Longest supported sequence."""
        return self.weight.shape[1]

    def forward(self, n: int) -> torch.Tensor:
        """Table rows for the first ``n`` tokens: (1, n, dim)."""
        return self.weight[:, :n]


class FourierAxisEmbed(nn.Module):
    """Encode physical axis values (wavenumber, wavelength, energy...) as token positions.

    Random-Fourier-style features ``[sin(2 pi a / T_k), cos(2 pi a / T_k)]`` with periods
    ``T_k`` log-spaced over ``period_range`` (many decades, so cm-1, nm or um axes are all
    resolved without assuming a range), a learnable log-scale per period, and an MLP that
    maps them to the token width (Tancik et al., 2020; as the wavelength encoding of
    SpectraFM / StellarPerceptron, Leung & Bovy, 2023).

    Parameters
    ----------
    dim : int
        Output width D.
    n_freqs : int
        Number of periods.
    period_range : (float, float)
        Shortest and longest period, in axis units.
    learnable : bool
        Learn the periods (log-scale offsets) during training.
    """

    def __init__(
        self,
        dim: int,
        n_freqs: int = 64,
        period_range: tuple[float, float] = (1e-3, 1e5),
        learnable: bool = True,
    ) -> None:
        super().__init__()
        lo, hi = period_range
        # log inverse periods (cycles per axis unit), shortest period first
        self.log_inv_period = nn.Parameter(
            -torch.linspace(math.log(lo), math.log(hi), n_freqs), requires_grad=learnable
        )
        self.mlp = nn.Sequential(nn.Linear(2 * n_freqs, dim), nn.GELU(), nn.Linear(dim, dim))

    def forward(
        self, positions: torch.Tensor, resolution: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Encode axis values.

        Parameters
        ----------
        positions : Tensor (B, N)
            Axis value of each token.
        resolution : Tensor (B, N), optional
            Axis distance between neighbouring tokens. Periods shorter than twice this
            (above the Nyquist rate of the token grid) carry only aliasing and float
            rounding noise; they are smoothly switched off, ``gate = sigmoid(4 log(T / 2r))``,
            so the encoding adapts to each instrument's grid.

        Returns
        -------
        Tensor (B, N, D)
        """
        inv_period = self.log_inv_period.double().exp()
        # Short periods of large axis values (4000 cm-1 / 1e-3) make huge angles: count the
        # cycles in float64 and keep only the fraction, so sin/cos see [0, 2 pi).
        turns = positions.to(torch.float64).unsqueeze(-1) * inv_period
        angles = (2 * math.pi) * (turns - torch.floor(turns))
        sin, cos = angles.sin(), angles.cos()
        if resolution is not None:
            nyquist = 2 * resolution.to(torch.float64).abs().clamp_min(1e-30).unsqueeze(-1)
            gate = torch.sigmoid(-4 * torch.log(nyquist * inv_period))
            sin, cos = sin * gate, cos * gate
        return self.mlp(torch.cat([sin, cos], dim=-1).to(torch.float32))
