"""``spectrakit convert``: any readable format to any writable one."""

from __future__ import annotations

import argparse

from spectrakit.cli._common import add_read_options, read_input
from spectrakit.cli._output import claim_dir, claim_file
from spectrakit.cli._parser import command_parser

EXAMPLE = "example: spectrakit convert run1.spc run1.csv"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(sub, "convert", "Convert spectra between formats. " + EXAMPLE, run)
    p.add_argument("input", help="input file or folder")
    p.add_argument("output", help="output file (.csv, .parquet, .h5, .npz, ...)")
    add_read_options(p)
    p.add_argument("--to", dest="out_format", help="output format (default: from extension)")


def run(args: argparse.Namespace) -> int:
    from spectrakit.io import write, writer_for

    fmt = writer_for(args.output, args.out_format)  # no writer: refused before reading
    if fmt.directory:
        claim_dir(args.output, args, lambda _folder: False, what="an empty folder")
    else:
        claim_file(args.output, args)
    spectra = read_input(args.input, args)
    path = write(spectra, args.output, format=args.out_format)
    print(f"wrote {spectra.n_spectra} spectra x {spectra.n_points} points to {path}")
    return 0
