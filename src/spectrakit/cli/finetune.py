"""``spectrakit finetune``: train a model on labelled spectra (from scratch or pretrained)."""

from __future__ import annotations

import argparse

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.training.cli_options import add_trainer_options, apply_config, trainer_kwargs

# spectrakit.tasks.optim.SCHEDULES, spelled out so --help needs no torch (a test keeps them equal)
_SCHEDULES = ("cosine", "onecycle", "cyclic", "triangular", "triangular2", "exp_range", "constant")

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
    p.add_argument(
        "--schedule",
        default="cosine",
        choices=_SCHEDULES,
        help="learning-rate schedule; triangular, triangular2 and exp_range cycle (Smith 2017)",
    )
    p.add_argument(
        "--cycle-epochs",
        type=float,
        help="half-cycle length of a cyclical schedule, in epochs (default: 1/8 of the run)",
    )
    p.add_argument(
        "--clr-frac",
        type=float,
        default=0.5,
        help="with --lr auto: lower cyclical bound, this far back from the sweep's minimum",
    )
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--class-weights", help="'balanced' or comma-separated weights")
    p.add_argument("--one-vs-rest", action="store_true", help="one sigmoid per class")
    p.add_argument("--uncertainty", action="store_true", help="mean + variance regression head")
    p.add_argument("--mixup", type=float, default=0.0, help="mixup alpha (0 = off)")
    p.add_argument("--extra-features", help="numeric metadata columns fed to the model")
    add_read_options(p)
    add_trainer_options(p, epochs=50, batch_size=32)
    p.set_defaults(func=run)


def _task(spectra, targets: list[str], task: str | None) -> str:
    import pandas as pd

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
    predictor = fit_supervised(
        train,
        targets,
        task=task,
        model=args.model,
        pipeline=args.pipeline,
        val=val,
        init=args.init,
        lr="auto" if str(args.lr) == "auto" else float(args.lr),
        out=args.out,
        freeze=args.freeze,
        head_lr=args.head_lr,
        layer_decay=args.layer_decay,
        schedule=args.schedule,
        cycle_epochs=args.cycle_epochs,
        clr_frac=args.clr_frac,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        class_weights=weights,
        one_vs_rest=args.one_vs_rest,
        uncertainty=args.uncertainty,
        mixup_alpha=args.mixup,
        extra_features=extra,
        groups=args.groups,
        val_fraction=args.val_fraction,
        **trainer_kwargs(args),
    )
    metrics = predictor.config.get("metrics", {})
    shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float))
    print(f"model written to {args.out} ({shown})")
    return 0
