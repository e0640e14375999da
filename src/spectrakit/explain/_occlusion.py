"""Occlusion by spectral window (Zeiler & Fergus 2014), with bands cut out physically.

Captum's ``Occlusion`` replaces a window by a fixed baseline; for spectra the natural
replacement is the straight line under the band, which depends on the window position, so
the sliding window is run here with :func:`fill_removed`.
"""

from __future__ import annotations

import numpy as np
import torch

from spectrakit.core.errors import ConfigError
from spectrakit.explain._inputs import Prepared
from spectrakit.explain._perturb import fill_removed
from spectrakit.explain._registry import register_method

__all__: list[str] = []


def _score(prep: Prepared, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return prep.forward(x).gather(1, target[:, None])[:, 0]


@register_method("occlusion")
def occlusion(
    prep: Prepared,
    target: torch.Tensor,
    *,
    window: float | None = None,
    stride: float | None = None,
    fill: str = "interp",
    reference: np.ndarray | None = None,
) -> torch.Tensor:
    """Drop in the target output when a window of the spectrum is removed.

    Parameters
    ----------
    window : float, optional
        Window width in axis units (default: 2 % of the axis range, at least 3 points).
    stride : float, optional
        Step between windows in axis units (default: half the window).
    fill : {"interp", "mean", "zero"}
        How the window is replaced (see :func:`~spectrakit.explain.fill_removed`).
    reference : ndarray of shape (L,), optional
        Replacement for ``fill="mean"`` (e.g. the training mean).
    """
    length = prep.x.shape[-1]
    step = abs(prep.axis.spacing) if length > 1 else 1.0
    span = prep.axis.max - prep.axis.min
    width = max(3, round((0.02 * span if window is None else float(window)) / step))
    if width > length:
        raise ConfigError(
            "occlusion window is wider than the spectrum",
            expected=f"window <= {span:g} {prep.axis.unit}",
            got=f"{window} {prep.axis.unit}",
        )
    hop = max(1, round((width * step / 2 if stride is None else float(stride)) / step))
    starts = list(range(0, length - width + 1, hop))
    if starts[-1] != length - width:
        starts.append(length - width)
    full = _score(prep, prep.x, target)
    windows = (starts, width, fill, reference)
    if not prep.channels:
        return _occlude(prep, target, full, windows, slice(None))
    per = prep.x.shape[1] // len(prep.channels)  # one measured channel's inputs at a time
    rows = [slice(c * per, (c + 1) * per) for c in range(len(prep.channels))]
    return torch.stack([_occlude(prep, target, full, windows, r) for r in rows], dim=1)


def _occlude(
    prep: Prepared, target: torch.Tensor, full: torch.Tensor, windows: tuple, rows: slice
) -> torch.Tensor:
    """Mean drop (n, L) of the target when each window of input channels ``rows`` is removed."""
    starts, width, fill, reference = windows
    length = prep.x.shape[-1]
    total = torch.zeros(prep.x.shape[0], length)
    count = torch.zeros(length)
    for s in starts:
        removed = np.zeros(length, dtype=bool)
        removed[s : s + width] = True
        x = prep.x.clone()
        x[:, rows] = fill_removed(prep.x[:, rows], removed, fill, reference)
        drop = full - _score(prep, x, target)
        total[:, s : s + width] += drop[:, None]
        count[s : s + width] += 1
    return total / count.clamp(min=1)
