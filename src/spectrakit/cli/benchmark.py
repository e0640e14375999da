"""``spectrakit benchmark``: several models, the same folds, one leaderboard and report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.cli._output import BENCHMARK_DIR, claim_dir
from spectrakit.cli._parser import command_parser
from spectrakit.cli._targets import check_same_axis, check_targets
from spectrakit.cli._types import bounded_float, bounded_int, new_folder
from spectrakit.core.atomic import atomic_dir
from spectrakit.core.errors import ConfigError

EXAMPLE = (
    "example: spectrakit benchmark --data train.csv --target glucose "
    "--models pls,ridge,cnn1d_tiny --cv group:sample --test test.csv --out bench/"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "benchmark",
        "Cross-validate every model on the same folds (and score it on --test), "
        "then write leaderboard.csv, leaderboard.json and report.html. " + EXAMPLE,
        run,
    )
    add_common_options(p)
    p.add_argument(
        "--models",
        required=True,
        help="comma-separated: baselines (pls, plsda, svm, rf, ridge), registered deep "
        "models (cnn1d_tiny, specbert_tiny, ...) and/or auto (the automatic choice of "
        "'finetune --model auto', nested inside every fold)",
    )
    p.add_argument("--epochs", type=bounded_int(1, 100_000), default=20, help="deep models: epochs")
    p.add_argument(
        "--batch-size", type=bounded_int(1, 1_000_000), default=32, help="deep models: batch size"
    )
    p.add_argument(
        "--lr",
        type=bounded_float(0, 10, low_open=True),
        default=1e-3,
        help="deep models: learning rate (> 0)",
    )
    p.add_argument("--seed", type=bounded_int(0, 2**32 - 1), default=0, help="random seed")


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
    p.add_argument(
        "--out", type=new_folder, default="results", help="output folder (default: results)"
    )
    add_read_options(p)


def cv_option(value: str | None):
    """``None`` for ``--cv none``, the spec otherwise."""
    if value is None or value.strip().lower() in ("none", "no", "off", ""):
        return None
    from spectrakit.data.splits import get_splitter

    get_splitter(value)  # validate early, before any training
    return value


def check_model_names(models: list[str]) -> None:
    """Refuse unknown or repeated model names before any fitting."""
    from spectrakit.chemometrics import BASELINES
    from spectrakit.evaluation.benchmark import REFERENCE
    from spectrakit.models import list_models

    if not models:
        raise ConfigError(
            "no models given", expected="--models pls,cnn1d_tiny", got="an empty list"
        )
    known = set(list_models())
    builtin = (*BASELINES, REFERENCE, "auto")
    unknown = [m for m in models if m.lower() not in builtin and m not in known]
    if unknown:
        raise ConfigError(
            "unknown model name" + ("s" if len(unknown) > 1 else ""),
            expected=f"baselines ({', '.join(sorted(BASELINES))}), {REFERENCE}, auto or a "
            "registered model (see 'spectrakit models')",
            got=", ".join(unknown),
            fix="correct the name in --models",
        )
    repeated = sorted({m for m in models if models.count(m) > 1})
    if repeated:
        raise ConfigError(
            "a model is named twice in --models",
            expected="each model once",
            got=", ".join(repeated),
        )


def run(args: argparse.Namespace) -> int:
    from spectrakit.chemometrics import resolve_pipeline
    from spectrakit.evaluation.benchmark import (
        best_model,
        infer_task,
        run_benchmark,
        write_benchmark,
    )

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    check_model_names(models)
    cv = cv_option(args.cv)
    claim_dir(args.out, args, BENCHMARK_DIR)
    pipeline = resolve_pipeline(args.pipeline)
    train = read_input(args.data, args)
    test = read_input(args.test, args) if args.test else None
    task = infer_task(train, args.target, args.task)
    check_targets(train, [args.target], task)
    if test is not None:
        check_targets(test, [args.target], task, training=False)
        check_same_axis(train, test, "--test")
    deep = {
        "max_epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
    }
    out = Path(args.out)
    with atomic_dir(out, replaceable=BENCHMARK_DIR, what="an earlier 'benchmark' output") as tmp:
        board, runs = run_benchmark(
            models,
            train,
            args.target,
            cv=cv,
            test=test,
            task=task,
            pipeline=pipeline,
            deep_options=deep,
            out=tmp,
            progress=lambda msg: print(f"benchmark {msg}", file=sys.stderr, flush=True),
        )
        paths = write_benchmark(
            tmp,
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
    print("wrote " + ", ".join(str(out / Path(p).relative_to(tmp)) for p in paths.values()))
    return 0
