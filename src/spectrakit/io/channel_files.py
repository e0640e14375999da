"""Reading separately measured channels: one file per channel, or column groups of one table.

Each channel (an excitation wavelength, a detector, an instrument) is read with its own axis
and the channels are joined by sample id (default column ``sample_id``): row ``i`` of every
channel of the returned :class:`~spectrakit.core.channel_set.ChannelSet` is the same sample,
in the order of the first channel. A single table may hold every channel as column groups
named ``<channel>:<position>`` (``ex277:400.5``, ``ex380:400.5``, ...); its other columns are
metadata shared by the channels.

Missing or duplicated sample ids, channels holding different samples, and metadata that
two channels state differently are refused with one line saying what to fix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from spectrakit.core.channel_set import ChannelSet
from spectrakit.core.errors import DataError, FormatError
from spectrakit.core.spectra import Spectra

__all__ = [
    "DEFAULT_ID",
    "GROUP_SEP",
    "join_channels",
    "parse_channel_files",
    "read_channels",
    "write_channels",
]

#: default name of the sample-id column joining the channels
DEFAULT_ID = "sample_id"
#: separator of a column group's channel name and axis position (``ex277:400.5``)
GROUP_SEP = ":"
_GROUP = re.compile(r"^(?P<channel>[^:]+):(?P<pos>[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$")
_SHOWN = 3


def parse_channel_files(text: str) -> dict[str, str] | str:
    """``a.csv,b.csv`` or ``277=a.csv,380=b.csv`` as ``{name: path}``; one path as it is.

    Names default to the file stems. A single entry without a name is one table holding
    every channel as column groups.
    """
    entries = [e.strip() for e in str(text).split(",") if e.strip()]
    if not entries:
        raise DataError(
            "no channel files given",
            expected="comma-separated files, e.g. ex277.csv,ex380.csv (or 277=a.csv,380=b.csv)",
            got=repr(text),
        )
    if len(entries) == 1 and "=" not in entries[0]:
        return entries[0]
    out: dict[str, str] = {}
    for entry in entries:
        name, sep, path = entry.partition("=")
        name, path = (name.strip(), path.strip()) if sep else (Path(entry).stem, entry)
        if name in out:
            raise DataError(
                f"channel {name!r} is given twice",
                expected="one file per channel",
                got=f"{out[name]} and {path}",
                fix="name the channels: --channel-files 277=a.csv,380=b.csv",
            )
        out[name] = path
    return out


def write_channels(channels: ChannelSet, folder: str | os.PathLike, prefix: str = "") -> str:
    """Write one table-format CSV per channel, ``<folder>/<prefix><name>.csv`` (atomic).

    Every file holds the set's metadata (the sample ids included), so
    :func:`read_channels` joins them back.

    Returns
    -------
    str
        The ``name=path,...`` list that ``--channel-files`` (and
        :func:`parse_channel_files`) reads.
    """
    from spectrakit.io._registry import write

    folder = Path(folder)
    entries = []
    for name, spectra in channels.items():
        path = folder / f"{prefix}{name}.csv"
        write(spectra, path)
        entries.append(f"{name}={path}")
    return ",".join(entries)


def read_channels(
    sources: str | os.PathLike | Mapping[str, Any] | Sequence[Any],
    *,
    sample_id: str = DEFAULT_ID,
    format: str | None = None,
    **options: Any,
) -> ChannelSet:
    """Read measured channels and join them by sample id.

    Parameters
    ----------
    sources : path, sequence of paths or mapping of name to path
        One file per channel (a sequence names the channels by file stem), or one table
        whose spectral columns are groups ``<channel>:<position>``.
    sample_id : str, default="sample_id"
        Metadata column identifying the samples in every channel.
    format : str, optional
        Reader format of the per-channel files (guessed by default).
    **options
        Axis options of the readers (``unit``, ``kind``, ``laser_wavelength``), applied to
        every channel.

    Returns
    -------
    ChannelSet
        Channels in the order given, rows in the order of the first channel.
    """
    if isinstance(sources, str | os.PathLike):
        spectra = _read_groups(Path(sources), options)
    else:
        named = sources if isinstance(sources, Mapping) else {Path(p).stem: p for p in sources}
        spectra = _read_files(named, format, options)
    return join_channels(spectra, sample_id)


def _read_files(named: Mapping[str, Any], format: str | None, options: dict) -> dict:
    from spectrakit.io._registry import read

    if len(named) < 2:
        raise DataError(
            "measured channels need at least two channel files",
            expected="a.csv,b.csv (one file per channel)",
            got=", ".join(map(str, named.values())) or "none",
            fix="give one file per channel, or one table with column groups 'ch:position'",
        )
    return {str(name): read(path, format=format, **options) for name, path in named.items()}


def _read_groups(path: Path, options: dict) -> dict[str, Spectra]:
    """The column groups ``<channel>:<position>`` of one table, one Spectra each."""
    from spectrakit.io._axis_info import merge_axis_options
    from spectrakit.io._limits import reading

    with reading(path):
        frame = _read_table(path)
        groups: dict[str, list[str]] = {}
        meta = []
        for col in map(str, frame.columns):
            m = _GROUP.match(col)
            if m:
                groups.setdefault(m.group("channel").strip(), []).append(col)
            else:
                meta.append(col)
        if len(groups) < 2:
            raise DataError(
                f"{path.name} holds no channel column groups",
                expected="spectral columns named <channel>:<position>, e.g. ex277:400.5, "
                "for at least two channels",
                got=f"{len(groups)} group(s); columns " + ", ".join(map(str, frame.columns[:5])),
                fix="name the columns per channel, or give one file per channel",
            )
        axis = merge_axis_options(None, options)
        out = {}
        for name, cols in groups.items():
            part = frame[meta + cols].rename(columns={c: c.split(GROUP_SEP, 1)[1] for c in cols})
            out[name] = Spectra.from_pandas(part, source=f"{path.name} channel {name}", **axis)
    return out


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FormatError(
            "channel table not found", got=str(path), fix="check the path of the table"
        )
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return pd.read_csv(path, sep=sep, comment=None)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise FormatError(
            f"cannot read the channel table {path.name}",
            expected="a CSV/TSV or Parquet table",
            got=" ".join(str(exc).split())[:120],
        ) from None


def join_channels(spectra: Mapping[str, Spectra], sample_id: str = DEFAULT_ID) -> ChannelSet:
    """Channels aligned by ``sample_id``, in the row order of the first channel.

    Raises
    ------
    DataError
        A channel without the id column, empty or duplicated ids, channels holding
        different samples, or a metadata column two channels state differently.
    """
    ids = {name: _ids(s, name, sample_id) for name, s in spectra.items()}
    first_name = next(iter(spectra))
    order = ids[first_name]
    aligned: dict[str, Spectra] = {}
    for name, s in spectra.items():
        _same_samples(order, ids[name], first_name, name, sample_id)
        position = pd.Series(range(len(ids[name])), index=ids[name])
        aligned[name] = s.select(position.loc[order].to_numpy())
    return ChannelSet(aligned, _joined_meta(aligned, sample_id))


def _ids(s: Spectra, name: str, sample_id: str) -> pd.Index:
    if sample_id not in s.meta.columns:
        raise DataError(
            f"channel {name!r} has no sample-id column {sample_id!r}",
            expected=f"a column {sample_id!r} naming the sample of every spectrum",
            got="columns " + (", ".join(map(str, s.meta.columns[:6])) or "(none)"),
            fix="add the column, or name the id column (--sample-id)",
        )
    col = s.meta[sample_id]
    if col.isna().any() or (col.astype(str).str.strip() == "").any():
        row = int((col.isna() | (col.astype(str).str.strip() == "")).to_numpy().argmax())
        raise DataError(
            f"channel {name!r} has a spectrum without a sample id",
            expected=f"a value in column {sample_id!r} on every row",
            got=f"an empty id on row {row + 1}",
            fix="fill in the sample id or drop that row",
        )
    index = pd.Index(col.astype(str))
    dup = index[index.duplicated()].unique()
    if len(dup):
        raise DataError(
            f"channel {name!r} has duplicated sample ids",
            expected="one spectrum per sample and channel",
            got=f"{len(dup)} ids repeated: " + ", ".join(dup[:_SHOWN]),
            fix="average or drop the repeated measurements first",
        )
    return index


def _same_samples(ref: pd.Index, other: pd.Index, ref_name: str, name: str, col: str) -> None:
    missing, extra = ref.difference(other), other.difference(ref)
    if len(missing) or len(extra):
        parts = []
        if len(missing):
            parts.append(f"{len(missing)} missing ({', '.join(missing[:_SHOWN])})")
        if len(extra):
            parts.append(f"{len(extra)} not in {ref_name!r} ({', '.join(extra[:_SHOWN])})")
        raise DataError(
            f"channels {ref_name!r} and {name!r} hold different samples",
            expected=f"the same {len(ref)} {col} values in every channel",
            got=f"channel {name!r}: " + "; ".join(parts),
            fix="measure every sample on every channel, or drop the incomplete samples",
        )


def _joined_meta(aligned: Mapping[str, Spectra], sample_id: str) -> pd.DataFrame:
    """The first channel's metadata plus the columns only later channels have."""
    items = list(aligned.items())
    meta = items[0][1].meta.reset_index(drop=True).copy()
    for name, s in items[1:]:
        other = s.meta.reset_index(drop=True)
        for col in other.columns:
            if col not in meta.columns:
                meta[col] = other[col]
            elif col != sample_id and not _same_values(meta[col], other[col]):
                row = int((meta[col].astype(str) != other[col].astype(str)).to_numpy().argmax())
                raise DataError(
                    f"channels {items[0][0]!r} and {name!r} disagree on {col!r}",
                    expected="the same metadata for a sample in every channel",
                    got=f"{meta[col].iloc[row]!r} vs {other[col].iloc[row]!r} for "
                    f"{sample_id} {meta[sample_id].iloc[row]}",
                    fix=f"correct the value, or keep {col!r} in one channel's file only",
                )
    return meta


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    both_na = a.isna() & b.isna()
    return bool(((a.astype(str) == b.astype(str)) | both_na).all())
