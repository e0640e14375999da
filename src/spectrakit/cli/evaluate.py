"""``spectrakit evaluate``: score a model bundle on labelled spectra (metrics JSON + plots)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spectrakit.cli._channels import add_channel_options, read_data
from spectrakit.cli._common import add_read_options, write_json
from spectrakit.cli._output import PLOTS_DIR, SHEET_DIR, claim_dir, claim_file, distinct
from spectrakit.cli._parser import MODEL, command_parser
from spectrakit.core.errors import DataError
from spectrakit.io import atomic_path

EXAMPLE = (
    "example: spectrakit evaluate --model glucose-model --data test.csv --target glucose "
    "--out metrics.json --plots eval-plots"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub, "evaluate", "Evaluate a bundle on spectra with known targets. " + EXAMPLE, run, [MODEL]
    )
    p.add_argument("--data", help="labelled spectra (or --channel-files)")
    p.add_argument("--target", help="target column(s), comma-separated (default: the model's)")
    p.add_argument("--out", default="-", help="metrics JSON ('-' = stdout)")
    p.add_argument("--plots", help="directory for PNG plots (parity / confusion matrix)")
    p.add_argument(
        "--sheet",
        help="directory for the result sheet of a classifier (result_sheet.png and .html: "
        "metrics, confusion matrix, ROC/PR, calibration, training recipe)",
    )
    add_read_options(p)
    add_channel_options(p)


def evaluate(predictor, spectra, targets: list[str]) -> tuple[dict, dict[str, bytes]]:
    """Metrics per target and PNG plots.

    Returns
    -------
    metrics : dict
    plots : dict of str to bytes
        PNG images by file stem.
    """
    import numpy as np

    from spectrakit.evaluation import plots
    from spectrakit.evaluation.metrics import classification_metrics, regression_metrics

    pred = predictor.predict(spectra)
    spectra = labelled(spectra)
    metrics: dict = {"n": spectra.n_spectra, "task": predictor.task}
    images: dict[str, bytes] = {}
    if predictor.task == "regression":
        for model_target, col in zip(predictor.targets, targets, strict=True):
            y = spectra.targets(col)
            metrics[model_target] = regression_metrics(y, pred[model_target].to_numpy())
            images[f"parity_{model_target}"] = plots.parity_png(
                y, pred[model_target].to_numpy(), title=f"{model_target}: predicted vs reference"
            )
    elif predictor.task == "classification":
        y = spectra.meta[targets[0]].astype(str).to_numpy()
        proba = pred[[f"proba_{c}" for c in predictor.classes]].to_numpy()
        m = classification_metrics(
            y, pred["predicted"].astype(str).to_numpy(), proba, predictor.classes
        )
        metrics[targets[0]] = m
        images["confusion_matrix"] = plots.confusion_matrix_png(
            m["confusion_matrix"], predictor.classes
        )
    else:
        y = spectra.targets(targets) > 0.5
        p = pred[predictor.classes].to_numpy(dtype=bool)
        metrics["subset_accuracy"] = float(np.mean(np.all(y == p, axis=1)))
        metrics["label_accuracy"] = float(np.mean(y == p))
    if "is_ood" in pred:
        metrics["ood_fraction"] = float(pred["is_ood"].mean())
    return metrics, images


def summary_line(metrics: dict) -> str:
    """One line of the headline figures, for a terminal when the metrics go to a file.

    Examples
    --------
    >>> summary_line({"n": 34, "task": "regression", "glucose": {"rmse": 4.5, "r2": 0.93,
    ...               "bias": -0.2}, "ood_fraction": 0.03})
    'evaluated 34 spectra: glucose RMSE 4.5, R2 0.93, bias -0.2; OOD 3.0 %'
    """
    parts = []
    for name, m in metrics.items():
        if isinstance(m, dict) and "rmse" in m:
            parts.append(f"{name} RMSE {m['rmse']:.3g}, R2 {m['r2']:.3g}, bias {m['bias']:.2g}")
        elif isinstance(m, dict) and "accuracy" in m:
            parts.append(f"{name} accuracy {m['accuracy']:.3g}")
    if "subset_accuracy" in metrics:
        parts.append(f"subset accuracy {metrics['subset_accuracy']:.3g}")
    line = f"evaluated {metrics['n']} spectra: " + "; ".join(parts)
    if "ood_fraction" in metrics:
        line += f"; OOD {100 * metrics['ood_fraction']:.1f} %"
    return line


def labelled(spectra):
    """Spectra holding the targets: ``spectra``, or a channel set's first channel (its meta)."""
    from spectrakit.core.channel_set import ChannelSet

    return spectra[spectra.names[0]] if isinstance(spectra, ChannelSet) else spectra


def run(args: argparse.Namespace) -> int:
    import spectrakit

    distinct([("--out", args.out), ("--plots", args.plots), ("--sheet", args.sheet)])
    claim_file(args.out, args)
    claim_dir(args.plots, args, PLOTS_DIR)
    claim_dir(args.sheet, args, SHEET_DIR)
    predictor = spectrakit.load(args.model)
    if args.sheet:
        _check_sheet(predictor)
    spectra = read_data(args)
    targets = (
        [t.strip() for t in args.target.split(",")] if args.target else list(predictor.targets)
    )
    expected = len(predictor.targets) if predictor.task != "classification" else 1
    if len(targets) != expected:
        raise DataError(
            "wrong number of target columns",
            expected=f"{expected} (the model predicts {', '.join(predictor.targets)})",
            got=", ".join(targets),
        )
    metrics, images = evaluate(predictor, spectra, targets)
    # The metrics file is written last: it marks a complete evaluation, so a failure while
    # writing the sheet or the plots (full disk, permissions) leaves no metrics behind.
    if getattr(args, "sheet", None):
        _sheet(predictor, spectra, targets, args.sheet)
    if args.plots:
        for name, png in images.items():
            with atomic_path(Path(args.plots) / f"{name}.png") as tmp:
                tmp.write_bytes(png)
    write_json(metrics, args.out)
    if str(args.out) != "-":
        print(f"{summary_line(metrics)} (metrics in {args.out})", file=sys.stderr)
    return 0


def _check_sheet(predictor) -> None:
    if predictor.task != "classification":
        raise DataError(
            "a result sheet is drawn for classifiers",
            expected="a classification bundle",
            got=f"task {predictor.task!r}",
            fix="use --plots for the parity plots of a regression model",
        )


def _sheet(predictor, spectra, targets: list[str], out: str) -> None:
    from spectrakit.evaluation.result_sheet import write_result_sheet

    pred = predictor.predict(spectra)
    spectra = labelled(spectra)
    proba = pred[[f"proba_{c}" for c in predictor.classes]].to_numpy()
    name = Path(str(predictor.bundle_dir)).name
    recipe = predictor.config.recipe
    write_result_sheet(
        out,
        spectra.meta[targets[0]].astype(str).to_numpy(),
        proba,
        predictor.classes,
        title=f"{name}: {spectra.n_spectra} test spectra",
        recipe=recipe,
    )
