"""``spectrakit export``: write a verified ONNX graph into a bundle (or a single-file .zip)."""

from __future__ import annotations

import argparse

from spectrakit.cli._output import claim_file
from spectrakit.cli._parser import command_parser
from spectrakit.cli._types import bounded_float, bounded_int, suffix_path

EXAMPLE = "example: spectrakit export --model runs/glucose --format onnx"
#: ONNX opsets the exporter writes (the dynamo exporter needs 18 or newer)
OPSET_MIN, OPSET_MAX = 18, 23


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(sub, "export", "Export a model bundle. " + EXAMPLE, run)
    p.add_argument("--model", required=True, help="bundle folder")
    p.add_argument("--format", default="onnx", choices=["onnx", "zip"], help="what to produce")
    p.add_argument(
        "--out",
        type=suffix_path(".zip"),
        help="output .zip (format zip); ONNX is written into the bundle",
    )
    p.add_argument(
        "--opset",
        type=bounded_int(OPSET_MIN, OPSET_MAX),
        default=18,
        help=f"ONNX opset version of the graph ({OPSET_MIN}-{OPSET_MAX})",
    )
    p.add_argument(
        "--no-preprocessing",
        action="store_true",
        help="keep all preprocessing in the runtime instead of the graph",
    )
    p.add_argument(
        "--rtol", type=bounded_float(0, 1), default=1e-3, help="parity tolerance (relative)"
    )
    p.add_argument(
        "--atol", type=bounded_float(0), default=1e-4, help="parity tolerance (absolute)"
    )


def run(args: argparse.Namespace) -> int:
    if args.format == "zip":
        from spectrakit.bundle import verify
        from spectrakit.bundle.archive import pack_bundle

        out = claim_file(args.out or f"{str(args.model).rstrip('/')}.zip", args)
        verify(args.model)
        out = pack_bundle(args.model, out)
        print(f"packed {args.model} into {out}")
        return 0
    from spectrakit.export.onnx import export_onnx

    record = export_onnx(
        args.model,
        opset=args.opset,
        rtol=args.rtol,
        atol=args.atol,
        include_preprocessing=not args.no_preprocessing,
    )
    worst = max(r["max_abs_err"] for r in record["parity"])
    sizes = sorted({r["batch"] for r in record["parity"]})
    lengths = sorted({r["length"] for r in record["parity"]})
    print(
        f"exported {args.model}/model.onnx ({record['exporter']} exporter, opset {record['opset']}"
        f"); parity verified at batch sizes {sizes} and lengths {lengths}: max abs error "
        f"{worst:.2g}; dynamic length: {record['dynamic_length']}; in-graph preprocessing "
        f"steps: {record['graph_steps']}"
    )
    return 0
