"""Random re-gridding of a training batch, so that SpectraFM learns to read any grid.

A patch token is a fixed number of points, so its values depend on the sampling density:
the same band spans 8 points on a fine grid and 2 on a coarse one. Trained on one grid
only, the patch embedding never sees another density and fails elsewhere. During
training each batch is resampled (linear interpolation, on the physical axis) onto a
random grid: a random density between ``1/max_factor`` and ``max_factor`` times the
input's, and, with probability ``p_subrange``, a random sub-range of at least
``min_fraction`` of the axis. Inference is unchanged (and so is the exported graph).
"""

from __future__ import annotations

import math

import torch

from spectrakit.core.errors import ModelError

__all__ = ["interp_rows", "on_physical_grid", "physical_grid", "random_grid"]


def interp_rows(x: torch.Tensor, axis: torch.Tensor, new_axis: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of each row onto its new axis.

    Parameters
    ----------
    x : Tensor (B, C, L)
        Spectra.
    axis : Tensor (B, L)
        Ascending axis of each row.
    new_axis : Tensor (B, M)
        Positions to read, inside the range of ``axis`` (clamped otherwise).

    Returns
    -------
    Tensor (B, C, M)
    """
    length = axis.shape[1]
    # index of the first axis value above each new position (a comparison count, which
    # every runtime supports, unlike a sorted search)
    above = (axis.unsqueeze(1) <= new_axis.unsqueeze(2)).sum(-1)
    idx = above.clamp(1, length - 1)
    a0, a1 = axis.gather(1, idx - 1), axis.gather(1, idx)
    t = ((new_axis - a0) / (a1 - a0).clamp_min(1e-30)).clamp(0.0, 1.0).to(x.dtype)
    gather = (idx - 1).unsqueeze(1).expand(-1, x.shape[1], -1)
    y0, y1 = x.gather(2, gather), x.gather(2, gather + 1)
    return y0 + t.unsqueeze(1) * (y1 - y0)


def random_grid(
    x: torch.Tensor,
    axis: torch.Tensor,
    patch: int,
    *,
    max_factor: float = 2.0,
    p_subrange: float = 0.5,
    min_fraction: float = 0.4,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample a batch onto one random grid (density and, sometimes, sub-range).

    Parameters
    ----------
    x : Tensor (B, C, L)
        Spectra.
    axis : Tensor (B, L)
        Their axis (ascending or descending, the same direction in every row).
    patch : int
        Patch size P; the new length is a whole number of patches (at least two).
    max_factor : float
        Density drawn log-uniformly in [1/max_factor, max_factor] times the input's.
    p_subrange : float
        Probability of keeping a random sub-range only.
    min_fraction : float
        Smallest sub-range, as a fraction of the axis span.

    Returns
    -------
    (Tensor (B, C, M), Tensor (B, M))
        Resampled spectra and their axis, ascending.
    """
    if axis[0, -1] < axis[0, 0]:
        x, axis = x.flip(-1), axis.flip(-1)
    gen = torch.rand(4).tolist()
    factor = math.exp((2 * gen[0] - 1) * math.log(max_factor))
    lo_f, hi_f = 0.0, 1.0
    if gen[1] < p_subrange:
        width = min_fraction + (1 - min_fraction) * gen[2]
        lo_f = (1 - width) * gen[3]
        hi_f = lo_f + width
    n_new = max(2, round(axis.shape[1] * (hi_f - lo_f) * factor / patch)) * patch
    lo, hi = axis[:, :1], axis[:, -1:]
    frac = torch.linspace(lo_f, hi_f, n_new, dtype=axis.dtype, device=axis.device)
    new_axis = lo + (hi - lo) * frac.unsqueeze(0)
    return interp_rows(x, axis, new_axis), new_axis


def physical_grid(
    x: torch.Tensor, axis: torch.Tensor, step: float, patch: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resample a batch onto patches of a fixed physical width, anchored at axis 0.

    Every point lies at a multiple of ``step`` and every patch starts at a multiple of
    ``step * patch`` (in axis units), so the same physical spectrum gives the same patch
    values and the same token positions on any input grid, and a sub-range gives a
    subset of the full range's tokens.

    Parameters
    ----------
    x : Tensor (B, C, L)
        Spectra.
    axis : Tensor (B, L)
        Their axis (ascending or descending, the same direction in every row).
    step : float
        Point spacing of the resampled grid, in axis units.
    patch : int
        Patch size P.

    Returns
    -------
    (Tensor (B, C, M), Tensor (B, M))
        Resampled spectra (M a multiple of P, at least P) and their ascending axis.
    """
    if axis[0, -1] < axis[0, 0]:
        x, axis = x.flip(-1), axis.flip(-1)
    axis = axis.to(torch.float64)
    width = step * patch
    lo, hi = axis[:, 0].max(), axis[:, -1].min()  # the range every row covers
    first = torch.ceil(lo / width - 1e-9) * width
    n_patches = torch.floor(((hi - first) / step + 1 + 1e-6) / patch).clamp_min(1)
    offsets = torch.arange(patch, dtype=axis.dtype, device=axis.device) * step
    count = n_patches.to(torch.int64)
    starts = first + width * torch.arange(count, dtype=axis.dtype, device=axis.device)
    new_axis = (starts.unsqueeze(1) + offsets).reshape(1, -1)
    new_axis = new_axis.expand(axis.shape[0], -1)
    return interp_rows(x, axis, new_axis), new_axis


def on_physical_grid(axis: torch.Tensor, step: float, patch: int) -> None:
    """Check that an axis is a physical patch grid, as :func:`physical_grid` returns it.

    Parameters
    ----------
    axis : Tensor (B, L)
        Ascending axis (possibly rounded to float32).
    step, patch : float, int
        Point spacing and patch size of the grid.

    Raises
    ------
    ModelError
        When a point is off the multiples of ``step``, points are not consecutive
        multiples, or a patch does not start at a multiple of ``step * patch``.
    """
    units = axis.to(torch.float64) / step
    index = torch.round(units)
    ok = bool((units - index).abs().max() < 1e-3)
    ok = ok and bool((index[:, 1:] - index[:, :-1] == 1).all())
    ok = ok and bool((torch.remainder(index[:, 0], patch) == 0).all())
    if not ok:
        raise ModelError(
            "the axis is not on the model's physical patch grid",
            expected=f"consecutive multiples of patch_step {step:g}, patches starting at "
            f"multiples of {step * patch:g}",
            got=f"axis {float(axis.min()):g}-{float(axis.max()):g} with {axis.shape[1]} points",
            fix="resample first: x, axis = model.token_grid(x, axis)",
        )
