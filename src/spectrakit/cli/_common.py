"""Argument helpers shared by commands (input files, axis unit options, outputs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from spectrakit.core.spectra import Spectra
from spectrakit.io import atomic_path, read

__all__ = ["add_read_options", "read_input", "write_json"]


def add_read_options(parser: argparse.ArgumentParser) -> None:
    """``--format`` and ``--unit`` for commands that read spectra."""
    parser.add_argument("--format", help="input format (default: from extension and content)")
    parser.add_argument(
        "--unit",
        help="axis unit when the file does not record it (cm-1, nm, um, eV, keV, channel)",
    )


def read_input(path: str | Path, args: argparse.Namespace) -> Spectra:
    """Read one input with the command's ``--format``/``--unit`` options.

    ``builtin:<name>`` reads a shipped data set (``builtin:fermentation-test``, ...).
    """
    if str(path).startswith("builtin:"):
        from spectrakit.datasets.reference import load_builtin

        return load_builtin(str(path)[len("builtin:") :])
    options: dict[str, Any] = {}
    if getattr(args, "unit", None):
        options["unit"] = args.unit
    return read(path, format=getattr(args, "format", None), **options)


def write_json(data: Any, path: str | Path | None) -> None:
    """Write JSON atomically to ``path``, or print it when ``path`` is ``None`` or ``-``."""
    text = json.dumps(data, indent=2, default=str)
    if path is None or str(path) == "-":
        sys.stdout.write(text + "\n")
        return
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
