"""``spectrakit finetune``: train a model on labelled spectra (from scratch or pretrained)."""

from __future__ import annotations

import argparse

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.core.errors import ConfigError
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
        "training spectra (deep models: --val, else a 20%% holdout; chemometric: 5-fold CV)",
    )
    p.add_argument(
        "--ood-tune",
        action="store_true",
        help="classifiers with --ood dime/auto: choose DIME's components k and rate alpha "
        "on the training spectra (leave one class out, best open-set efficiency TEFF) "
        "instead of --false-rejection; the choice is recorded in the bundle",
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


def _add_ood(args: argparse.Namespace, predictor, train, val=None):
    """Fit the detector and calibrate its threshold on held-out in-distribution spectra.

    With ``--val`` the detector is fitted on all training spectra and calibrated on the
    validation spectra; otherwise fitted on 80 % of them and calibrated on the other 20 %.
    """
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
    tune = bool(getattr(args, "ood_tune", False))
    det = fit_ood(
        predictor, train, method=method, heldout=val, false_rejection=args.false_rejection,
        tune=tune,
    )  # fmt: skip
    where = "20% training holdout" if val is None else "--val spectra"
    save_detector(det, args.out)
    metrics = dict(predictor.config.get("metrics", {}))
    record = {"ood": det.name, "ood_calibration": where}
    if tune:  # the choice (not the grid, which ood.json keeps) in the bundle's metrics
        record["ood_tuning"] = {k: v for k, v in det.tuning_.items() if k != "grid"}
    bundle.update_metrics(args.out, {**metrics, **record})
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
    if str(args.model).startswith("chemometric_"):
        raise ConfigError(
            f"{args.model} holds a fitted chemometric model and is not trained by gradient",
            expected="--model " + " | ".join(CHEMOMETRIC) + " or a network",
            got=f"--model {args.model}",
            fix="use --model pls (or plsda, ridge, svm, rf)",
        )
    val = read_input(args.val, args) if args.val else None
    weights = args.class_weights
    if weights and weights != "balanced":
        weights = [float(w) for w in str(weights).split(",")]
    extra = [c.strip() for c in args.extra_features.split(",")] if args.extra_features else None
    augment = _augmentation(args.augment) if args.augment else None
    args.out = out = _out_dir(args, task, targets, augment)
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
        split=args.split,
        augment=augment,
        **trainer_kwargs(args),
    )
    return _report(_add_ood(args, predictor, train, val), args)


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
