"""Fine-tuning on separately measured channels from a pretrained bundle (``init``).

A fixed-grid encoder sees the grid it was pretrained on, so every measured channel is
brought onto that grid before packing: onto the init bundle's own channel axes when it was
itself trained on measured channels (same names), else onto its one axis. A channel that
does not cover the grid is refused in one line, naming the channel. The encoder's input
layer is widened from the pretrained input channels to the ``C x P`` model-input channels
by repeating its weights, divided by the repeat count (the pretrained response to a
spectrum given on every channel is kept).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from spectrakit import bundle as _bundle
from spectrakit.core.channel_set import ChannelSet
from spectrakit.core.errors import AxisError
from spectrakit.predict.core import conform_axis

__all__ = ["channels_on_init", "init_pipelines", "widen_inputs"]


def channels_on_init(channels: ChannelSet, init: str | Path) -> ChannelSet:
    """``channels`` with every channel on the grid the encoder of ``init`` was trained on.

    Raises
    ------
    DataError
        The init bundle's measured channels are not all given.
    AxisError
        A channel does not cover its grid (the message names the channel).
    """
    cfg = _bundle.read_config(Path(init))
    layout = cfg.channel_layout
    if layout is None:
        grids = dict.fromkeys(channels.names, cfg.axis)
    else:
        layout.require(channels)
        grids = dict(zip(layout.names, layout.axes, strict=True))
    moved = {name: _on_grid(channels[name], grids[name], name) for name in grids}
    return ChannelSet(moved, channels.meta)


def _on_grid(spectra: Any, grid: Any, name: str) -> Any:
    try:
        return conform_axis(spectra, grid)
    except AxisError as exc:
        raise AxisError(
            f"channel {name!r} cannot be put on the pretrained encoder's grid",
            expected=f"{grid.describe()} ({grid.kind})",
            got=f"{spectra.axis.describe()} ({spectra.axis.kind}): {exc.message}",
            fix="measure the channel over the pretrained range, or train from scratch "
            "(drop --init)",
        ) from exc


def init_pipelines(init: str | Path) -> list[Any] | None:
    """The preprocessing of ``init`` as pipeline descriptions (refitted on every channel).

    ``None`` when the init bundle has no preprocessing.
    """
    cfg = _bundle.read_config(Path(init))
    pipes = list(cfg.preprocessing)
    if cfg.channel_layout is not None:  # one description per (channel, pipeline)
        pipes = pipes[: len(pipes) // cfg.channel_layout.n_channels]
    return pipes if any(p is not None for p in pipes) else None


def widen_inputs(
    pretrained: dict[str, torch.Tensor], own: dict[str, torch.Tensor], n_in: int, n_own: int
) -> dict[str, torch.Tensor]:
    """``pretrained`` tensors with the input layer widened from ``n_in`` to ``n_own`` channels.

    A tensor whose second dimension is ``n_own / n_in`` times the pretrained one (and the
    rest equal) is the input layer: a convolution (D, C, k) or a patch embedding
    (D, C x P), channel-major. It is repeated along that dimension and divided by the
    factor. Other tensors pass unchanged.
    """
    if n_own == n_in or n_own % n_in:
        return pretrained
    factor = n_own // n_in
    out = dict(pretrained)
    for key, v in pretrained.items():
        mine = own.get(key)
        if mine is None or mine.ndim < 2 or mine.shape == v.shape or mine.ndim != v.ndim:
            continue
        if (
            mine.shape[1] == factor * v.shape[1]
            and mine.shape[0] == v.shape[0]
            and (mine.shape[2:] == v.shape[2:])
        ):
            out[key] = torch.cat([v] * factor, dim=1) / factor
    return out
