"""Separately measured channels of the same samples: :class:`ChannelSet` and its layout.

Some instruments measure every sample several times, once per channel: one spectrum per
excitation wavelength, per detector or per instrument. Each channel has its own axis (an
emission range for each excitation line, say), so the channels cannot share one
:class:`~spectrakit.Spectra`. A :class:`ChannelSet` holds one ``Spectra`` per channel, rows
aligned (row ``i`` of every channel is the same sample) and one metadata table.

Training and inference move a channel set through code written for one ``Spectra`` in its
*packed* form: the channels' values side by side on a positional axis (``channel`` unit,
``index`` kind). :class:`ChannelLayout` (the names and axes of the channels, recorded in a
bundle) packs a channel set, after bringing every channel onto its own recorded axis, and
unpacks the packed values back into one ``Spectra`` per channel on that axis. Channels are
never resampled onto each other's axes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError
from spectrakit.core.spectra import Spectra

__all__ = ["ChannelLayout", "ChannelSet"]

#: at most this many measured channels (the bundle schema states the same bound)
MAX_CHANNELS = 64


def _check_names(names: list[str]) -> None:
    if not names:
        raise DataError(
            "a channel set needs at least one channel",
            expected="one Spectra per channel",
            got="none",
        )
    if len(names) > MAX_CHANNELS:
        raise DataError(
            "too many channels",
            expected=f"at most {MAX_CHANNELS}",
            got=str(len(names)),
        )
    bad = [n for n in names if not isinstance(n, str) or not n.strip() or "," in n]
    if bad:
        raise DataError(
            "channel names must be non-empty text without commas",
            expected="names such as '277', '380' or 'detector_a'",
            got=", ".join(map(repr, bad[:3])),
        )


class ChannelSet:
    """The spectra of the same samples on several separately measured channels.

    Parameters
    ----------
    channels : mapping of str to Spectra
        One ``Spectra`` (n, L_c) per channel, in channel order; all have the same rows.
        Each keeps its own axis (lengths may differ before preprocessing).
    meta : DataFrame, optional
        One row per sample (targets, ids, groups). Default: the first channel's metadata.

    Examples
    --------
    >>> a = Spectra(np.ones((2, 3)), [1.0, 2.0, 3.0])
    >>> b = Spectra(np.zeros((2, 4)), [5.0, 6.0, 7.0, 8.0])
    >>> ChannelSet({"277": a, "380": b}).pack().shape
    (2, 7)
    """

    def __init__(self, channels: Mapping[str, Spectra], meta: pd.DataFrame | None = None) -> None:
        items = dict(channels)
        _check_names(list(items))
        for name, s in items.items():
            if not isinstance(s, Spectra):
                raise DataError(
                    f"channel {name!r} is not Spectra",
                    expected="a spectrakit.Spectra per channel",
                    got=type(s).__name__,
                )
        first = next(iter(items.values()))
        rows = {name: s.n_spectra for name, s in items.items()}
        if len(set(rows.values())) > 1:
            raise DataError(
                "the channels hold different numbers of samples",
                expected=f"{first.n_spectra} spectra in every channel (one per sample)",
                got=", ".join(f"{n}: {k}" for n, k in rows.items()),
                fix="give every channel the same samples, in the same order",
            )
        self._channels = items
        meta = first.meta if meta is None else meta
        self._meta = meta.reset_index(drop=True)
        if len(self._meta) != first.n_spectra:
            raise DataError(
                "channel-set metadata has the wrong number of rows",
                expected=str(first.n_spectra),
                got=str(len(self._meta)),
            )

    # ------------------------------------------------------------------ views
    @property
    def names(self) -> list[str]:
        """Channel names, in model-input order."""
        return list(self._channels)

    @property
    def meta(self) -> pd.DataFrame:
        """Metadata (n, k): one row per sample."""
        return self._meta

    @property
    def n_spectra(self) -> int:
        """Number of samples n."""
        return len(self._meta)

    @property
    def layout(self) -> ChannelLayout:
        """Names and axes of the channels."""
        return ChannelLayout(tuple(self._channels), tuple(s.axis for s in self._channels.values()))

    def __len__(self) -> int:
        return self.n_spectra

    def __contains__(self, name: object) -> bool:
        return name in self._channels

    def __getitem__(self, name: str) -> Spectra:
        """The channel ``name`` (its spectra carry the set's metadata)."""
        if name not in self._channels:
            raise DataError(
                f"no channel {name!r}",
                expected="one of " + ", ".join(self._channels),
                got=repr(name),
            )
        return self._channels[name].with_meta(self._meta)

    def items(self) -> Iterator[tuple[str, Spectra]]:
        """(name, spectra) pairs in channel order."""
        for name in self._channels:
            yield name, self[name]

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}: {s.axis.describe()}" for n, s in self._channels.items())
        return f"ChannelSet({self.n_spectra} samples; {parts})"

    def select(self, rows: Any) -> ChannelSet:
        """The samples ``rows`` (integer, slice, mask or index array) of every channel."""
        picked = {n: s.select(rows) for n, s in self._channels.items()}
        meta = self[self.names[0]].select(rows).meta
        return ChannelSet(picked, meta)

    def pack(self) -> Spectra:
        """The packed form (n, sum of L_c) on the positional axis of :attr:`layout`."""
        return self.layout.pack(self)


@dataclass(frozen=True)
class ChannelLayout:
    """Names and axes of measured channels; packs and unpacks their values.

    Parameters
    ----------
    names : tuple of str
        Channel names, in model-input order.
    axes : tuple of SpectralAxis
        Each channel's own axis (L_c,).
    """

    names: tuple[str, ...]
    axes: tuple[SpectralAxis, ...]

    def __post_init__(self) -> None:
        _check_names(list(self.names))
        if len(self.names) != len(self.axes) or len(set(self.names)) != len(self.names):
            raise DataError(
                "a channel layout needs one axis per distinct channel name",
                got=f"{len(self.names)} names, {len(set(self.names))} distinct, "
                f"{len(self.axes)} axes",
            )

    @property
    def n_channels(self) -> int:
        """Number of measured channels C."""
        return len(self.names)

    @property
    def packed_axis(self) -> SpectralAxis:
        """Positional axis of the packed values (sum of L_c points)."""
        total = sum(a.n_points for a in self.axes)
        return SpectralAxis(np.arange(total, dtype=np.float64), unit="channel", kind="index")

    def pack(
        self,
        channels: ChannelSet,
        conform: Callable[[Spectra, SpectralAxis], Spectra] | None = None,
    ) -> Spectra:
        """The values of ``channels`` side by side, channel ``c`` on ``axes[c]``.

        Parameters
        ----------
        channels : ChannelSet
            Must hold every channel of the layout (extra channels are not used).
        conform : callable, optional
            ``conform(spectra, axis)`` bringing a channel measured on another grid onto its
            recorded axis (e.g. :func:`spectrakit.predict.core.conform_axis`); without it a
            channel must already lie on its axis.

        Returns
        -------
        Spectra
            (n, sum of L_c) on :attr:`packed_axis`, with the set's metadata.
        """
        if not isinstance(channels, ChannelSet):
            raise DataError(
                "measured channels need a ChannelSet",
                expected="channels " + ", ".join(self.names) + " (one table per channel)",
                got=type(channels).__name__,
                fix="read them with spectrakit.io.read_channels (CLI: --channel-files)",
            )
        self.require(channels)
        parts = []
        for name, axis in zip(self.names, self.axes, strict=True):
            s = channels[name]
            if not (s.axis.n_points == axis.n_points and s.axis.allclose(axis)):
                s = _on_axis(s, axis, name, conform)
            parts.append(np.asarray(s.values))
        return Spectra(np.hstack(parts), self.packed_axis, channels.meta, allow_nan=True)

    def require(self, channels: ChannelSet) -> None:
        """Raise :class:`DataError` unless ``channels`` holds every channel of the layout."""
        missing = [n for n in self.names if n not in channels]
        if missing:
            raise DataError(
                f"channel {', '.join(missing)} is missing",
                expected="channels " + ", ".join(self.names),
                got="channels " + ", ".join(channels.names),
                fix="give one table per channel the model was trained on (--channel-files)",
            )

    def unpack(self, packed: Spectra) -> list[Spectra]:
        """One ``Spectra`` per channel, on its own axis, from the packed values."""
        total = self.packed_axis.n_points
        if packed.n_points != total or packed.axis.kind != "index":
            raise DataError(
                "packed channel values do not match the channel layout",
                expected=f"{total} positional points ({', '.join(self.names)})",
                got=packed.axis.describe(),
                fix="pack the channels with the same layout",
            )
        out, start = [], 0
        for axis in self.axes:
            stop = start + axis.n_points
            out.append(Spectra(packed.values[:, start:stop], axis, packed.meta, allow_nan=True))
            start = stop
        return out

    def to_list(self) -> list[dict]:
        """JSON-able description, ``[{"name", "axis"}, ...]`` (see :meth:`from_list`)."""
        pairs = zip(self.names, self.axes, strict=True)
        return [{"name": n, "axis": a.to_dict()} for n, a in pairs]

    @classmethod
    def from_list(cls, items: list[dict]) -> ChannelLayout:
        """The layout recorded by :meth:`to_list`."""
        names = tuple(str(d["name"]) for d in items)
        return cls(names, tuple(SpectralAxis.from_dict(d["axis"]) for d in items))


def _on_axis(
    s: Spectra,
    axis: SpectralAxis,
    name: str,
    conform: Callable[[Spectra, SpectralAxis], Spectra] | None,
) -> Spectra:
    if conform is None:
        raise DataError(
            f"channel {name!r} is not on its recorded axis",
            expected=axis.describe(),
            got=s.axis.describe(),
            fix="resample it onto the channel's axis first",
        )
    return conform(s, axis)
