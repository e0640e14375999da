"""Command-line options shared by the training commands: ``--config`` files and devices.

A YAML/JSON ``--config`` file supplies values for any option of the command (keys spelled
as the flags, with ``-`` or ``_``); a flag typed on the command line wins, even when its value
equals the default. ``--print-config`` prints the options in effect, as a file that
``--config`` accepts, and exits.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from spectrakit.core.errors import ConfigError

__all__ = [
    "add_config_option",
    "add_trainer_options",
    "apply_config",
    "effective_config",
    "print_config",
    "trainer_kwargs",
    "typed_options",
]


_INTERNAL = ("help", "config", "print_config", "_defaults_from", "_argv", "func", "command")
_UNSET = object()


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` (YAML or JSON) and ``--print-config``."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="YAML/JSON file of option values (keys as the flags); typed flags override it",
    )
    parser.add_argument(
        "--print-config",
        action="store_true",
        help="print the options in effect (YAML, usable as --config) and exit",
    )


def typed_options(parser: argparse.ArgumentParser, argv: list[str], command: str) -> set[str]:
    """Destinations of the options typed on the command line (default-valued ones included).

    Parameters
    ----------
    parser : ArgumentParser
        The command's parser.
    argv : list of str
        The whole command line, command name included.
    command : str
        The command's name, where its own options start.

    Returns
    -------
    set of str
        ``dest`` of every option present in ``argv``.
    """
    tokens = argv[argv.index(command) + 1 :] if command in argv else list(argv)
    probe = argparse.Namespace(**{a.dest: _UNSET for a in parser._actions})
    parser.parse_known_args(tokens, namespace=probe)  # defaults fill only missing names
    return {k for k, v in vars(probe).items() if v is not _UNSET}


def effective_config(args: argparse.Namespace) -> dict[str, Any]:
    """Every option of the command with its value in effect (a ``--config`` mapping)."""
    parser: argparse.ArgumentParser = args._defaults_from
    dests = [a.dest for a in parser._actions if a.option_strings and a.dest not in _INTERNAL]
    return {d.replace("_", "-"): getattr(args, d) for d in dict.fromkeys(dests)}


def print_config(args: argparse.Namespace) -> None:
    """Write :func:`effective_config` as YAML to standard output."""
    import yaml

    print(yaml.safe_dump(effective_config(args), sort_keys=False), end="")


def add_trainer_options(parser: argparse.ArgumentParser, *, epochs: int, batch_size: int) -> None:
    """Epochs, batch size, seed, early stopping, checkpoints, resume and Lightning devices."""
    g = parser.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=epochs, help=f"maximum epochs (default {epochs})")
    g.add_argument("--batch-size", type=int, default=batch_size, help="batch size")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument(
        "--patience", type=int, default=20, help="early-stopping patience in epochs (0 = off)"
    )
    g.add_argument(
        "--checkpoint-every", type=int, default=50, help="steps between last.ckpt refreshes"
    )
    g.add_argument(
        "--resume", action="store_true", help="continue an interrupted run from <out>.run/"
    )
    g.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    g.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    g.add_argument(
        "--loggers",
        default="csv,tensorboard",
        help="comma-separated: csv, tensorboard, wandb (Weights & Biases, when installed)",
    )
    d = parser.add_argument_group("devices (passed to Lightning)")
    d.add_argument("--accelerator", default="auto", help="cpu | gpu | mps | auto")
    d.add_argument("--devices", default="auto", help="number of devices, or 'auto'")
    d.add_argument("--num-nodes", type=int, default=1, help="machines for distributed training")
    d.add_argument("--strategy", default="auto", help="auto | ddp | ddp_spawn | fsdp ...")
    d.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the network for the fit (off by default; see benchmarks/training.py)",
    )
    d.add_argument("--precision", help="32-true | bf16-mixed | 16-mixed (default: by device)")
    add_config_option(parser)
    parser.set_defaults(_defaults_from=parser)


def apply_config(args: argparse.Namespace) -> argparse.Namespace:
    """Fill options not given on the command line from ``args.config``."""
    path = getattr(args, "config", None)
    if not path:
        return args
    parser: argparse.ArgumentParser = args._defaults_from
    argv = getattr(args, "_argv", None)
    typed = typed_options(parser, argv, args.command) if argv is not None else None
    text = Path(path).read_text(encoding="utf-8")
    try:
        if Path(path).suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except (ValueError, ImportError) as exc:
        raise ConfigError(
            f"cannot parse {path}", expected="YAML or JSON", got=str(exc)[:120]
        ) from exc
    if data is None:
        return args
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} is not a mapping of options",
            expected="key: value lines",
            got=type(data).__name__,
        )
    defaults = {a.dest: a.default for a in parser._actions}
    for key, value in data.items():
        dest = str(key).replace("-", "_")
        if dest not in defaults or dest in _INTERNAL:
            raise ConfigError(
                f"unknown option {key!r} in {path}",
                expected="one of " + ", ".join(sorted(d for d in defaults if d != "help")),
                got=str(key),
            )
        given = dest in typed if typed is not None else getattr(args, dest) != defaults[dest]
        if not given:
            if isinstance(value, list) and dest in ("target", "extra_features"):
                value = ",".join(map(str, value))
            setattr(args, dest, value)
    return args


def trainer_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of the training API from parsed options."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(int(args.threads))
    devices: Any = args.devices
    if isinstance(devices, str) and devices.isdigit():
        devices = int(devices)
    return {
        "max_epochs": int(args.epochs),
        "batch_size": int(args.batch_size),
        "seed": int(args.seed),
        "patience": int(args.patience) or None,
        "checkpoint_every": int(args.checkpoint_every),
        "resume": bool(args.resume),
        "progress": not args.no_progress,
        "loggers": tuple(x.strip() for x in str(args.loggers).split(",") if x.strip()),
        "accelerator": args.accelerator,
        "devices": devices,
        "num_nodes": int(args.num_nodes),
        "strategy": args.strategy,
        "precision": args.precision,
        "compile": bool(getattr(args, "compile", False)),
    }
