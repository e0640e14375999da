"""``spectrakit predict``: apply a model bundle to spectra and write predictions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from spectrakit.cli._channels import add_channel_options, read_data
from spectrakit.cli._cluster import add_cluster_options
from spectrakit.cli._common import add_read_options
from spectrakit.cli._output import claim_file
from spectrakit.cli._parser import MODEL, command_parser
from spectrakit.cli._types import bounded_int
from spectrakit.io import atomic_path
from spectrakit.predict.table import predictions_table

if TYPE_CHECKING:  # loaded when the command runs, so --help stays fast
    pass

EXAMPLE = "example: spectrakit predict --model glucose-model --data new.csv --out preds.csv"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "predict",
        "Predict targets (and OOD scores when the bundle has a detector). "
        "Spectra on another compatible grid are resampled; incompatible axes are refused. "
        + EXAMPLE,
        run,
        [MODEL],
    )
    p.add_argument("--data", help="spectra file")
    p.add_argument("--out", default="-", help="output CSV ('-' = stdout)")
    p.add_argument(
        "--batch-size",
        type=bounded_int(1, 1_000_000),
        default=256,
        help="spectra per forward pass",
    )
    p.add_argument(
        "--open-set",
        action="store_true",
        help="classifiers: label spectra flagged out-of-distribution 'unknown'",
    )
    add_read_options(p)
    add_channel_options(p)
    add_cluster_options(p)


def _run_cluster(args: argparse.Namespace) -> int:
    from spectrakit import distributed
    from spectrakit.core.errors import ConfigError

    if args.channel_files or not args.data:
        raise ConfigError(
            "--cluster predicts one table of spectra",
            expected="--data FILE",
            got="--channel-files" if args.channel_files else "no --data",
            fix="predict measured channels without --cluster",
        )
    if args.out == "-" or args.open_set:
        raise ConfigError(
            "with --cluster, predictions are written to a file",
            expected="--out NAME.csv or --out NAME.parquet (a folder of parts), no --open-set",
            got=f"--out {args.out}",
        )
    with distributed.connect(args.cluster):
        out = distributed.predict(args.data, args.model, args.out, rows=args.chunk_rows)
    print(f"predictions written to {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    import spectrakit

    if args.cluster:
        return _run_cluster(args)

    claim_file(args.out, args)
    predictor = spectrakit.load(args.model)
    spectra = read_data(args)
    pred = predictor.predict(spectra, batch_size=args.batch_size)
    if args.open_set:
        from spectrakit.evaluation.open_set import apply_open_set

        pred = apply_open_set(pred)
    table = predictions_table(spectra, pred)
    if args.out == "-":
        print(table.to_csv(index=False), end="")
    else:
        with atomic_path(args.out) as tmp:
            table.to_csv(tmp, index=False)
        print(f"{len(table)} predictions written to {args.out}")
    return 0
