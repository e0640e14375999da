"""One way to declare a command's parser: its description, an option table, its handler."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MODEL", "Option", "add_options", "command_parser", "option"]

#: one option: its flags and the keywords of ``ArgumentParser.add_argument``.
Option = tuple[tuple[str, ...], dict[str, Any]]


def option(*flags: str, **spec: Any) -> Option:
    """An entry of an option table (the arguments ``add_argument`` would take)."""
    return flags, spec


#: the bundle a command reads (predict, evaluate, explain, export).
MODEL = option("--model", required=True, help="bundle folder or .zip")


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Add every option of a table, in order."""
    for flags, spec in options:
        parser.add_argument(*flags, **spec)


def command_parser(
    sub: argparse._SubParsersAction,
    name: str,
    description: str,
    run: Callable[[argparse.Namespace], int],
    options: Sequence[Option] = (),
    **defaults: Any,
) -> argparse.ArgumentParser:
    """The parser of command ``name``: described, with ``options``, dispatching to ``run``.

    ``defaults`` are further namespace defaults (e.g. ``allow_nan=True``).
    """
    parser = sub.add_parser(name, description=description)
    add_options(parser, options)
    parser.set_defaults(func=run, **defaults)
    return parser
