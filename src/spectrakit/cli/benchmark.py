"""``spectrakit benchmark``: several models, the same folds, one leaderboard and report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.core.errors import ConfigError

EXAMPLE = (
    "example: spectrakit benchmark --data train.csv --target glucose "
    "--models pls,ridge,cnn1d_tiny --cv group:sample --test test.csv --out bench/"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "benchmark",
        help="rank chemometric baselines and deep models on the same splits",
        description="Cross-validate every model on the same folds (and score it on --test), "
        "then write leaderboard.csv, leaderboard.json and report.html. " + EXAMPLE,
    )
    add_common_options(p)
    p.add_argument(
        "--models",
        required=True,
        help="comma-separated: baselines (pls, plsda, svm, rf, ridge), registered deep "
        "models (cnn1d_tiny, specbert_tiny, ...) and/or auto (the automatic choice of "
        "'finetune --model auto', nested inside every fold)",
    )
    p.add_argument("--epochs", type=int, default=20, help="deep models: epochs (default 20)")
    p.add_argument("--batch-size", type=int, default=32, help="deep models: batch size")
    p.add_argument("--lr", type=float, default=1e-3, help="deep models: learning rate")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=run)


def add_common_options(p: argparse.ArgumentParser) -> None:
    """Options shared with ``spectrakit baseline``."""
    p.add_argument("--data", required=True, help="training spectra (table format)")
    p.add_argument("--target", required=True, help="metadata column to predict")
    p.add_argument("--test", help="independent test spectra with the same target column")
    p.add_argument(
        "--cv",
        default="kfold:5",
        help="kfold:K | stratified:K | group:COL[:K] | logo:COL | instrument | time:COL[:K] "
        "| none (default kfold:5; use group:COL when replicate spectra share a sample)",
    )
    p.add_argument(
        "--task", choices=["regression", "classification"], help="default: from the target"
    )
    p.add_argument(
        "--pipeline", help="preprocessing: preset name (nir-default, ...) or YAML/JSON file"
    )
    p.add_argument("--out", default="results", help="output folder (default: results)")
    add_read_options(p)


def cv_option(value: str | None):
    """``None`` for ``--cv none``, the spec otherwise."""
    if value is None or value.strip().lower() in ("none", "no", "off", ""):
        return None
    from spectrakit.data.splits import get_splitter

    get_splitter(value)  # validate early, before any training
    return value


def run(args: argparse.Namespace) -> int:
    from spectrakit.chemometrics import resolve_pipeline
    from spectrakit.evaluation.benchmark import best_model, run_benchmark, write_benchmark

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models:
        raise ConfigError("no models given", expected="--models pls,cnn1d_tiny", got=args.models)
    cv = cv_option(args.cv)
    train = read_input(args.data, args)
    test = read_input(args.test, args) if args.test else None
    pipeline = resolve_pipeline(args.pipeline)
    deep = {
        "max_epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
    }
    board, runs = run_benchmark(
        models,
        train,
        args.target,
        cv=cv,
        test=test,
        task=args.task,
        pipeline=pipeline,
        deep_options=deep,
        out=args.out,
        progress=lambda msg: print(f"benchmark {msg}", file=sys.stderr, flush=True),
    )
    paths = write_benchmark(
        Path(args.out),
        board,
        runs,
        train=train,
        target=args.target,
        pipeline=pipeline,
        title=f"Benchmark: {args.target}",
    )
    key = board.attrs["metric"]
    print(f"{'rank':>4}  {'model':<20} {key:>14}")
    for _, row in board.iterrows():
        print(f"{int(row['rank']):>4}  {row['model']:<20} {row[key]:>14.4g}")
    print(best_model(board)[1])
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
