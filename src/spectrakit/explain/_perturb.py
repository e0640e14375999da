"""Removing bands from spectra: the replacement values shared by occlusion and deletion curves."""

from __future__ import annotations

import numpy as np
import torch

from spectrakit.core.errors import ConfigError

__all__ = ["FILLS", "baseline_tensor", "fill_removed"]

#: how removed points are replaced.
FILLS = ("interp", "mean", "zero")


def baseline_tensor(
    x: torch.Tensor, baseline: str | float | np.ndarray | torch.Tensor
) -> torch.Tensor:
    """A reference input of the same shape as ``x`` (n, C, L).

    Parameters
    ----------
    x : Tensor of shape (n, C, L)
        The inputs.
    baseline : {"zero", "mean"}, float, or array broadcastable to (n, C, L)
        ``"zero"``: all zeros; ``"mean"``: the mean of ``x`` over spectra (pass the training
        mean as an array to use it instead); a number: a constant.
    """
    if isinstance(baseline, str):
        if baseline == "zero":
            return torch.zeros_like(x)
        if baseline == "mean":
            return x.mean(dim=0, keepdim=True).expand_as(x).clone()
        raise ConfigError(
            "unknown baseline",
            expected="'zero', 'mean', a number or an array",
            got=repr(baseline),
        )
    ref = torch.as_tensor(np.asarray(baseline), dtype=x.dtype)
    try:
        return torch.broadcast_to(ref.reshape(ref.shape[-1:]) if ref.ndim == 1 else ref, x.shape)
    except RuntimeError as exc:
        raise ConfigError(
            "baseline does not match the inputs",
            expected=f"a number or an array broadcastable to {tuple(x.shape)}",
            got=f"shape {tuple(ref.shape)}",
        ) from exc


def fill_removed(
    x: torch.Tensor,
    removed: np.ndarray,
    fill: str = "interp",
    reference: np.ndarray | torch.Tensor | None = None,
) -> torch.Tensor:
    """Replace the ``removed`` points of each spectrum.

    Parameters
    ----------
    x : Tensor of shape (n, C, L)
        Spectra.
    removed : bool ndarray of shape (n, L) or (L,)
        Points to replace.
    fill : {"interp", "mean", "zero"}
        ``"interp"`` draws a straight line between the nearest kept neighbours (the band
        is cut out and the baseline under it kept); ``"mean"`` uses ``reference`` (e.g. the
        training mean, shape (L,) or (C, L)), default the mean of ``x``; ``"zero"`` zeros.

    Returns
    -------
    Tensor of shape (n, C, L)
        A modified copy of ``x``.
    """
    if fill not in FILLS:
        raise ConfigError("unknown fill", expected="one of " + ", ".join(FILLS), got=repr(fill))
    n, c, length = x.shape
    mask = np.broadcast_to(np.asarray(removed, dtype=bool), (n, length))
    out = x.detach().clone()
    if fill == "zero":
        out[torch.as_tensor(mask)[:, None, :].expand_as(out)] = 0.0
        return out
    if fill == "mean":
        ref = baseline_tensor(x, "mean" if reference is None else np.asarray(reference))
        m = torch.as_tensor(mask)[:, None, :].expand_as(out)
        out[m] = ref[m]
        return out
    grid = np.arange(length)
    arr = out.numpy()
    for i in range(n):
        gone = mask[i]
        if not gone.any():
            continue
        keep = ~gone
        if not keep.any():
            arr[i] = 0.0
            continue
        for ch in range(c):
            arr[i, ch, gone] = np.interp(grid[gone], grid[keep], arr[i, ch, keep])
    return torch.from_numpy(arr)
