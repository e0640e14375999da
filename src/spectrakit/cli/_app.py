"""Command dispatch and the one-line error policy (exit 2 on bad input, traceback on --debug)."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import struct
import sys
import zipfile
import zlib
from collections.abc import Sequence

from spectrakit import __version__
from spectrakit.cli._output import add_overwrite_option
from spectrakit.core.atomic import overwrite_allowed
from spectrakit.core.errors import ConfigError, SpectraError
from spectrakit.core.progress import disable_progress, progress_enabled
from spectrakit.core.registry import Registry

__all__ = ["COMMANDS", "build_parser", "main"]

#: every command: name -> module defining ``add_parser(subparsers)`` (imported when the parser
#: is built; a module that is not installed drops its command). Help lists them in this order.
COMMANDS: Registry[str] = Registry("command", error=ConfigError)
for _name in (
    *("info", "convert", "preprocess", "models", "pretrain", "finetune", "predict"),
    *("evaluate", "explain", "export", "serve", "registry", "baseline", "benchmark", "demo"),
    "sign",
):
    COMMANDS.add(_name, f"spectrakit.cli.{_name}")

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
#: commands that write outputs: each gets ``--overwrite`` (``registry`` has it on ``pull``)
WRITERS = ("info", "models", "convert", "preprocess", "pretrain", "finetune", "predict")
WRITERS += ("evaluate", "explain", "export", "baseline", "benchmark", "demo")
#: library errors that mean the input (a file, an archive, a config) is bad, not the code
_BAD_INPUT = (OSError, UnicodeError, RecursionError, EOFError, zipfile.BadZipFile, zlib.error)
_BAD_INPUT += (json.JSONDecodeError, struct.error)
#: the same from libraries loaded on demand: (module, exception class name)
_BAD_INPUT_LAZY = (("yaml", "YAMLError"), ("safetensors", "SafetensorError"))
_BAD_INPUT_LAZY += (("pickle", "UnpicklingError"),)
NO_PROGRESS_HELP = (
    "hide progress bars (they show only on a terminal; SPECTRAKIT_NO_PROGRESS=1 hides them too)"
)


class _DefaultsFormatter(argparse.HelpFormatter):
    """Help that shows each option's default (unless its text already names one)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and "default" not in text.lower()
            and default not in (None, False, argparse.SUPPRESS)
            and not isinstance(action, argparse._VersionAction)
        ):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line + usage hint, exit 2
        self.exit(
            EXIT_BAD_INPUT,
            f"{self.prog}: error: {message}. Run '{self.prog} --help' for usage.\n",
        )


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available command."""
    parser = _Parser(
        prog="spectrakit",
        description="Machine learning on 1D spectra. Run 'spectrakit COMMAND --help' for details.",
    )
    parser.add_argument("--version", action="version", version=f"spectrakit {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks instead of one-line errors"
    )
    parser.add_argument(
        "--no-progress", dest="no_progress_global", action="store_true", help=NO_PROGRESS_HELP
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, path in COMMANDS.items():
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name == path:
                continue  # command not part of this installation
            raise
        module.add_parser(sub)
        if name in WRITERS and name in sub.choices:
            add_overwrite_option(sub.choices[name])
    for command in sub.choices.values():  # also accepted after the command
        if "--no-progress" not in command._option_string_actions:
            command.add_argument("--no-progress", action="store_true", help=NO_PROGRESS_HELP)
    return parser


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:500]


def _bad_input_types() -> tuple[type[BaseException], ...]:
    """``_BAD_INPUT`` plus the parse errors of optional libraries already imported."""
    found: list[type[BaseException]] = list(_BAD_INPUT)
    for module, name in _BAD_INPUT_LAZY:
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            found.append(cls)
    return tuple(found)


def report(command: str, exc: BaseException) -> int:
    """Print one line on standard error for ``exc``; returns the exit status.

    Bad input (a spectrakit error, an unreadable file or archive) exits with 2; anything
    else is a bug: it names the exception and says how to report it, and exits with 1.
    """
    prefix = f"spectrakit {command}: error:"
    if isinstance(exc, SpectraError):
        print(f"{prefix} {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(exc, OSError) and (exc.strerror or exc.filename):
        what = exc.strerror or _one_line(exc) or type(exc).__name__
        where = f": {exc.filename}" if exc.filename else ""
        print(f"{prefix} {what}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(exc, _bad_input_types()):
        detail = "input nested too deeply" if isinstance(exc, RecursionError) else _one_line(exc)
        print(
            f"{prefix} unreadable input ({type(exc).__name__}: {detail or 'no details'})",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    print(
        f"spectrakit {command}: internal error: {type(exc).__name__}: "
        f"{_one_line(exc) or 'no message'} (this is a bug in spectrakit: rerun with --debug "
        "or SPECTRAKIT_DEBUG=1 and report the command with its traceback to the spectrakit "
        "issue tracker)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``spectrakit`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("SPECTRAKIT_DEBUG") == "1"
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(message)s"
    )
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a bad option (one line, exit 2), or --help / --version
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    args._argv = argv  # which options were typed (a --config never overrides those)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    quiet = args.no_progress_global or args.no_progress
    was_disabled = disable_progress(True) if quiet else None
    # commands that train read args.no_progress for their own (Lightning) bars
    args.no_progress = not progress_enabled()
    try:
        return _run(args, debug)
    finally:
        if was_disabled is not None:
            disable_progress(was_disabled)


def _run(args: argparse.Namespace, debug: bool) -> int:
    """Run the chosen command; bad input becomes one line on stderr and exit status 2."""
    try:
        with overwrite_allowed(bool(getattr(args, "overwrite", False))):
            result = args.func(args)
    except KeyboardInterrupt:
        print(f"spectrakit {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last resort: one line, never a traceback
        if debug:
            raise
        return report(args.command, exc)
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
