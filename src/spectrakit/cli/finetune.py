"""``spectrakit finetune``: train a model on labelled spectra (from scratch or pretrained)."""

from __future__ import annotations

import argparse

import pandas as pd

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.errors import ConfigError
from spectrakit.training.cli_options import add_trainer_options, apply_config, trainer_kwargs

EXAMPLE = (
    "example: spectrakit finetune --data train.csv --target glucose --init encoder "
    "--freeze all-but-last-2 --out glucose-model --lr auto"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "finetune",
        help="train or fine-tune a model on labelled spectra; writes a bundle",
        description="Supervised training (regression, classification, multi-label). " + EXAMPLE,
    )
    p.add_argument("--data", required=True, help="labelled spectra (table format)")
    p.add_argument("--target", required=True, help="target column(s), comma-separated")
    p.add_argument(
        "--task",
        choices=("regression", "classification", "multilabel"),
        help="default: regression for numeric targets, classification otherwise",
    )
    p.add_argument("--out", required=True, help="output bundle directory")
    p.add_argument("--model", default="cnn1d_tiny", help="model name (see 'spectrakit models')")
    p.add_argument("--init", help="pretrained bundle to start from")
    p.add_argument(
        "--freeze", default="none", help="none | encoder | all-but-last-K (layer groups)"
    )
    p.add_argument("--pipeline", help="preprocessing preset or YAML/JSON file")
    p.add_argument("--val", help="validation spectra (default: hold out --val-fraction)")
    p.add_argument("--val-fraction", type=float, default=0.2)
    p.add_argument("--groups", help="metadata column whose groups never straddle the split")
    p.add_argument("--lr", default="1e-3", help="learning rate, or 'auto' (LR finder)")
    p.add_argument("--head-lr", type=float, help="separate learning rate of the head")
    p.add_argument("--layer-decay", type=float, help="layer-wise learning-rate decay (0-1]")
    p.add_argument("--schedule", default="cosine", help="cosine | onecycle | cyclic | constant")
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--class-weights", help="'balanced' or comma-separated weights")
    p.add_argument("--one-vs-rest", action="store_true", help="one sigmoid per class")
    p.add_argument("--uncertainty", action="store_true", help="mean + variance regression head")
    p.add_argument("--mixup", type=float, default=0.0, help="mixup alpha (0 = off)")
    p.add_argument("--extra-features", help="numeric metadata columns fed to the model")
    p.add_argument(
        "--split",
        help="validation = fold K of N (from 0), e.g. 0/20; shuffled with --seed, or by "
        "--groups; recorded in the bundle",
    )
    p.add_argument(
        "--augment",
        help="training augmentation: JSON/YAML file or inline JSON, e.g. "
        '\'[{"name": "Shift", "params": {"max_shift": 2}}]\'',
    )
    p.add_argument(
        "--name-template",
        help="write the bundle to OUT/<name> with name from the recipe, e.g. "
        "'{model} y={targets} c={channels} t={transforms} {split} s={seed} "
        "eps={label_smoothing}' (fields: model task targets channels transforms "
        "augmentation split seed label_smoothing mixup)",
    )
    add_read_options(p)
    add_trainer_options(p, epochs=50, batch_size=32)
    p.set_defaults(func=run)


def _task(spectra, targets: list[str], task: str | None) -> str:
    if task:
        return task
    col = spectra.meta.get(targets[0])
    if col is not None and len(targets) == 1 and not pd.api.types.is_numeric_dtype(col):
        return "classification"
    return "regression"


def run(args: argparse.Namespace) -> int:
    from spectrakit.training import fit_supervised

    args = apply_config(args)
    train = read_input(args.data, args)
    val = read_input(args.val, args) if args.val else None
    targets = [t.strip() for t in str(args.target).split(",") if t.strip()]
    task = _task(train, targets, args.task)
    weights = args.class_weights
    if weights and weights != "balanced":
        weights = [float(w) for w in str(weights).split(",")]
    extra = [c.strip() for c in args.extra_features.split(",")] if args.extra_features else None
    augment = _augmentation(args.augment) if args.augment else None
    out = _out_dir(args, task, targets, augment)
    predictor = fit_supervised(
        train,
        targets,
        task=task,
        model=args.model,
        pipeline=args.pipeline,
        val=val,
        init=args.init,
        lr="auto" if str(args.lr) == "auto" else float(args.lr),
        out=out,
        freeze=args.freeze,
        head_lr=args.head_lr,
        layer_decay=args.layer_decay,
        schedule=args.schedule,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        class_weights=weights,
        one_vs_rest=args.one_vs_rest,
        uncertainty=args.uncertainty,
        mixup_alpha=args.mixup,
        extra_features=extra,
        groups=args.groups,
        val_fraction=args.val_fraction,
        split=args.split,
        augment=augment,
        **trainer_kwargs(args),
    )
    metrics = predictor.config.get("metrics", {})
    shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float))
    print(f"model written to {out} ({shown})")
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


def _out_dir(args: argparse.Namespace, task: str, targets: list[str], augment) -> str:
    """``--out``, or ``--out/<name>`` rendered from ``--name-template`` and the recipe."""
    if not args.name_template:
        return args.out
    from pathlib import Path

    from spectrakit.training.recipe import format_name, parse_split, recipe

    model = args.model
    if args.init:
        from spectrakit.bundle import read_config

        model = read_config(args.init)["model"]["name"]
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
    )
    return str(Path(args.out) / format_name(args.name_template, facts))
