"""Separately measured channels in a request: ``{"channels": {name: {...}}}`` as a ChannelSet.

A model on measured channels takes every channel on its own axis. A ``channels`` body
gives each channel's spectra, with its ``axis`` (and ``unit``) when it lies on another
grid than the one the bundle recorded; without ``axis`` the values must lie on the
recorded axis of that channel. The channel set then goes the way of a local one
(:func:`spectrakit.predict.core.measured_input`: each channel brought onto its own axis).
"""

from __future__ import annotations

from typing import Any

from spectrakit.core.channel_set import ChannelLayout, ChannelSet
from spectrakit.core.spectra import Spectra
from spectrakit.serve.codec import Decoded
from spectrakit.serve.errors import BadRequest

__all__ = ["channel_set"]


def channel_set(decoded: Decoded, layout: ChannelLayout | None, meta: Any) -> ChannelSet:
    """The request's channels as a :class:`ChannelSet` (422 for a mismatch)."""
    if layout is None:
        raise BadRequest(
            422, "this model takes one spectrum per sample: send 'spectra', not 'channels'"
        )
    axes = dict(zip(layout.names, layout.axes, strict=True))
    unknown = [n for n in decoded.channels or {} if n not in axes]
    if unknown:
        raise BadRequest(
            422, f"unknown channel {unknown[0]!r}: the model's channels are "
            + ", ".join(layout.names),
        )  # fmt: skip
    parts = {n: _one(n, d, axes[n]) for n, d in (decoded.channels or {}).items()}
    import pandas as pd

    return ChannelSet(parts, None if meta is None else pd.DataFrame(meta))


def _one(name: str, d: Decoded, axis: Any) -> Spectra:
    if d.axis is None:
        if d.values.shape[1] != axis.n_points:
            raise BadRequest(
                422, f"channels[{name!r}]: expected {axis.n_points} values per spectrum (its "
                f"axis {axis.describe()}), got {d.values.shape[1]}; send its 'axis' to have "
                "it resampled",
            )  # fmt: skip
        return Spectra(d.values, axis)
    unit = d.unit or axis.unit
    kind = axis.kind if unit == axis.unit else None
    return Spectra(d.values, d.axis, unit=unit, kind=kind,
                   laser_wavelength=axis.laser_wavelength)  # fmt: skip
