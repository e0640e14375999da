"""``--channel-files`` and ``--sample-id``: separately measured channels as a command's input."""

from __future__ import annotations

import argparse
from typing import Any

from spectrakit.core.errors import ConfigError

__all__ = ["add_channel_options", "read_data", "read_val"]


def add_channel_options(parser: argparse.ArgumentParser) -> None:
    """The options reading measured channels instead of ``--data``."""
    parser.add_argument(
        "--channel-files",
        help="separately measured channels instead of --data: one file per channel "
        "(a.csv,b.csv, or named 277=a.csv,380=b.csv), joined by sample id, or one table "
        "whose spectral columns are groups <channel>:<position>",
    )
    parser.add_argument(
        "--sample-id",
        default="sample_id",
        help="metadata column joining the channel files (default: sample_id)",
    )


def read_data(args: argparse.Namespace) -> Any:
    """``--data`` as Spectra, or ``--channel-files`` as a ChannelSet (exactly one of them)."""
    from spectrakit.cli._common import read_input

    data, files = getattr(args, "data", None), getattr(args, "channel_files", None)
    if (data is None) == (files is None):
        raise ConfigError(
            "give the spectra once",
            expected="--data FILE or --channel-files A,B (one of them)",
            got="both" if data is not None else "neither",
            fix="one table of spectra: --data; one file per measured channel: --channel-files",
        )
    if data is not None:
        return read_input(data, args)
    return _read_channel_files(files, args)


def read_val(args: argparse.Namespace) -> Any:
    """``--val``: spectra, or measured channels in ``--channel-files`` form when those are."""
    if getattr(args, "channel_files", None) is None:
        from spectrakit.cli._common import read_input

        return read_input(args.val, args)
    return _read_channel_files(args.val, args)


def _read_channel_files(files: str, args: argparse.Namespace) -> Any:
    from spectrakit.cli._common import read_options
    from spectrakit.io.channel_files import parse_channel_files, read_channels

    return read_channels(
        parse_channel_files(files),
        sample_id=args.sample_id,
        format=getattr(args, "format", None),
        **read_options(args),
    )
