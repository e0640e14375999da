"""Command-line options of the training commands, derived from the typed configurations.

Every field of :class:`~spectrakit.training.config.FitConfig` /
:class:`~spectrakit.training.config.PretrainConfig` that has a flag becomes an ``argparse``
option whose type checks the value at parse time (``--lr abc`` or ``--batch-size 0`` give one
line and exit status 2). A YAML/JSON ``--config`` file supplies values for any option of the
command (keys spelled as the flags or the fields, with ``-`` or ``_``), checked the same way;
a flag typed on the command line wins, even when its value equals the default.
``--print-config`` prints the options in effect, as a file that ``--config`` accepts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from spectrakit.core.errors import ConfigError
from spectrakit.training.config import NOT_SET, Spec, TrainingConfig, check_value
from spectrakit.training.option_spec import close_matches

__all__ = [
    "add_config_option",
    "add_training_options",
    "apply_config",
    "config_from_args",
    "effective_config",
    "print_config",
    "typed_options",
]

_INTERNAL = ("help", "config", "print_config", "_defaults_from", "_argv", "func", "command",
             "_config_class")  # fmt: skip
_DEVICE_FIELDS = ("accelerator", "devices", "num_nodes", "strategy", "precision")
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


def flag_of(name: str, spec: Spec) -> str:
    """The command-line flag of field ``name`` (``""``: none)."""
    return ("--" + name.replace("_", "-")) if spec.flag is None else spec.flag


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


class _FlagType:
    """argparse ``type`` of one field: the field's check, failures as one parse error."""

    def __init__(self, flag: str, spec: Spec) -> None:
        self.flag, self.spec = flag, spec
        self.__name__ = spec.kind

    def __call__(self, text: str) -> Any:
        if self.spec.optional and text.strip().lower() in ("none", "null"):
            return None
        try:
            return check_value(self.flag, self.spec, text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(_detail(exc)) from None


def _detail(exc: ConfigError) -> str:
    parts = [f"expected {exc.expected}" if exc.expected else exc.message]
    if exc.got is not None:
        parts.append(f"got {exc.got}")
    text = ", ".join(parts)
    return text + (f". Fix: {exc.fix}" if exc.fix else "")


def _default(spec: Spec, default: Any) -> Any:
    value = default if spec.cli_default is NOT_SET else spec.cli_default
    return ",".join(value) if spec.kind == "names" and isinstance(value, tuple) else value


def add_training_options(
    parser: argparse.ArgumentParser, config: type[TrainingConfig], skip: tuple[str, ...] = ()
) -> None:
    """Add one flag per field of ``config`` (types and ranges checked at parse time).

    Parameters
    ----------
    parser : ArgumentParser
        The command's parser.
    config : FitConfig or PretrainConfig class
        Source of the flags, defaults, checks and help texts.
    skip : tuple of str
        Fields the command defines itself.
    """
    train = parser.add_argument_group("training")
    devices = parser.add_argument_group("devices (passed to Lightning)")
    for f in dataclasses.fields(config):
        spec: Spec = f.metadata["spec"]
        flag = flag_of(f.name, spec)
        if not flag or f.name in skip:
            continue
        group = devices if f.name in _DEVICE_FIELDS else train
        if spec.kind == "bool":
            group.add_argument(flag, action="store_true", help=spec.help)
            continue
        default = _default(spec, f.default)
        text = spec.help
        if default is not None and default == 0 and "default" not in text:
            text += f" (default: {default})"  # argparse's formatter skips falsy defaults
        kwargs: dict[str, Any] = {"default": default, "help": text}
        if spec.kind == "any":
            group.add_argument(flag, **kwargs)
        elif spec.choices and spec.kind in ("str", "schedule"):
            group.add_argument(flag, choices=spec.choices, **kwargs)
        else:
            group.add_argument(flag, type=_FlagType(flag, spec), **kwargs)
    add_config_option(parser)
    parser.set_defaults(_defaults_from=parser, _config_class=config)


def config_from_args(args: argparse.Namespace, **overrides: Any) -> Any:
    """The command's configuration from parsed options (and ``overrides``).

    Returns
    -------
    FitConfig or PretrainConfig
    """
    config: type[TrainingConfig] = args._config_class
    values: dict[str, Any] = {}
    for f in dataclasses.fields(config):
        spec: Spec = f.metadata["spec"]
        dest = _dest(flag_of(f.name, spec)) if flag_of(f.name, spec) else ""
        if not dest or not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        values[f.name] = (not value) if spec.invert else value
    values.update(overrides)
    return config(**values)


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
    return {d.replace("_", "-"): _plain(getattr(args, d)) for d in dict.fromkeys(dests)}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def print_config(args: argparse.Namespace) -> None:
    """Write :func:`effective_config` as YAML to standard output."""
    import yaml

    print(yaml.safe_dump(effective_config(args), sort_keys=False), end="")


def _load(path: str) -> Any:
    """The mapping of a YAML/JSON file, or one ConfigError."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
        if Path(path).suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        first = " ".join(str(exc).split())[:160]
        raise ConfigError(
            f"cannot parse {path}",
            expected="a YAML or JSON mapping of options",
            got=first,
            fix="correct the syntax (key: value, one per line)",
        ) from None


def _resolve_key(key: Any, args: argparse.Namespace, path: str) -> tuple[str, Spec | None, bool]:
    """(argparse dest, field spec or None, inverted) of a config-file key."""
    parser: argparse.ArgumentParser = args._defaults_from
    config: type[TrainingConfig] = args._config_class
    dests = {a.dest for a in parser._actions if a.dest not in _INTERNAL}
    name = str(key).replace("-", "_")
    specs = config.specs()
    field = config.ALIASES.get(name, name)
    if field in specs and flag_of(field, specs[field]):
        spec = specs[field]
        return _dest(flag_of(field, spec)), spec, spec.invert and field == name
    if name in dests:
        for f, spec in specs.items():  # a flag spelling (epochs, no-progress, mixup)
            if flag_of(f, spec) and _dest(flag_of(f, spec)) == name:
                return name, spec, False
        return name, None, False
    close = close_matches(name, sorted(dests | set(specs)), n=3)
    raise ConfigError(
        f"unknown option {key!r} in {path}",
        expected="an option of this command (see --help)",
        got=str(key),
        fix=f"did you mean {' or '.join(close)}?" if close else "remove it",
    )


def _file_value(dest: str, spec: Spec | None, invert: bool, value: Any, path: str) -> Any:
    """A config-file value checked like the flag it stands for."""
    where = f" in {path}"
    if spec is None:
        if isinstance(value, list) and dest in ("target", "data"):
            return ",".join(map(str, value)) if dest == "target" else [str(v) for v in value]
        if value is not None and not isinstance(value, str | int | float):
            raise ConfigError(
                f"invalid {dest}{where}", expected="a string or number", got=repr(value)[:80]
            )
        return value
    if value is None and not (spec.optional or spec.kind == "any"):
        raise ConfigError(f"invalid {dest}{where}", expected=spec.expected(), got="null")
    value = check_value(dest.replace("_", "-"), spec, value, where)
    return (not value) if invert else value


def apply_config(args: argparse.Namespace) -> argparse.Namespace:
    """Fill options not given on the command line from ``args.config`` (checked values)."""
    path = getattr(args, "config", None)
    if not path:
        return args
    parser: argparse.ArgumentParser = args._defaults_from
    argv = getattr(args, "_argv", None)
    typed = typed_options(parser, argv, args.command) if argv is not None else set()
    data = _load(path)
    if data is None:
        return args
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} is not a mapping of options",
            expected="key: value lines",
            got=type(data).__name__,
        )
    unset = {a.dest for a in parser._actions if a.default is None}  # null: the flag's default
    for key, value in data.items():
        dest, spec, invert = _resolve_key(key, args, path)
        if not (value is None and dest in unset):
            value = _file_value(dest, spec, invert, value, path)
        if dest not in typed:
            setattr(args, dest, value)
    return args
