"""``finetune --model auto``: every candidate ranked by CV on the training spectra, one bundle.

The options (``--unlabeled``, ``--deep``, ``--quick``) and the dispatch live here so the
``finetune`` command only adds them and hands over.
"""

from __future__ import annotations

import argparse
from typing import Any

from spectrakit.core.errors import ConfigError

#: deep recipes tried by default (the PLS-started network is for regression only)
DEEP_DEFAULT = "pls_net,cnn"


def add_auto_options(p: argparse.ArgumentParser) -> None:
    """The options of ``--model auto``."""
    p.add_argument(
        "--unlabeled",
        help="unlabeled spectra of the new instrument: candidates adapt to it (instrument "
        "mean-centering, di-PLS, networks with per-domain centering/AdaBN and CORAL) and "
        "the bundle predicts spectra of that instrument",
    )
    p.add_argument(
        "--master",
        help="with --model auto: transfer standards measured on the training instrument "
        "(with --slave: PLS with DS, PDS, SST or mean-centering, ranked by CV and "
        "leave-one-standard-out transfer error; the bundle predicts slave spectra)",
    )
    p.add_argument("--slave", help="the same standards measured on the new instrument")
    p.add_argument(
        "--deep",
        default=DEEP_DEFAULT,
        help="with --model auto: deep recipes among the candidates (pls_net, cnn; 'none' "
        "for chemometrics only)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="with --model auto: shorter schedules and smaller ensembles for the networks",
    )


def deep_recipes(spec: str, task: str) -> tuple[str, ...]:
    """Recipe names from ``--deep`` (``none``: no networks), checked."""
    from spectrakit.training.auto import DEEP

    names = tuple(n.strip() for n in str(spec).split(",") if n.strip() and n.strip() != "none")
    bad = [n for n in names if n not in DEEP]
    if bad:
        raise ConfigError(
            "unknown deep recipe", expected=", ".join(DEEP) + " or none", got=", ".join(bad)
        )
    return tuple(n for n in names if task == "regression" or n != "pls_net")


def run_auto(args: argparse.Namespace, train: Any, targets: list[str], task: str) -> Any:
    """Rank the candidates, write the winner to ``args.out``, print the CV table."""
    import numpy as np

    from spectrakit.chemometrics import resolve_target
    from spectrakit.cli._common import read_input
    from spectrakit.training.auto import auto_fit, candidate_pipelines
    from spectrakit.training.auto_package import save_auto

    if task not in ("regression", "classification") or len(targets) != 1:
        raise ConfigError(
            "--model auto needs one target",
            expected="one regression target or one label column",
            got=f"{task}, targets {', '.join(targets)}",
        )
    y = np.asarray(resolve_target(train, targets[0]))
    groups = None
    if args.groups:
        if args.groups not in train.meta.columns:
            raise ConfigError(
                "unknown --groups column", expected=", ".join(train.meta.columns), got=args.groups
            )
        groups = train.meta[args.groups].to_numpy()
    _check_align(args)
    target = _on_axis(read_input(args.unlabeled, args), train) if args.unlabeled else None
    standards = _standards(args, train)
    choice = auto_fit(
        train, y, task=task, pipelines=candidate_pipelines(train, args.pipeline),
        target=target, deep=deep_recipes(args.deep, task), groups=groups, seed=int(args.seed),
        quick=bool(args.quick), standards=standards,
        recipe_options={"align": args.align, "screen": args.screen},
    )  # fmt: skip
    deploy = target if target is not None or standards is None else standards[1]
    predictor = save_auto(
        choice, train, y, args.out, targets=targets, target=deploy, ood=args.ood,
        false_rejection=args.false_rejection, seed=int(args.seed),
        bounds=(args.target_min, args.target_max),
    )  # fmt: skip
    print(choice.table().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    auto = predictor.config.training["auto"]
    print(f"chosen: {auto['chosen']} ({auto['kind']}): {auto['reason']}")
    return predictor


def _check_align(args: argparse.Namespace) -> None:
    if args.align != "coral" and not args.unlabeled:
        raise ConfigError(
            "--align picks the loss that adapts the networks to unlabeled spectra",
            expected="--unlabeled NEW.csv with --align " + args.align,
            got="no --unlabeled",
        )


def _on_axis(spectra: Any, train: Any) -> Any:
    """``spectra`` on the training axis (resampled when their grid differs)."""
    if spectra.axis.allclose(train.axis):
        return spectra
    return spectra.resample(train.axis.values)


def _standards(args: argparse.Namespace, train: Any) -> tuple | None:
    from spectrakit.cli._common import read_input

    if bool(args.master) != bool(args.slave):
        raise ConfigError(
            "transfer standards need both files",
            expected="--master M.csv --slave S.csv (the same samples on both instruments)",
            got="--master only" if args.master else "--slave only",
        )
    if not args.master:
        return None
    master = _on_axis(read_input(args.master, args), train)
    return master, _on_axis(read_input(args.slave, args), train)


def refuse_auto_only(args: argparse.Namespace) -> None:
    """``--unlabeled``/``--master``/``--slave``/``--align``: for ``--model auto`` only."""
    given = [f"--{k}" for k in ("unlabeled", "master", "slave") if getattr(args, k, None)]
    if getattr(args, "align", "coral") != "coral":
        given.append(f"--align {args.align}")
    if given:
        raise ConfigError(
            f"{' and '.join(given)} adapt the candidates of --model auto",
            expected="--model auto (add --deep pls_net or cnn for networks only)",
            got=f"--model {args.model}",
        )
