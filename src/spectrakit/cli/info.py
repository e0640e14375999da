"""``spectrakit info``: what is in a file, at a glance."""

from __future__ import annotations

import argparse

from spectrakit.cli._cluster import add_cluster_options
from spectrakit.cli._common import add_read_options, read_input_blocks, write_json
from spectrakit.cli._output import claim_file
from spectrakit.cli._parser import command_parser

EXAMPLE = (
    "example: spectrakit info spectra.csv other.spc --json summary.json; a multi-block input "
    "(a Dig4Bio challenge folder) is summarized block by block"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub, "info", "Summarize one or more spectra files. " + EXAMPLE, run, allow_nan=True
    )
    p.add_argument("files", nargs="+", help="spectra files or folders")
    add_read_options(p)
    p.add_argument(
        "--json", dest="json_out", help="also write the summaries as JSON ('-' = stdout)"
    )
    add_cluster_options(p)


def _render(name: str, s: dict) -> str:
    ax = s["axis"]
    lines = [
        f"{name}",
        f"  spectra     {s['n_spectra']}",
        f"  axis        {ax['min']:.6g}-{ax['max']:.6g} {ax['unit']} ({ax['kind']}), "
        f"{s['n_points']} points, spacing {ax['spacing']:.4g}"
        + ("" if ax["uniform"] else " (non-uniform)"),
    ]
    if s["intensity"]["min"] is not None:
        lines.append(f"  intensity   {s['intensity']['min']:.6g} .. {s['intensity']['max']:.6g}")
    if s["meta"]:
        cols = ", ".join(
            f"{k} [{v['min']:.4g}..{v['max']:.4g}]" if "min" in v else f"{k} ({v['distinct']})"
            for k, v in s["meta"].items()
        )
        lines.append(f"  meta        {cols}")
    else:
        lines.append("  meta        (none)")
    hints = []
    if s["spectra_with_nan"]:
        hints.append(f"{s['spectra_with_nan']} spectra contain NaN")
    if s["spectra_with_spikes"]:
        hints.append(f"{s['spectra_with_spikes']} spectra have spike-like jumps (cosmic rays?)")
    if s["spectra_saturated"]:
        hints.append(f"{s['spectra_saturated']} spectra look saturated (flat maximum)")
    if s["spectra_constant"]:
        hints.append(
            f"{s['spectra_constant']} spectra are constant (one value at every point: "
            "placeholders or failed scans, not measurements; drop them before training, "
            "evaluation or prediction)"
        )
    if ax["kind"] == "unknown":
        hints.append(
            "the file records no axis unit: pass --unit (cm-1, nm, um, eV, keV, channel), "
            "and --kind raman_shift --laser NM for Raman, so presets and models can check the axis"
        )
    lines.append("  hints       " + ("; ".join(hints) if hints else "none"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from spectrakit.preprocessing.quality import summarize

    claim_file(args.json_out, args)
    summaries = {}
    if args.cluster:
        from spectrakit import distributed

        with distributed.connect(args.cluster):
            for f in args.files:
                summaries[f] = distributed.info(f, rows=args.chunk_rows)
    for f in [] if args.cluster else args.files:
        blocks = read_input_blocks(f, args)
        for name, spectra in blocks.items():
            summaries[f if len(blocks) == 1 else f"{f} [{name}]"] = summarize(spectra)
    for name, s in summaries.items():
        print(_render(name, s))
    if args.json_out:
        write_json(summaries, args.json_out)
    return 0
