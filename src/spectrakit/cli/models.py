"""``spectrakit models``: list the registered model architectures."""

from __future__ import annotations

import argparse
from typing import Any

from spectrakit.cli._common import write_json
from spectrakit.cli._output import claim_file
from spectrakit.cli._parser import command_parser

EXAMPLE = "example: spectrakit models 'specbert*' --json -"

# constructing a fixed-length model needs a length; any valid one gives the same width-
# independent facts, and the parameter count is reported for this length
_LENGTH = 1024


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "models",
        "List registered models matching PATTERN (shell-style). Parameter counts "
        f"are for one input channel, one output and {_LENGTH} points. " + EXAMPLE,
        run,
    )
    p.add_argument("pattern", nargs="?", default="*", help="name pattern, e.g. 'spectrafm*'")
    p.add_argument("--json", dest="json_out", help="write the table as JSON ('-' = stdout)")


def describe(name: str) -> dict[str, Any]:
    """Facts about one registered model (built on CPU with default arguments)."""
    import torch

    from spectrakit.models import create, model_family

    with torch.device("meta"):  # shapes only: no memory, no initialisation cost
        model = create(name, input_length=_LENGTH)
    return {
        "name": name,
        "family": model_family(name),
        "params": sum(p.numel() for p in model.parameters()),
        "num_features": model.num_features,
        "axis_aware": model.axis_aware,
        "variable_length": model.variable_length,
        "masked_modeling": model.patch_size is not None,
        "patch_size": model.patch_size,
        "gradcam_layer": model.gradcam_layer,
    }


def run(args: argparse.Namespace) -> int:
    from spectrakit.core.errors import ModelError
    from spectrakit.models import list_models

    claim_file(args.json_out, args)

    names = list_models(args.pattern)
    if not names:
        raise ModelError(
            "no model matches",
            expected="a pattern matching registered names",
            got=repr(args.pattern),
            fix="run 'spectrakit models' to see all names",
        )
    rows = [describe(n) for n in names]
    if args.json_out:
        write_json(rows, args.json_out)
        if args.json_out == "-":
            return 0
    header = f"{'name':<18} {'family':<12} {'params':>11} {'dim':>5}  axis  var-len  masked"
    print(header)
    for r in rows:
        print(
            f"{r['name']:<18} {r['family']:<12} {r['params']:>11,} {r['num_features']:>5}  "
            f"{'yes' if r['axis_aware'] else 'no':<4}  {'yes' if r['variable_length'] else 'no':<7}"
            f"  {'yes' if r['masked_modeling'] else 'no'}"
        )
    return 0
