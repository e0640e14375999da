"""``spectrakit finetune``: train a model on labelled spectra (from scratch or pretrained)."""

from __future__ import annotations

import argparse
import sys

from spectrakit.cli._auto import add_auto_options, refuse_auto_only, run_auto
from spectrakit.cli._channels import add_channel_options, read_data, read_val
from spectrakit.cli._common import add_read_options
from spectrakit.cli._output import claim_dir
from spectrakit.cli._parser import command_parser, option
from spectrakit.cli._targets import check_targets
from spectrakit.core.errors import ConfigError
from spectrakit.training.cli_options import (
    add_training_options,
    apply_config,
    config_from_args,
    print_config,
)
from spectrakit.training.config import SCHEDULES, FitConfig

_SCHEDULES = SCHEDULES  # the flag's choices (a test keeps them equal to tasks.optim's)

CHEMOMETRIC = ("pls", "plsda", "ridge", "svm", "rf")
EXAMPLE = (
    "example: spectrakit finetune --data train.csv --target glucose --init encoder "
    "--freeze all-but-last-2 --out glucose-model --lr auto"
)


OPTIONS = (
    option("--data", help="labelled spectra (table format)"),
    option("--target", required=True, help="target column(s), comma-separated"),
    option("--out", required=True, help="output bundle directory"),
    option(
        "--val",
        help="validation spectra (default: hold out --val-fraction); with --channel-files, "
        "the validation channels in the same form",
    ),
    option(
        "--name-template",
        help="write the bundle to OUT/<name> with name from the recipe, e.g. "
        "'{model} y={targets} c={channels} t={transforms} {split} s={seed} "
        "eps={label_smoothing}' (fields: model task targets channels transforms "
        "augmentation split seed label_smoothing mixup)",
    ),
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    description = "Supervised training (regression, classification, multi-label). " + EXAMPLE
    p = command_parser(sub, "finetune", description, run, OPTIONS)
    add_read_options(p)
    add_channel_options(p)
    add_auto_options(p)
    add_training_options(p, FitConfig)


def _task(spectra, targets: list[str], task: str | None) -> str:
    import pandas as pd

    if task:
        return task
    col = spectra.meta.get(targets[0])
    if col is not None and len(targets) == 1 and not pd.api.types.is_numeric_dtype(col):
        return "classification"
    return "regression"


def _chemometric(args: argparse.Namespace, train, targets: list[str], task: str):
    from spectrakit.training.chemometric import fit_chemometric

    if args.ood == "energy":
        raise ConfigError(
            "--ood energy needs a network's logits",
            expected="--ood auto, t2q, dime, mahalanobis, knn or none",
            got=f"--model {args.model}",
        )
    return fit_chemometric(
        train,
        targets,
        model=args.model,
        task=task,
        pipeline=args.pipeline,
        out=args.out,
        ood=args.ood,
        false_rejection=args.false_rejection,
        seed=int(args.seed),
        screen=args.screen,
        bounds=(args.target_min, args.target_max),
    )


def run(args: argparse.Namespace) -> int:
    from spectrakit.training import fit_supervised

    args = apply_config(args)
    if args.print_config:
        print_config(args)
        return 0
    claim_dir(None if args.name_template else args.out, args)  # templated: checked below
    train = read_data(args)
    measured = args.channel_files is not None
    targets = [t.strip() for t in str(args.target).split(",") if t.strip()]
    task = _task(train, targets, args.task)
    check_targets(train, targets, task)
    if measured and args.model in CHEMOMETRIC:
        _refuse_measured(args)
    if measured and args.model == "auto":
        return _report(_auto_channels(args, train, targets, task), args)
    if args.model == "auto":
        return _report(run_auto(args, train, targets, task), args)
    refuse_auto_only(args)
    if args.model in CHEMOMETRIC:
        return _report(_chemometric(args, train, targets, task), args)
    if str(args.model).startswith("chemometric_"):
        raise ConfigError(
            f"{args.model} holds a fitted chemometric model and is not trained by gradient",
            expected="--model " + " | ".join(CHEMOMETRIC) + " or a network",
            got=f"--model {args.model}",
            fix="use --model pls (or plsda, ridge, svm, rf)",
        )
    augment = _augmentation(args.augment) if args.augment else None
    config = config_from_args(args, task=task, augment=augment)
    val = read_val(args) if args.val else None
    args.out = out = _out_dir(args, task, targets, augment, getattr(train, "names", None))
    if val is not None:
        check_targets(val, targets, task, training=False)
    claim_dir(out, args)
    predictor = fit_supervised(train, targets, config=config, val=val, out=out)
    return _report(predictor, args)


def _auto_channels(args: argparse.Namespace, train, targets: list[str], task: str):
    """``--model auto`` on measured channels: a network family chosen by CV."""
    from spectrakit.training.auto_channels import auto_fit_channels

    given = [f"--{k}" for k in ("unlabeled", "master", "slave", "init", "val", "split")
             if getattr(args, k, None)]  # fmt: skip
    if len(targets) != 1 or given:
        raise ConfigError(
            "--model auto on measured channels chooses a network by cross-validation",
            expected="one --target, without " + ", ".join(given or ["--init"]),
            got=", ".join(targets) + "".join(f" with {g}" for g in given),
            fix="give one target and drop those options, or choose a network (--model cnn1d_tiny)",
        )
    if args.groups and args.groups not in train.meta.columns:
        raise ConfigError(
            "unknown --groups column", expected=", ".join(train.meta.columns), got=args.groups
        )
    groups = None if not args.groups else train.meta[args.groups].to_numpy()
    config = config_from_args(args, task=task)
    claim_dir(args.out, args)
    predictor, table = auto_fit_channels(train, targets[0], config, groups=groups, out=args.out)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    auto = predictor.config.metrics["auto"]
    print(f"chosen: {auto['chosen']} (lowest {auto['folds']}-fold CV {auto['criterion']})")
    return predictor


def _refuse_measured(args: argparse.Namespace) -> None:
    what = f"--model {args.model}"
    raise ConfigError(
        f"measured channels (--channel-files) do not combine with {what}",
        expected="a network taking several input channels (e.g. --model cnn1d_tiny)",
        got=what,
        fix="choose a network, e.g. --model cnn1d_tiny",
    )


#: below this held-out R2 a regression is called weak
WEAK_R2 = 0.5


def weak_fit_hint(metrics: dict, classes) -> str | None:
    """A note when the held-out figures say the model learned little, with what to try.

    Regression: R2 below :data:`WEAK_R2`. Classification: accuracy below halfway between
    chance (one over the number of classes) and 1.

    Examples
    --------
    >>> weak_fit_hint({"cv_r2": 0.12}, None).split("):")[0]
    'note: the fit is weak (cv_r2 0.12'
    >>> weak_fit_hint({"val_accuracy": 0.9}, ["a", "b"]) is None
    True
    """
    r2 = {k: v for k, v in metrics.items() if k.split("_")[-1] == "r2" or "_r2_" in k}
    acc = {k: v for k, v in metrics.items() if k in ("cv_accuracy", "val_accuracy")}
    weak = {k: v for k, v in r2.items() if isinstance(v, float) and v < WEAK_R2}
    if acc and classes:
        chance = 1.0 / len(classes)
        weak |= {k: v for k, v in acc.items() if v < chance + (1.0 - chance) / 2}
    if not weak:
        return None
    shown = ", ".join(f"{k} {v:.3g}" for k, v in weak.items())
    return (
        f"note: the fit is weak ({shown}): try --model auto (PLS and networks ranked by CV), "
        "a preprocessing --pipeline, or more labelled spectra"
    )


def _report(predictor, args: argparse.Namespace) -> int:
    metrics = predictor.config.metrics
    shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float))
    print(f"model written to {args.out} ({shown})")
    hint = None if args.model == "auto" else weak_fit_hint(metrics, predictor.classes)
    if hint:
        print(hint, file=sys.stderr)
    if predictor.ood is not None:
        print(
            f"OOD detector: {predictor.ood.name}, threshold flags "
            f"{100 * predictor.ood.false_rejection_:g} % of held-out training spectra "
            f"({metrics.get('ood_calibration', 'holdout')})"
        )
    return 0


def _augmentation(spec: str):
    """An augmentation from a JSON/YAML file or inline JSON (``augmentation_from_config``)."""
    import json
    from pathlib import Path

    import yaml

    from spectrakit.augment import augmentation_from_config

    path = Path(spec)
    try:
        if path.suffix.lower() in (".json", ".yaml", ".yml") and path.is_file():
            config = yaml.safe_load(path.read_text(encoding="utf-8"))
        else:
            config = json.loads(spec)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(
            "cannot read the augmentation",
            expected="a JSON/YAML file or inline JSON list of {name, params}",
            got=str(exc).splitlines()[0][:100],
        ) from exc
    return augmentation_from_config(config)


def _out_dir(
    args: argparse.Namespace, task: str, targets: list[str], augment, measured=None
) -> str:
    """``--out``, or ``--out/<name>`` rendered from ``--name-template`` and the recipe."""
    if not args.name_template:
        return args.out
    from pathlib import Path

    from spectrakit.training.recipe import format_name, parse_split, recipe

    model = args.model
    if args.init:
        from spectrakit.bundle import read_config

        model = read_config(args.init).family.name
    facts = recipe(
        model=model,
        task=task,
        targets=targets,
        pipeline=args.pipeline,
        augment=augment,
        split=parse_split(args.split),
        seed=args.seed,
        label_smoothing=args.label_smoothing,
        mixup=args.mixup,
        measured=measured,
    )
    return str(Path(args.out) / format_name(args.name_template, facts))
