"""``spectrakit pretrain``: masked spectral modeling on unlabeled spectra from any instruments."""

from __future__ import annotations

import argparse
from pathlib import Path

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.training.cli_options import (
    add_trainer_options,
    apply_config,
    print_config,
    trainer_kwargs,
)

EXAMPLE = (
    "example: spectrakit pretrain --data kaiser.csv metrohm.csv --model specbert_small "
    "--out encoder --mask-ratio 0.2 --epochs 20"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pretrain",
        help="pretrain an encoder by masked spectral modeling (no labels needed)",
        description="Pretrain a patch transformer on unlabeled spectra; writes a bundle "
        "usable with 'spectrakit finetune --init'. Each file may come from another "
        "instrument; a directory written by SpectraStore is streamed from disk. " + EXAMPLE,
    )
    p.add_argument("--data", nargs="+", required=True, help="spectra files or SpectraStore dirs")
    p.add_argument("--model", default="specbert_small", help="specbert_* or spectrafm_* model")
    p.add_argument("--out", required=True, help="output bundle directory")
    p.add_argument("--mask-ratio", type=float, default=0.2, help="fraction of patches hidden")
    p.add_argument(
        "--mask-mode",
        choices=("token", "noise"),
        default="token",
        help="hidden patches become a learned mask token, or noise",
    )
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--no-normalize", action="store_true", help="do not standardize each spectrum")
    add_read_options(p)
    add_trainer_options(p, epochs=20, batch_size=64)
    p.set_defaults(func=run)


def _source(path: str, args: argparse.Namespace):
    from spectrakit.data.store import SpectraStore

    if (Path(path) / "store.json").is_file():
        return SpectraStore.open(path)
    return read_input(path, args)


def run(args: argparse.Namespace) -> int:
    from spectrakit.training import pretrain

    args = apply_config(args)
    if args.print_config:
        print_config(args)
        return 0
    data = [args.data] if isinstance(args.data, str) else list(args.data)
    sources = [_source(f, args) for f in data]
    out = pretrain(
        sources,
        model=args.model,
        mask_ratio=float(args.mask_ratio),
        mask_mode=args.mask_mode,
        normalize=not args.no_normalize,
        lr=float(args.lr),
        out=args.out,
        **trainer_kwargs(args),
    )
    print(f"pretrained encoder written to {out}")
    return 0
