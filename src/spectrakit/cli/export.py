"""``spectrakit export``: write a verified ONNX graph into a bundle (or a single-file .zip).

With ``--out FILE.onnx`` the verified graph is also copied to a file of its own, for a runtime
that does not read bundles.
"""

from __future__ import annotations

import argparse

from spectrakit.cli._output import claim_file
from spectrakit.cli._parser import command_parser
from spectrakit.cli._types import bounded_float, bounded_int, suffix_path
from spectrakit.core.errors import ConfigError

EXAMPLE = "example: spectrakit export --model runs/glucose --format onnx"
#: ONNX opsets the exporter writes (the dynamo exporter needs 18 or newer)
OPSET_MIN, OPSET_MAX = 18, 23


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(sub, "export", "Export a model bundle. " + EXAMPLE, run)
    p.add_argument("--model", required=True, help="bundle folder")
    p.add_argument("--format", default="onnx", choices=["onnx", "zip"], help="what to produce")
    p.add_argument(
        "--out",
        type=suffix_path(".zip", ".onnx"),
        help="output file: .zip for format zip; .onnx for format onnx, a copy of the graph "
        "that is always written into the bundle",
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


def _checked_out(args: argparse.Namespace):
    """The claimed ``--out`` path (``None`` when not given); it must fit ``--format``."""
    if args.out is None:
        return None
    wanted = ".zip" if args.format == "zip" else ".onnx"
    if not str(args.out).lower().endswith(wanted):
        raise ConfigError(
            f"--out does not fit --format {args.format}",
            expected=f"a file ending in {wanted}",
            got=repr(str(args.out)),
            fix=f"name the output *{wanted}, or choose the other --format",
        )
    return claim_file(args.out, args)


def _standalone(bundle: str, out) -> None:
    """Copy the bundle's verified graph to ``out`` (atomic, the user's umask)."""
    import shutil
    from pathlib import Path

    from spectrakit.core.atomic import atomic_path
    from spectrakit.export.onnx import ONNX_FILE

    with atomic_path(out) as tmp:
        shutil.copyfile(Path(bundle) / ONNX_FILE, tmp)


def _inputs_line(record: dict) -> str:
    """What the graph's input is: raw spectra, or spectra after the runtime's first steps.

    ``record["runtime_steps"]`` holds, per input channel, how many preprocessing steps run
    before the graph.
    """
    steps = [int(n) for n in record.get("runtime_steps") or [0]]
    if not any(steps):
        return "the graph takes raw spectra"
    per = "/".join(str(n) for n in steps)
    return f"the graph takes spectra after the first {per} preprocessing step(s), run outside it"


def run(args: argparse.Namespace) -> int:
    if args.format == "zip":
        from spectrakit.bundle import verify
        from spectrakit.bundle.archive import pack_bundle

        out = _checked_out(args) or claim_file(f"{str(args.model).rstrip('/')}.zip", args)
        verify(args.model)
        out = pack_bundle(args.model, out)
        print(f"packed {args.model} into {out}")
        return 0
    from spectrakit.export.onnx import export_onnx

    out = _checked_out(args)
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
    if out is not None:
        _standalone(args.model, out)
        print(f"copied the graph to {out}; {_inputs_line(record)}")
    return 0
