"""``finetune --model auto``: every candidate ranked by CV on the training spectra, one bundle.

The options (``--unlabeled``, ``--deep``, ``--quick``) and the dispatch live here so the
``finetune`` command only adds them and hands over.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from spectrakit.core.errors import ConfigError, SpectraError

log = logging.getLogger("spectrakit.auto")

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


def candidate_pipelines(train: Any, extra: Any = None) -> dict[str, Any]:
    """The built-in presets (and ``extra``) that run on ``train``; others are logged and left.

    Parameters
    ----------
    train : Spectra
    extra : pipeline spec, optional
        The user's ``--pipeline``, tried first.
    """
    from spectrakit.preprocessing import get_pipeline, list_presets

    specs: dict[str, Any] = {}
    if extra is not None:
        specs[str(extra)] = extra
    specs.update({name: name for name in list_presets()})
    out = {}
    for name, spec in specs.items():
        try:
            get_pipeline(spec).fit_transform(train)
        except SpectraError as exc:
            log.warning("preprocessing %s left out of the candidates: %s", name, exc)
            continue
        out[name] = spec
    if not out:
        raise ConfigError(
            "no preprocessing runs on these spectra",
            expected="at least one of " + ", ".join(specs),
            got="every one refused the data",
            fix="give --pipeline with steps that fit the axis",
        )
    return out


def _deep(spec: str, task: str) -> tuple[str, ...]:
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
    from spectrakit.training.auto import auto_fit
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
    target = read_input(args.unlabeled, args) if args.unlabeled else None
    if target is not None and not target.axis.allclose(train.axis):
        target = target.resample(train.axis.values)
    choice = auto_fit(
        train, y, task=task, pipelines=candidate_pipelines(train, args.pipeline),
        target=target, deep=_deep(args.deep, task), groups=groups, seed=int(args.seed),
        quick=bool(args.quick),
    )  # fmt: skip
    predictor = save_auto(
        choice, train, y, args.out, targets=targets, target=target, ood=args.ood,
        false_rejection=args.false_rejection, seed=int(args.seed),
    )  # fmt: skip
    print(choice.table().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    auto = predictor.config["training"]["auto"]
    print(f"chosen: {auto['chosen']} ({auto['kind']}): {auto['reason']}")
    return predictor
