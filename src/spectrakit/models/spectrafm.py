"""SpectraFM: transformer whose tokens carry their physical axis position.

Following SpectraFM (Koblischke & Bovy, NeurIPS 2024 FM4Science workshop) and
StellarPerceptron (Leung & Bovy, 2023), each token is told *where* on the physical axis
(wavenumber, wavelength, energy, any unit) it lies, instead of its index. A token is a
patch of P points; its position is the mean axis value of the patch, encoded by
learnable multi-scale Fourier features (:class:`~spectrakit.layers.FourierAxisEmbed`;
periods shorter than twice the token spacing are gated off), plus the log of its mean
point spacing. One model therefore accepts spectra on different grids, ranges and lengths.
Masked modeling replaces the *values* of masked patches by a mask token but keeps their
axis encoding, so the model knows where to reconstruct.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spectrakit.layers import FourierAxisEmbed
from spectrakit.models._registry import register_model
from spectrakit.models.specbert import MaskedTransformer
from spectrakit.models.spectrafm_grid import on_physical_grid, physical_grid, random_grid

__all__ = ["SpectraFM"]


class SpectraFM(MaskedTransformer):
    """Axis-aware patch transformer.

    Parameters
    ----------
    n_freqs : int
        Fourier periods of the axis encoding.
    period_range : (float, float)
        Shortest and longest initial period, in axis units (learnable afterwards). The
        wide default covers um, nm and cm-1 axes alike.
    grid_augment : float
        In training, each batch is resampled onto a random grid (density up to this
        factor finer or coarser, sometimes a random sub-range; see
        :mod:`~spectrakit.models.spectrafm_grid`), so the model reads other grids. 1 or
        less turns it off.
    p_subrange : float
        Share of re-gridded training batches cut to a random sub-range (at least 40 % of
        the axis), so the model also reads part of its trained range.
    patch_step : float or None
        Point spacing, in axis units, of patches of a fixed physical width: each input
        is first resampled (linear interpolation) onto points at multiples of
        ``patch_step``, with patches starting at multiples of ``patch_step * P`` (see
        :func:`~spectrakit.models.spectrafm_grid.physical_grid`). The same physical
        spectrum then gives the same tokens on any grid, and a sub-range a subset of
        them. None (the default) keeps patches of P input points.
    **kwargs
        :class:`~spectrakit.models.specbert.MaskedTransformer` arguments.

    Notes
    -----
    ``forward(x, axis)`` requires ``axis`` of shape (L,) or (B, L) matching ``x``.
    """

    family = "spectrafm"
    axis_aware = True

    def __init__(
        self,
        *,
        n_freqs: int = 64,
        period_range: tuple[float, float] | list[float] = (1e-3, 1e5),
        grid_augment: float = 1.0,
        p_subrange: float = 0.5,
        patch_step: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.grid_augment = float(grid_augment)
        self.p_subrange = float(p_subrange)
        self.patch_step = None if patch_step is None else float(patch_step)
        lo, hi = (float(v) for v in period_range)
        self.axis_embed = FourierAxisEmbed(self.num_features, n_freqs, (lo, hi))
        self.spacing_embed = nn.Linear(1, self.num_features)

    def token_grid(
        self, x: torch.Tensor, axis: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The points the patches are cut from.

        In training with ``grid_augment`` the batch is first put on a random grid; with
        ``patch_step`` it is then resampled onto the physical patch grid. Prediction,
        fine-tuning and masked pretraining all cut their tokens from this grid.

        Parameters
        ----------
        x : Tensor (B, C, L)
            Spectra.
        axis : Tensor (L,) or (B, L), optional
            Their axis; without it ``x`` is returned unchanged.

        Returns
        -------
        (Tensor (B, C, M), Tensor (B, M) or None)
            Spectra and axis of the token grid (M a multiple of ``patch_size``).
        """
        if axis is None:
            return x, axis
        axis = axis.expand(x.shape[0], -1) if axis.dim() == 1 else axis
        if self.training and self.grid_augment > 1.0:
            x, axis = random_grid(
                x, axis, self.patch_size, max_factor=self.grid_augment, p_subrange=self.p_subrange
            )
        if self.patch_step is not None:
            x, axis = physical_grid(x, axis, self.patch_step, self.patch_size)
        return x, axis

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, C, L) -> (B, D), the tokens cut from :meth:`token_grid`."""
        return super().forward_embedding(*self.token_grid(x, axis))

    def forward_masked(
        self, x: torch.Tensor, mask: torch.Tensor, axis: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Masked reconstruction (see :class:`~spectrakit.models.specbert.MaskedTransformer`).

        With ``patch_step``, ``x`` and ``axis`` must already lie on the physical patch grid,
        as :meth:`token_grid` returns them (the masked-modeling task resamples first), so
        masks, targets and tokens are those of fine-tuning on any input grid.

        Raises
        ------
        ModelError
            With ``patch_step``, when the axis is not on the physical patch grid.
        """
        if self.patch_step is not None:
            on_physical_grid(self.check_spectra(x, axis), self.patch_step, self.patch_size)
        return super().forward_masked(x, mask, axis)

    def positions(self, n: int, axis: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """Axis encodings of the N patches: (B, N, D) from their mean axis value and spacing."""
        b, p = axis.shape[0], self.patch_size
        axis = axis.to(torch.float64)  # exact patch means: identical in every runtime
        if self.patch_step is not None:  # undo any float32 rounding of the grid's points
            axis = torch.round(axis / self.patch_step) * self.patch_step
        centers = axis.reshape(b, n, p).mean(-1)
        step = axis[:, 1:] - axis[:, :-1]
        step = torch.cat([step, step[:, -1:]], dim=1).abs().reshape(b, n, p).mean(-1)
        width = step * p  # distance between neighbouring tokens
        log_step = torch.log(step.clamp_min(1e-30)).to(like.dtype).unsqueeze(-1)
        return (self.axis_embed(centers, width) + self.spacing_embed(log_step)).to(like.dtype)


def _spectrafm(size: dict[str, Any], kwargs: dict[str, Any]) -> SpectraFM:
    return SpectraFM(**{**size, **kwargs})


@register_model
def spectrafm_tiny(**kwargs: Any) -> SpectraFM:
    """SpectraFM, patch 8, dim 64, depth 2, 4 heads, 16 periods (about 108k parameters)."""
    return _spectrafm(dict(patch_size=8, embed_dim=64, depth=2, num_heads=4, n_freqs=16), kwargs)


@register_model
def spectrafm_small(**kwargs: Any) -> SpectraFM:
    """SpectraFM, patch 8, dim 128, depth 4, 4 heads (about 0.83M parameters)."""
    return _spectrafm(dict(patch_size=8, embed_dim=128, depth=4, num_heads=4), kwargs)


@register_model
def spectrafm_base(**kwargs: Any) -> SpectraFM:
    """SpectraFM, patch 8, dim 256, depth 6, 8 heads, MLP ratio 4 (about 4.8M parameters)."""
    return _spectrafm(dict(patch_size=8, embed_dim=256, depth=6, num_heads=8), kwargs)
