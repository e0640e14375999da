"""Preprocessing of separately measured channels: each channel on its own axis.

:class:`MeasuredChannels` is the :class:`~spectrakit.preprocessing.channels.ChannelPreprocessor`
of a :class:`~spectrakit.core.channel_set.ChannelSet`. It reads the packed form (the
channels side by side on a positional axis), unpacks every measured channel onto its own
axis and applies each preprocessing pipeline to each channel: ``C`` measured channels and
``P`` pipelines give ``C x P`` model input channels, in channel-major order (channel 0 with
every pipeline, then channel 1, ...). Every (channel, pipeline) pair is fitted on its own,
on the training spectra of that channel only, and the model-input channels must come out
equally long (a network needs one length ``L``).

Its configuration is the parent's (one pipeline description per model-input channel) plus
the :class:`~spectrakit.core.channel_set.ChannelLayout`, which a bundle records as
``channels``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.channel_set import ChannelLayout
from spectrakit.core.errors import ConfigError, PreprocessingError
from spectrakit.core.spectra import Spectra
from spectrakit.preprocessing.channels import ChannelPreprocessor, central_window

__all__ = ["MeasuredChannels"]


class MeasuredChannels(ChannelPreprocessor):
    """Fit/transform packed measured channels into model input (n, C x P, L).

    Parameters
    ----------
    layout : ChannelLayout
        Names and axes of the measured channels.
    pipelines : list of (pipeline spec or None), optional
        The ``P`` pipelines applied to every channel (default: the values as they are).

    Attributes
    ----------
    channel_axes_ : list of SpectralAxis
        Model-input axis of each measured channel (each its own; equal lengths).
    """

    def __init__(self, layout: ChannelLayout, pipelines: list[Any] | None = None) -> None:
        per_channel = ChannelPreprocessor(pipelines).pipelines
        self.layout = layout
        self.n_pipelines = len(per_channel)
        self.pipelines = [copy.deepcopy(p) for _ in layout.names for p in per_channel]

    @property
    def channel_names(self) -> list[str]:
        """Model-input channel names: the channel, and ``/<k>`` for pipeline ``k`` when P > 1."""
        if self.n_pipelines == 1:
            return list(self.layout.names)
        return [f"{n}/{k}" for n in self.layout.names for k in range(self.n_pipelines)]

    def channel_inputs(self, packed: Spectra) -> list[Spectra]:
        """The spectra each model-input channel's pipeline reads (its measured channel)."""
        parts = self.layout.unpack(packed)
        return [parts[k // self.n_pipelines] for k in range(len(self.pipelines))]

    def _pairs(self, packed: Spectra) -> list[tuple[Spectra, Any]]:
        return list(zip(self.channel_inputs(packed), self.pipelines, strict=True))

    def fit(
        self, spectra: Spectra, y: Any = None, length_multiple: int | None = None
    ) -> MeasuredChannels:
        """Fit every (channel, pipeline) pair on the packed training spectra."""
        axes = []
        for part, p in self._pairs(spectra):
            if p is None:
                axes.append(part.axis)
            else:
                p.fit(part, y) if y is not None else p.fit(part)
                axes.append(p.output_axis(part.axis))
        per = self.n_pipelines
        for c in range(self.layout.n_channels):  # the pipelines of one channel: one axis
            self._check_axes(axes[c * per : (c + 1) * per])
        self.channel_axes_ = [axes[c * per] for c in range(self.layout.n_channels)]
        self._check_lengths(self.channel_axes_)
        self.input_axis_ = spectra.axis
        self.full_length_ = n = self.channel_axes_[0].n_points
        self.window_ = central_window(n, length_multiple)
        start, stop = self.window_
        self.channel_axes_ = [a.with_values(a.values[start:stop]) for a in self.channel_axes_]
        self.output_axis_ = self.channel_axes_[0]
        return self

    def _check_lengths(self, axes: list[SpectralAxis]) -> None:
        lengths = {name: a.n_points for name, a in zip(self.layout.names, axes, strict=True)}
        if len(set(lengths.values())) > 1:
            raise PreprocessingError(
                "the measured channels have different lengths",
                expected="the same number of points in every channel (the model input is "
                "one array)",
                got=", ".join(f"{n}: {k} points" for n, k in lengths.items()),
                fix="add a resample step to the pipeline giving every channel N points "
                "(each on its own range), or crop the channels to equal lengths",
            )

    def read_range(self) -> tuple[float, float]:
        """The whole packed axis (each channel is conformed to its own axis before packing)."""
        return self.input_axis_.min, self.input_axis_.max

    def transform(self, spectra: Spectra) -> np.ndarray:
        """Model input of shape (n, C x P, L), float32, from packed spectra."""
        if not hasattr(self, "output_axis_"):
            raise PreprocessingError(
                "preprocessing is not fitted", fix="call fit on the training spectra first"
            )
        out = []
        for part, p in self._pairs(spectra):
            vals = part.values if p is None else p.transform(part).values
            out.append(np.asarray(vals, dtype=np.float32))
        start, stop = self.window_
        return np.stack(out, axis=1)[:, :, start:stop]

    @classmethod
    def from_layout(
        cls,
        layout: ChannelLayout,
        config: list[dict | None],
        state: dict[str, np.ndarray] | None,
        output_axis: SpectralAxis,
    ) -> MeasuredChannels:
        """Rebuild a fitted preprocessor from a bundle's ``channels`` and ``preprocessing``."""
        if not isinstance(config, list) or not config or len(config) % layout.n_channels:
            raise ConfigError(
                "the preprocessing does not fit the measured channels",
                expected=f"a multiple of {layout.n_channels} pipeline descriptions",
                got=f"{len(config) if isinstance(config, list) else type(config).__name__}",
                fix="restore the bundle's config.json",
            )
        # channel 0 with the first pipeline states the model axis: the parent checks it
        base = ChannelPreprocessor.from_config(config, state, layout.axes[0], output_axis)
        self = cls.__new__(cls)
        self.layout = layout
        self.n_pipelines = len(config) // layout.n_channels
        self.pipelines = base.pipelines
        self.input_axis_ = layout.packed_axis
        self.window_ = start, stop = base.window_
        firsts = zip(layout.axes, self.pipelines[:: self.n_pipelines], strict=True)
        full = [ax if p is None else p.output_axis(ax) for ax, p in firsts]
        self.channel_axes_ = [a.with_values(a.values[start:stop]) for a in full]
        self.full_length_ = full[0].n_points
        self.output_axis_ = output_axis
        return self
