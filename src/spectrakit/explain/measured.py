"""Explanations of a model on separately measured channels: one attribution per channel.

A model on measured channels reads every channel on its own axis (an emission range per
excitation line, say), so one attribution axis cannot hold them. :func:`per_channel`
splits the attributions (n, C, L) of the model-input channels, summed over each channel's
pipelines, into one :class:`~spectrakit.explain.Attribution` per measured channel, on that
channel's own model-input axis. All channels explain the same output, so their values
are on one scale and :meth:`ChannelAttributions.top_bands` ranks bands across channels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.explain._attribution import Attribution

__all__ = ["ChannelAttributions", "per_channel"]


@dataclass(frozen=True, eq=False)
class ChannelAttributions(Mapping[str, Attribution]):
    """Attributions of one explained output, per measured channel.

    Parameters
    ----------
    channels : dict of str to Attribution
        Channel name -> attribution (n_spectra, L) on the channel's own axis.
    """

    channels: dict[str, Attribution]

    def __getitem__(self, name: str) -> Attribution:
        return self.channels[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.channels)

    def __len__(self) -> int:
        return len(self.channels)

    @property
    def names(self) -> list[str]:
        """Channel names, in model-input order."""
        return list(self.channels)

    @property
    def _first(self) -> Attribution:
        return next(iter(self.channels.values()))

    @property
    def method(self) -> str:
        """The attribution method."""
        return self._first.method

    @property
    def n_spectra(self) -> int:
        """Number of explained spectra (samples)."""
        return self._first.n_spectra

    @property
    def target_names(self) -> tuple[str, ...]:
        """The explained output of each spectrum."""
        return self._first.target_names

    def top_bands(self, k: int = 5, index: int | None = None) -> pd.DataFrame:
        """The ``k`` most important bands over all channels, with a ``channel`` column.

        Columns as :meth:`Attribution.top_bands`, ``rank`` re-numbered across channels
        (by ``importance``) and ``share`` the fraction of all channels' attribution mass.
        """
        tables, mass = [], 0.0
        for name, attr in self.channels.items():
            bands = attr.top_bands(k, index=index)
            profile = np.abs(attr.values if index is None else attr.values[index : index + 1])
            total = float(profile.mean(axis=0).sum())
            bands["share"] = bands["share"] * total
            mass += total
            bands.insert(0, "channel", name)
            tables.append(bands)
        table = pd.concat(tables, ignore_index=True)
        table = table.sort_values("importance", ascending=False, kind="stable").head(k)
        table["share"] = table["share"] / mass if mass > 0 else 0.0
        table["rank"] = np.arange(1, len(table) + 1)
        return table.reset_index(drop=True)


def per_channel(
    values: np.ndarray,
    inputs: np.ndarray,
    names: Sequence[str],
    axes: Sequence[SpectralAxis],
    **fields: Any,
) -> ChannelAttributions:
    """One :class:`Attribution` per measured channel.

    Parameters
    ----------
    values : ndarray of shape (n, C, L)
        Attributions per measured channel (its pipelines summed).
    inputs : ndarray of shape (n, C x P, L)
        The model inputs; each channel's plot shows the mean of its P pipelines.
    names : sequence of str
        The C channel names.
    axes : sequence of SpectralAxis
        Each channel's model-input axis (L points).
    **fields
        The other :class:`Attribution` fields (``method``, ``target``, ``target_names``,
        ``meta``, ``params``).
    """
    per = inputs.shape[1] // len(names)
    out = {}
    for c, (name, axis) in enumerate(zip(names, axes, strict=True)):
        shown = inputs[:, c * per : (c + 1) * per].mean(axis=1)
        out[name] = Attribution(values=values[:, c], axis=axis, inputs=shown, **fields)
    return ChannelAttributions(out)
