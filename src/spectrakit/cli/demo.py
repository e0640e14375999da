"""``spectrakit demo``: the automatic, CV-chosen model on a real fermentation, against PLS.

The workflow is :func:`spectrakit.evaluation.demo.run_demo`: 21 glucose standards ->
1,629 on-line process spectra (unlabeled, used for adaptation) -> 34 HPLC references,
sealed until the choice made by cross-validation on the standards is frozen, then scored
once for the chosen model and for CV-tuned PLS on the same points.
"""

from __future__ import annotations

import argparse

from spectrakit.cli._output import claim_dir
from spectrakit.cli._parser import command_parser
from spectrakit.cli._types import bounded_int, new_folder
from spectrakit.core.atomic import owned_by

__all__ = ["add_parser", "run"]

EXAMPLE = "example: spectrakit demo --out demo-output"
#: what the demo writes into --out: such a folder may be written again
DEMO_DIR = owned_by(
    "model", "model.run", "metrics.json", "predictions.csv", "report.html", "figures"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub, "demo", "End-to-end demonstration (about two minutes on a laptop CPU). " + EXAMPLE, run
    )
    p.add_argument("--out", type=new_folder, default="demo-output", help="output directory")
    p.add_argument(
        "--seed", type=bounded_int(0, 2**32 - 1), default=0, help="random seed (folds and networks)"
    )
    p.add_argument(
        "--deep",
        default="pls_net",
        help="deep recipes among the candidates (pls_net, cnn; 'none': chemometrics only; "
        "adding cnn takes several times longer)",
    )
    p.add_argument(
        "--full", action="store_true", help="full network schedules (slower than the default)"
    )
    p.add_argument("--synthetic", action="store_true", help="use the synthetic fermentation")


def run(args: argparse.Namespace) -> int:
    from spectrakit.cli._auto import deep_recipes
    from spectrakit.evaluation.demo import run_demo

    deep = deep_recipes(args.deep, "regression")
    claim_dir(args.out, args, DEMO_DIR, what="an earlier 'demo' output")
    result = run_demo(
        args.out, synthetic=args.synthetic, seed=args.seed, quick=not args.full, deep=deep
    )
    print(f"data: {result.source}; {result.n_standards} standards, "
          f"{result.n_process} process spectra")  # fmt: skip
    print(result.cv_table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"chosen by CV on the standards: {result.chosen}")
    print(f"{result.summary()}; report: {result.extra['report']} ({result.seconds:.0f} s)")
    return 0
