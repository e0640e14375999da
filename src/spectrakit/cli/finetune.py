"""``spectrakit finetune``: train a model on labelled spectra (from scratch or pretrained)."""

from __future__ import annotations

import argparse

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.errors import ConfigError
from spectrakit.training.cli_options import (
    add_trainer_options,
    apply_config,
    print_config,
    trainer_kwargs,
)

# spectrakit.tasks.optim.SCHEDULES, spelled out so --help needs no torch (a test keeps them equal)
_SCHEDULES = ("cosine", "onecycle", "cyclic", "triangular", "triangular2", "exp_range", "constant")

CHEMOMETRIC = ("pls", "plsda", "ridge", "svm", "rf")
OOD_CHOICES = ("auto", "t2q", "dime", "mahalanobis", "knn", "energy", "none")
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
    p.add_argument(
        "--model",
        default="cnn1d_tiny",
        help="model name (see 'spectrakit models'), or a chemometric model: "
        + ", ".join(CHEMOMETRIC),
    )
    p.add_argument(
        "--ood",
        choices=OOD_CHOICES,
        default="auto",
        help="out-of-distribution detector stored in the bundle (auto: Hotelling T2/Q "
        "for pls/plsda, dime otherwise; none: no detector)",
    )
    p.add_argument(
        "--false-rejection",
        type=float,
        default=0.05,
        help="rate of in-distribution spectra the OOD threshold flags, calibrated on held-out "
        "training spectra (deep models: a 20%% holdout; chemometric: 5-fold CV)",
    )
    p.add_argument("--init", help="pretrained bundle to start from")
    p.add_argument(
        "--freeze", default="none", help="none | encoder | all-but-last-K (layer groups)"
    )
    p.add_argument("--pipeline", help="preprocessing preset or YAML/JSON file")
    p.add_argument("--val", help="validation spectra (default: hold out --val-fraction)")
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        help="share of the training spectra held out for validation, when --val is not given",
    )
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
    p.add_argument("--weight-decay", type=float, default=1e-4, help="AdamW weight decay")
    p.add_argument(
        "--label-smoothing", type=float, default=0.0, help="classification label smoothing"
    )
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
    )


def _add_ood(args: argparse.Namespace, predictor, train):
    """Fit the detector on 80 % of the training spectra, calibrate on the other 20 %."""
    from spectrakit import bundle
    from spectrakit.ood import fit_ood, save_detector

    if args.ood == "none":
        return predictor
    if args.ood == "t2q":
        raise ConfigError(
            "--ood t2q (Hotelling T2/Q) is for PLS models",
            expected="--model pls or plsda, or --ood dime/mahalanobis/knn/energy",
            got=f"--model {args.model}",
        )
    method = "dime" if args.ood == "auto" else args.ood
    det = fit_ood(predictor, train, method=method, false_rejection=args.false_rejection)
    save_detector(det, args.out)
    metrics = dict(predictor.config.get("metrics", {}))
    bundle.update_metrics(
        args.out, {**metrics, "ood": det.name, "ood_calibration": "20% training holdout"}
    )
    return bundle.load(args.out)


def run(args: argparse.Namespace) -> int:
    from spectrakit.training import fit_supervised

    args = apply_config(args)
    if args.print_config:
        print_config(args)
        return 0
    train = read_input(args.data, args)
    targets = [t.strip() for t in str(args.target).split(",") if t.strip()]
    task = _task(train, targets, args.task)
    if args.model in CHEMOMETRIC:
        return _report(_chemometric(args, train, targets, task), args)
    val = read_input(args.val, args) if args.val else None
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
    return _report(_add_ood(args, predictor, train), args)


def _report(predictor, args: argparse.Namespace) -> int:
    metrics = predictor.config.get("metrics", {})
    shown = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, float))
    print(f"model written to {args.out} ({shown})")
    if predictor.ood is not None:
        print(
            f"OOD detector: {predictor.ood.name}, threshold flags "
            f"{100 * predictor.ood.false_rejection_:g} % of held-out training spectra "
            f"({metrics.get('ood_calibration', 'holdout')})"
        )
    return 0
