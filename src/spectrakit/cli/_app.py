"""Command dispatch and the one-line error policy (exit 2 on bad input, traceback on --debug)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import struct
import sys
import warnings
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from spectrakit import __version__
from spectrakit.cli._output import add_overwrite_option
from spectrakit.core.atomic import overwrite_allowed
from spectrakit.core.errors import ConfigError, SpectraError
from spectrakit.core.progress import disable_progress, progress_enabled
from spectrakit.core.registry import Registry

__all__ = ["COMMANDS", "SHARED_OPTIONS", "build_parser", "command_in", "main"]

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
#: a shell reports a command killed by SIGPIPE (its reader closed the pipe) as 128 + 13
EXIT_BROKEN_PIPE = 141

#: every command: name -> module defining ``add_parser(subparsers)``, with its one-line
#: ``summary`` and whether it ``writes`` outputs (then it gets ``--overwrite``; ``registry``
#: has it on ``pull``). A command's module is imported only when its parser is built: ``main``
#: builds the one typed, so ``spectrakit --help`` imports no command module at all.
#: A module that is not installed drops its command. Help lists them in this order.
COMMANDS: Registry[str] = Registry("command", error=ConfigError)
for _name, _summary, _writes in (
    ("info", "summarize spectra files (count, axis, metadata, NaNs, spikes, saturation)", True),
    ("convert", "convert spectra between formats (output atomically written)", True),
    ("preprocess", "apply a preprocessing pipeline (preset or YAML/JSON file) to spectra", True),
    ("models", "list model architectures (family, parameters, axis-aware, masked modeling)", True),
    ("pretrain", "pretrain an encoder by masked spectral modeling (no labels needed)", True),
    ("finetune", "train or fine-tune a model on labelled spectra; writes a bundle", True),
    ("predict", "predict with a model bundle (CSV out: metadata + prediction columns)", True),
    ("evaluate", "metrics (RMSE/MAE/R2/bias or accuracy/F1) and plots of a model on labelled "
     "data", True),
    ("explain", "explain a model's predictions along the spectral axis (CSV + PNG)", True),
    ("export", "export a bundle to ONNX (verified against PyTorch) or pack it as one .zip", True),
    ("serve", "serve predictions over HTTP (POST /predict, /explain; GET /health, /model)", False),
    ("registry", "store, list and fetch model bundles by name and version", False),
    ("baseline", "PLS / PLS-DA / SVM / RF / ridge with cross-validation, test set and "
     "transfer", True),
    ("benchmark", "rank chemometric baselines and deep models on the same splits", True),
    ("demo", "automatic model choice by CV on a real fermentation, against PLS; writes a "
     "report", True),
    ("sign", "sign a bundle so that edits are detected (HMAC secret or ed25519 key)", False),
):  # fmt: skip
    COMMANDS.add(_name, f"spectrakit.cli.{_name}", summary=_summary, writes=_writes)
#: commands that write outputs (each gets ``--overwrite``)
WRITERS = tuple(name for name in COMMANDS if COMMANDS.metadata(name)["writes"])
#: library errors that mean the input (a file, an archive, a config) is bad, not the code
_BAD_INPUT = (OSError, UnicodeError, RecursionError, EOFError, zlib.error)
_BAD_INPUT += (json.JSONDecodeError, struct.error)
#: the same from modules loaded on demand: (module, exception class name)
_BAD_INPUT_LAZY = (("yaml", "YAMLError"), ("safetensors", "SafetensorError"))
_BAD_INPUT_LAZY += (("zipfile", "BadZipFile"),)
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


class _Commands(argparse._SubParsersAction):
    """The command choices; a command's help line is its ``summary`` in :data:`COMMANDS`."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if name in COMMANDS:
            kwargs.setdefault("help", COMMANDS.metadata(name)["summary"])
        return super().add_parser(name, **kwargs)


def _add_no_progress(parser: argparse.ArgumentParser) -> None:
    if "--no-progress" not in parser._option_string_actions:  # also accepted after the command
        parser.add_argument("--no-progress", action="store_true", help=NO_PROGRESS_HELP)


#: options every command parser gets once its module has built it, in one pass:
#: (does the command get it, from its metadata in :data:`COMMANDS`; adds the option)
SHARED_OPTIONS: tuple[tuple[Callable[[Mapping[str, Any]], bool], Callable], ...] = (
    (lambda meta: meta["writes"], add_overwrite_option),
    (lambda meta: True, _add_no_progress),
)


def build_parser(commands: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of the ``spectrakit`` command.

    Parameters
    ----------
    commands : iterable of str, optional
        The commands whose parsers are built (every one by default). The others are only
        listed, with their summary, and their modules are not imported: :func:`main` builds
        just the command on its command line, so start-up stays light.
    """
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
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, action=_Commands
    )
    wanted = set(COMMANDS) if commands is None else set(commands)
    for name, path in COMMANDS.items():
        if name in wanted:
            _add_command(sub, name, path)
        elif importlib.util.find_spec(path) is not None:
            sub.add_parser(name)  # listed; its options are built when it is the command
    return parser


def _add_command(sub: argparse._SubParsersAction, name: str, path: str) -> None:
    """Build command ``name`` from its module ``path``, then add the shared options."""
    try:
        module = importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name == path:
            return  # command not part of this installation
        raise
    module.add_parser(sub)
    command = sub.choices.get(name)
    if command is None:
        return
    meta = COMMANDS.metadata(name)
    for applies, add in SHARED_OPTIONS:
        if applies(meta):
            add(command)


def command_in(argv: Sequence[str]) -> str | None:
    """The command named on ``argv``: its first word that is not an option, if a command.

    The options before the command (``--debug``, ``--no-progress``, ...) take no value,
    so the first other word is the command (or a typo, which the parser reports).
    """
    word = next((w for w in argv if not w.startswith("-")), None)
    return word if word in COMMANDS else None


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
    command = command_in(argv)
    parser = build_parser(() if command is None else (command,))
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


def _warning_line(command: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` that prints one line per warning, without source paths."""

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        text = " ".join(str(message).split())
        print(f"spectrakit {command}: warning: {text}", file=sys.stderr)

    return show


def _run(args: argparse.Namespace, debug: bool) -> int:
    """Run the chosen command; bad input becomes one line on stderr and exit status 2."""
    try:
        with overwrite_allowed(bool(getattr(args, "overwrite", False))), warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _warning_line(args.command)
            result = args.func(args)
    except KeyboardInterrupt:
        print(f"spectrakit {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``spectrakit info x | head``): no message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # the last resort: one line, never a traceback
        if debug:
            raise
        return report(args.command, exc)
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
