"""Argument helpers shared by commands (input files, axis unit options, outputs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectrakit.cli._types import bounded_float
from spectrakit.core.errors import ConfigError
from spectrakit.core.units import KINDS
from spectrakit.io import atomic_path

if TYPE_CHECKING:  # reading loads pandas: only when a command reads
    from spectrakit.core.spectra import Spectra

__all__ = [
    "add_read_options",
    "log",
    "read_input",
    "read_input_blocks",
    "read_options",
    "write_json",
]


def add_read_options(parser: argparse.ArgumentParser) -> None:
    """``--format``, ``--unit``, ``--kind``, ``--laser`` and ``--instruments``."""
    parser.add_argument("--format", help="input format (default: from extension and content)")
    parser.add_argument(
        "--unit",
        help="axis unit when the file does not record it (cm-1, nm, um, eV, keV, channel)",
    )
    parser.add_argument(
        "--kind",
        choices=KINDS,
        help="axis kind when the file does not record it (a cm-1 axis is 'wavenumber' "
        "unless 'raman_shift' is given)",
    )
    parser.add_argument(
        "--laser",
        type=bounded_float(100, 10_000),
        help="laser (excitation) wavelength in nm of a Raman-shift axis",
    )
    parser.add_argument(
        "--instruments",
        help="blocks to read from a multi-block input, comma-separated (the instruments of "
        "a Dig4Bio folder, e.g. anton_532,kaiser); all by default",
    )


def read_options(args: argparse.Namespace) -> dict[str, Any]:
    """Reader keyword arguments from ``--unit``/``--kind``/``--laser``."""
    options: dict[str, Any] = {}
    for option, key in (("unit", "unit"), ("kind", "kind"), ("laser", "laser_wavelength")):
        if getattr(args, option, None) is not None:
            options[key] = getattr(args, option)
    if getattr(args, "allow_nan", False):
        options["allow_nan"] = True  # e.g. `info`, which counts NaN instead of refusing them
    return options


def read_input_blocks(path: str | Path, args: argparse.Namespace) -> dict[str, Spectra]:
    """Every block of one input (one per instrument of a Dig4Bio folder), ``--instruments`` kept.

    Blocks of a multi-block input are tagged with their name (``instrument`` column) so
    that they stay told apart once stacked.
    """
    if str(path).startswith("builtin:"):
        from spectrakit.datasets.reference import load_builtin

        return {str(path): load_builtin(str(path)[len("builtin:") :])}
    from spectrakit.io import read_blocks

    blocks = read_blocks(path, format=getattr(args, "format", None), **read_options(args))
    wanted = [b.strip() for b in (getattr(args, "instruments", None) or "").split(",") if b.strip()]
    if wanted:
        unknown = [b for b in wanted if b not in blocks]
        if unknown:
            raise ConfigError(
                f"{Path(path).name} has no block {', '.join(unknown)}",
                expected="one of " + ", ".join(blocks),
                got=", ".join(unknown),
                fix="name instruments as listed by 'spectrakit info " + str(path) + "'",
            )
        blocks = {b: blocks[b] for b in wanted}
    if len(blocks) > 1:
        blocks = {
            n: s if "instrument" in s.meta.columns else s.assign(instrument=n)
            for n, s in blocks.items()
        }
    return blocks


def read_input(path: str | Path, args: argparse.Namespace) -> Spectra:
    """Read one input with the command's read options, as one block of spectra.

    ``builtin:<name>`` reads a shipped data set (``builtin:fermentation-test``, ...).
    Blocks on one axis are stacked; blocks on different axes (instruments of a Dig4Bio
    folder) are combined onto the grid they all cover (:func:`spectrakit.combine`), and the
    grid is reported on standard error.
    """
    from spectrakit.core.common_grid import combine
    from spectrakit.core.spectra import Spectra

    blocks = read_input_blocks(path, args)
    items = list(blocks.values())
    if len(items) == 1:
        return items[0]
    if all(s.axis.allclose(items[0].axis) for s in items):
        return Spectra.concat(items)
    combined = combine(items)
    log(
        f"{Path(path).name}: combined {len(items)} blocks ({', '.join(blocks)}) onto the "
        f"common grid {combined.axis.describe()} (the range all of them cover; choose "
        "blocks with --instruments)"
    )
    return combined


def log(message: str) -> None:
    """A progress or decision line on standard error (standard output stays for results)."""
    sys.stderr.write(message + "\n")


def write_json(data: Any, path: str | Path | None) -> None:
    """Write JSON atomically to ``path``, or print it when ``path`` is ``None`` or ``-``."""
    text = json.dumps(data, indent=2, default=str)
    if path is None or str(path) == "-":
        sys.stdout.write(text + "\n")
        return
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
