"""``spectrakit baseline``: a chemometric model, cross-validated and tested, with transfer."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectrakit.cli._common import read_input, write_json
from spectrakit.cli._output import BASELINE_DIR, claim_dir, distinct
from spectrakit.cli._parser import command_parser
from spectrakit.cli._targets import check_same_axis, check_targets
from spectrakit.cli._types import bounded_float, bounded_int, fraction, new_folder
from spectrakit.cli.benchmark import add_common_options, cv_option
from spectrakit.core.atomic import atomic_dir
from spectrakit.core.errors import ConfigError

if TYPE_CHECKING:  # loaded when the command runs, so --help stays fast
    import pandas as pd

EXAMPLE = (
    "example: spectrakit baseline pls --data train.csv --target glucose --test new.csv "
    "--cv group:sample --pipeline nir-default --transfer pds --master m.csv --slave s.csv "
    "--out pls/"
)
WITH_STANDARDS = ("ds", "pds", "sst", "slope-bias")
WITHOUT_STANDARDS = ("mean-center", "dipls")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "baseline",
        "Fit a chemometric baseline; preprocessing is refitted inside every "
        "cross-validation fold. Writes metrics.json, predictions.csv and report.html. " + EXAMPLE,
        run,
    )
    p.add_argument("model", choices=["pls", "plsda", "svm", "rf", "ridge"])
    add_common_options(p)
    _add_transfer_options(p)
    p.add_argument(
        "--calibration",
        help="labeled spectra held out from training: split-conformal prediction intervals "
        "(regression) or sets (classification) for --test, with their empirical coverage",
    )
    p.add_argument(
        "--alpha",
        type=fraction,
        default=0.1,
        help="conformal miscoverage, between 0 and 1 exclusive (0.1 = 90 %% coverage)",
    )
    _add_save_options(p)


def _add_transfer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--transfer",
        choices=[*WITH_STANDARDS, *WITHOUT_STANDARDS],
        help="calibration transfer for --test spectra from another instrument: ds, pds, sst, "
        "slope-bias (need --master/--slave standards), mean-center, dipls (need --unlabeled)",
    )
    p.add_argument("--master", help="transfer standards measured on the calibration instrument")
    p.add_argument(
        "--slave",
        help="the same standards, same order, on the new instrument (slope-bias: "
        "with the target column)",
    )
    p.add_argument("--unlabeled", help="unlabeled spectra from the new instrument")
    p.add_argument(
        "--components",
        type=bounded_int(1, 1000),
        help="PLS / di-PLS latent variables (default: CV)",
    )
    p.add_argument(
        "--lam", type=bounded_float(0), default=10.0, help="di-PLS invariance penalty (>= 0)"
    )
    p.add_argument(
        "--half-width", type=bounded_int(0), default=3, help="PDS window half-width (points)"
    )


def _add_save_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--save",
        metavar="DIR",
        type=new_folder,
        help="also write the model fitted on all --data as a bundle (the format of "
        "'finetune'; works with predict, evaluate, serve, export); a slope-bias transfer "
        "is stored in it",
    )
    p.add_argument(
        "--ood",
        choices=("auto", "t2q", "dime", "mahalanobis", "knn", "none"),
        default="auto",
        help="OOD detector of the --save bundle (auto: Hotelling T2/Q for pls/plsda, dime "
        "otherwise), calibrated on 5-fold cross-validated training spectra",
    )
    p.add_argument(
        "--false-rejection",
        type=bounded_float(0, 0.5, low_open=True),
        default=0.05,
        help="rate of in-distribution spectra the OOD threshold flags",
    )


def _save_bundle(args: argparse.Namespace, factory, train, y, task: str, info: dict) -> None:
    """``--save``: the model fitted on all training spectra as a bundle."""
    from spectrakit.training.chemometric import save_chemometric

    model = info.get("model") or factory().fit(train, y)
    predictor = save_chemometric(
        model,
        train,
        y,
        args.save,
        task=task,
        targets=[args.target],
        ood=args.ood,
        false_rejection=args.false_rejection,
        training={"chemometric": args.model, "pipeline": str(args.pipeline)},
        output_correction=(info["slope"], info["bias"]) if "slope" in info else None,
    )
    print(f"bundle written to {args.save} ({predictor.config.family.name})")


def _check_transfer_args(args: argparse.Namespace) -> None:
    if args.save and args.transfer not in (None, "slope-bias"):
        raise ConfigError(
            f"--save cannot store --transfer {args.transfer}",
            expected="no --transfer, or --transfer slope-bias (stored as an output correction)",
            got=f"--transfer {args.transfer}",
            fix="save without --transfer; standardize the new instrument's spectra first",
        )
    if args.transfer is None:
        return
    if not args.test:
        raise ConfigError(
            "--transfer needs --test spectra from the new instrument", got="no --test"
        )
    if args.transfer in WITH_STANDARDS and not (args.master and args.slave):
        raise ConfigError(
            f"--transfer {args.transfer} needs transfer standards",
            expected="--master FILE --slave FILE",
            got="missing",
        )
    if args.transfer in WITHOUT_STANDARDS and not args.unlabeled:
        raise ConfigError(
            f"--transfer {args.transfer} needs unlabeled spectra of the new instrument",
            expected="--unlabeled FILE",
            got="missing",
        )


def _standardizer(args: argparse.Namespace):
    from spectrakit.chemometrics import (
        DirectStandardization,
        PiecewiseDirectStandardization,
        SpectralSpaceTransformation,
    )

    return {
        "ds": lambda: DirectStandardization(ridge=1e-3),
        "pds": lambda: PiecewiseDirectStandardization(half_width=args.half_width),
        "sst": SpectralSpaceTransformation,
    }[args.transfer]()


def _test_predictions(args, model_factory, train, y, test, task) -> tuple[Any, dict]:
    """Predictions for --test (after transfer when asked) and what was done."""
    from spectrakit.chemometrics import DIPLS, InstrumentMeanCentering, SlopeBiasCorrection
    from spectrakit.evaluation.cross_validation import predict_scores

    info: dict[str, Any] = {"transfer": args.transfer}
    if args.transfer == "dipls":
        if task != "regression":
            raise ConfigError("di-PLS is a regression method", got=f"task {task}")
        from spectrakit.chemometrics import PLSRegressor, SpectralEstimator, resolve_pipeline

        unlabeled = read_input(args.unlabeled, args)
        prep = SpectralEstimator(PLSRegressor(n_components=args.components), args.pipeline)
        prep.fit(train, y)  # preprocessing learned from the labeled source spectra only
        n_comp = args.components or prep.model_[-1].n_components_
        model = DIPLS(n_components=n_comp, lam=args.lam)
        model.fit(prep.transform(train), y, prep.transform(unlabeled))
        info.update(
            n_components=int(n_comp), lam=args.lam, pipeline=str(resolve_pipeline(args.pipeline))
        )
        return (model.predict(prep.transform(test)), None, None), info
    model = model_factory()
    model.fit(train, y)
    X = test
    if args.transfer in ("ds", "pds", "sst"):
        master, slave = read_input(args.master, args), read_input(args.slave, args)
        X = _standardizer(args).fit(master, slave).transform(test)
        info["n_standards"] = master.n_spectra
    elif args.transfer == "mean-center":
        X = InstrumentMeanCentering().fit(train, read_input(args.unlabeled, args)).transform(test)
    pred, proba = predict_scores(model, X, task)
    info["model"] = model
    if args.transfer is not None:
        raw, _ = predict_scores(model, test, task)
        info["uncorrected_predictions"] = raw
    if args.transfer == "slope-bias":
        if task != "regression":
            raise ConfigError("slope/bias correction is for regression", got=f"task {task}")
        slave = read_input(args.slave, args)
        sb = SlopeBiasCorrection().fit(model.predict(slave), slave.targets(args.target))
        pred = sb.transform(pred)
        info.update(slope=sb.slope_, bias=sb.bias_)
    return (pred, proba, getattr(model, "classes_", None)), info


def _conformal(args, model, test, y_test, task, frame: pd.DataFrame, figures: list) -> dict:
    """Calibrate on --calibration, add intervals / sets to ``frame``, return coverage."""
    import numpy as np

    from spectrakit.chemometrics import resolve_target
    from spectrakit.evaluation import plots
    from spectrakit.evaluation.conformal import ConformalClassifier, ConformalRegressor
    from spectrakit.evaluation.report import Figure

    calib = read_input(args.calibration, args)
    y_cal = np.asarray(resolve_target(calib, args.target))
    if task == "regression":
        conf = ConformalRegressor(model, alpha=args.alpha).calibrate(calib, y_cal)
        _, frame["lower"], frame["upper"] = conf.predict_interval(test)
        figures.append(
            Figure(
                "conformal_intervals",
                plots.intervals_png(
                    y_test, frame["y_pred"], frame["lower"], frame["upper"], alpha=args.alpha
                ),
                "Each test spectrum's interval; red references fall outside theirs.",
            )
        )
    else:
        conf = ConformalClassifier(model, alpha=args.alpha).calibrate(calib, y_cal)
        sets = conf.predict_set(test)
        labels = np.asarray(conf.classes_).astype(str)
        frame["prediction_set"] = ["|".join(labels[row]) for row in sets]
    return conf.evaluate(test, y_test)


def _extra_sections(args, factory, train, y, saved: dict, figures: list) -> list:
    """PLS diagnostics (of the model fitted on all --data) and conformal figures."""
    from spectrakit.evaluation.report import Section

    sections = []
    if args.model in ("pls", "plsda"):
        from spectrakit.evaluation.pls_report import pls_section

        sections.append(pls_section(saved.get("model") or factory().fit(train, y)))
    if figures:
        sections.append(Section("Uncertainty", figures=figures))
    return sections


def _check_args(args: argparse.Namespace) -> str | None:
    """Check option combinations and every output path before any reading or fitting.

    Returns the cross-validation scheme (``None`` for ``--cv none``).
    """
    _check_transfer_args(args)
    if args.calibration and (not args.test or args.transfer):
        raise ConfigError(
            "--calibration needs --test and no --transfer",
            expected="--test FILE (same instrument as --data and --calibration)",
            got="--transfer" if args.transfer else "no --test",
        )
    cv = cv_option(args.cv)
    if cv is None and not args.test:
        raise ConfigError("nothing to evaluate", expected="--cv or --test", got="--cv none")
    distinct([("--out", args.out), ("--save", args.save)])
    claim_dir(args.out, args, BASELINE_DIR)
    claim_dir(args.save, args)
    return cv


def _read_test(args: argparse.Namespace, train, task: str):
    """``--test`` read and checked before any fitting (``None`` without it)."""
    if not args.test:
        return None
    test = read_input(args.test, args)
    check_targets(test, [args.target], task, training=False)
    if not args.transfer:  # transferred spectra come from another instrument
        check_same_axis(train, test, "--test")
    return test


def _test_block(args, factory, train, y, test, task: str, metrics: dict, figures: list) -> tuple:
    """``--test`` predictions, scores and conformal results: (block, saved, frame)."""
    import numpy as np
    import pandas as pd

    from spectrakit.chemometrics import resolve_target
    from spectrakit.evaluation.cross_validation import score_predictions

    y_test = np.asarray(resolve_target(test, args.target))
    if task == "regression":
        y_test = y_test.astype(np.float64)
    (pred, proba, classes), info = _test_predictions(args, factory, train, y, test, task)
    scores = score_predictions(task, y_test, pred, proba, classes)
    raw = info.pop("uncorrected_predictions", None)
    if raw is not None:
        info["uncorrected_scores"] = {
            k: v
            for k, v in score_predictions(task, y_test, raw).items()
            if isinstance(v, int | float)
        }
    metrics["test"] = dict(scores)
    if args.transfer:
        metrics["transfer"] = info
    model = info.pop("model", None)
    frame = pd.DataFrame({"y_true": y_test, "y_pred": pred})
    if args.calibration:
        metrics["conformal"] = _conformal(args, model, test, y_test, task, frame, figures)
    block = {"y_true": y_test, "y_pred": pred, "scores": scores}
    return block, {**info, "model": model}, frame


def _notes(args, task: str, metrics: dict) -> list[str]:
    notes = [f"Model: {args.model} ({task}), target: {args.target}."]
    if args.transfer:
        notes.append(f"Test spectra were corrected with calibration transfer: {args.transfer}.")
        if "uncorrected_scores" in metrics.get("transfer", {}):
            key = "rmse" if task == "regression" else "accuracy"
            notes.append(
                f"Without transfer the test {key} would be "
                f"{metrics['transfer']['uncorrected_scores'][key]:.4g}."
            )
    if "conformal" in metrics:
        c = metrics["conformal"]
        notes.append(
            f"Split-conformal {'intervals' if task == 'regression' else 'sets'} at "
            f"{100 * (1 - args.alpha):.0f} % nominal coverage reached {100 * c['coverage']:.1f} "
            f"% on the test set (calibration: {c['n_calibration']} spectra)."
        )
    return notes


def _print_summary(cv, cv_result, test_block, metrics: dict, task: str, wrote: str) -> None:
    key = "rmse" if task == "regression" else "accuracy"
    if cv_result is not None:
        print(f"cross-validation ({cv}): {key} = {cv_result.scores[key]:.4g}")
    if test_block is not None:
        print(f"test: {key} = {test_block['scores'][key]:.4g}")
    if "conformal" in metrics:
        c = metrics["conformal"]
        print(f"conformal: coverage {c['coverage']:.3f} (nominal {c['nominal_coverage']:.2f})")
    print(wrote)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from spectrakit.chemometrics import make_baseline, resolve_pipeline, resolve_target
    from spectrakit.evaluation.benchmark import infer_task
    from spectrakit.evaluation.cross_validation import cross_validate

    cv = _check_args(args)
    pipeline = resolve_pipeline(args.pipeline)
    train = read_input(args.data, args)
    task = infer_task(train, args.target, args.task)
    check_targets(train, [args.target], task)
    y = np.asarray(resolve_target(train, args.target))
    if task == "regression":
        y = y.astype(np.float64)
    test = _read_test(args, train, task)
    params = {}
    if args.components is not None and args.model in ("pls", "plsda"):
        params["n_components"] = args.components

    def factory():
        return make_baseline(args.model, task, pipeline=pipeline, **params)

    metrics: dict[str, Any] = {"model": args.model, "task": task, "target": args.target}
    tables: dict[str, pd.DataFrame] = {}  # written once everything has succeeded
    cv_result = None
    if cv is not None:
        cv_result = cross_validate(factory, train, y, cv, task=task)
        metrics["cv"] = cv_result.summary()
        metrics["cv"]["scheme"] = cv
        tables["cv_predictions.csv"] = cv_result.predictions
    test_block, saved, figures = None, {}, []
    if test is not None:
        test_block, saved, tables["predictions.csv"] = _test_block(
            args, factory, train, y, test, task, metrics, figures
        )
    sections = _extra_sections(args, factory, train, y, saved, figures)
    if args.save:
        _save_bundle(args, factory, train, y, task, saved)
    report = {
        "title": f"{args.model.upper()} baseline: {args.target}",
        "task": task,
        "spectra": train,
        "target": y,
        "cv_result": cv_result,
        "test": test_block,
        "pipeline": pipeline,
        "notes": _notes(args, task, metrics),
        "extra_sections": sections,
    }
    wrote = _write_results(Path(args.out), tables, metrics, report)
    _print_summary(cv, cv_result, test_block, metrics, task, wrote)
    return 0


def _write_results(out: Path, tables: dict, metrics: dict, report: dict) -> str:
    """The results folder, whole or not at all: tables, metrics.json and the report."""
    from spectrakit.evaluation.report import write_model_report

    with atomic_dir(out, replaceable=BASELINE_DIR, what="an earlier 'baseline' output") as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / name, index=False)
        write_json(metrics, tmp / "metrics.json")
        html = write_model_report(tmp, **report)
    return f"wrote {out / 'metrics.json'}, {out / html.name}"
