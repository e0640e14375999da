"""``spectrakit pretrain``: masked spectral modeling on unlabeled spectra from any instruments."""

from __future__ import annotations

import argparse
from pathlib import Path

from spectrakit.cli._common import add_read_options, log, read_input_blocks
from spectrakit.cli._output import claim_dir
from spectrakit.cli._parser import command_parser
from spectrakit.training.cli_options import (
    add_training_options,
    apply_config,
    config_from_args,
    print_config,
)
from spectrakit.training.config import PretrainConfig

EXAMPLE = (
    "example: spectrakit pretrain --data kaiser.csv metrohm.csv --model specbert_small "
    "--out encoder --mask-ratio 0.2 --epochs 20; a Dig4Bio challenge folder gives one "
    "source per instrument (choose them with --instruments anton_532,kaiser)"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "pretrain",
        "Pretrain a patch transformer on unlabeled spectra; writes a bundle "
        "usable with 'spectrakit finetune --init'. Each file may come from another "
        "instrument; a directory written by SpectraStore is streamed from disk. " + EXAMPLE,
        run,
    )
    p.add_argument("--data", nargs="+", required=True, help="spectra files or SpectraStore dirs")
    p.add_argument("--out", required=True, help="output bundle directory")
    add_read_options(p)
    add_training_options(p, PretrainConfig)


def _sources(path: str, args: argparse.Namespace) -> list:
    """One pretraining source per block: each instrument of a Dig4Bio folder is its own."""
    from spectrakit.data.store import SpectraStore

    if (Path(path) / "store.json").is_file():
        return [SpectraStore.open(path)]
    blocks = read_input_blocks(path, args)
    return [
        s if {"instrument", "source"} & set(s.meta.columns) else s.assign(source=Path(name).name)
        for name, s in blocks.items()
    ]


def _report_grid(out: Path) -> None:
    from spectrakit.bundle import read_config

    grid = read_config(out).grid
    if grid:
        log(f"the sources were resampled onto the common grid {grid}")


def run(args: argparse.Namespace) -> int:
    from spectrakit.training import pretrain
    from spectrakit.training.sources import source_name

    args = apply_config(args)
    if args.print_config:
        print_config(args)
        return 0
    config = config_from_args(args)
    claim_dir(args.out, args)
    data = [args.data] if isinstance(args.data, str) else list(args.data)
    sources = [s for f in data for s in _sources(f, args)]
    for s in sources:
        if hasattr(s, "meta"):
            log(f"source {source_name(s, 0)}: {len(s)} spectra on {s.axis.describe()}")
    out = pretrain(sources, config=config, out=args.out)
    _report_grid(Path(out))
    print(f"pretrained encoder written to {out}")
    return 0
