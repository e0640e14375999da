"""SpectraTorch's workflow: a named, fully recorded classifier and its result sheet.

Data: synthetic fluorescence-like emission spectra of three classes (``OK``, ``VR11``,
``CROCHET``, after the SpectraTorch type labels) whose emission bands differ slightly in
position and width, with baseline and noise.

What it shows:

1. ``spectrakit finetune`` with the recipe SpectraTorch puts in its model names: validation
   on split 0 of 5 (``--split 0/5``) shuffled with seed 42, label smoothing 0.1, data
   augmentation (``da``), SNV as transform. ``--name-template`` renders the folder name in
   the seed's format (``vgg1d_tiny y=('type',) c=('snv',) t=('SNV', 'da') 0-5 s=42
   eps=0.1``) and the bundle records the same facts under ``training.recipe``.
2. ``spectrakit evaluate --sheet``: the per-model result sheet on the test set, scored once
   (metrics, confusion matrix, ROC and precision-recall curves, calibration) as PNG + HTML.

3. Separately measured channels: every sample measured at two excitation wavelengths
   (``ex277``, ``ex380``), one file per channel on its own emission range, joined by
   ``sample_id``. ``finetune --channel-files`` trains one two-channel model; the bundle
   records the channel names and axes, and ``predict --channel-files`` takes the same
   channel set. The class shows only in channel ``ex380``: a model on ``ex277`` alone stays
   near chance, the two-channel model separates the classes.

It prints the result sheet's figures: accuracy, macro F1, per-class ROC AUC and AP, ECE,
and the test accuracy of the one-channel and the two-channel model.

Run::

    python examples/seed_spectratorch.py --out example-output/seed_spectratorch

Outputs: ``models/<name>/`` (bundle), ``sheet/result_sheet.png``,
``sheet/result_sheet.html``, ``metrics.json``, ``channels/both/`` (two-channel bundle),
``channels/accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit import Spectra, write
from spectrakit.cli import main as cli
from spectrakit.datasets.measured_channels import make_deciding_channel
from spectrakit.evaluation.result_sheet import curves
from spectrakit.io import write_channels
from spectrakit.training.recipe import SEED_TEMPLATE

NAME = "seed_spectratorch"
CLASSES = ("OK", "VR11", "CROCHET")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    return p.parse_args()


def make_spectra(n: int, seed: int) -> Spectra:
    """Emission 300-700 nm; each class shifts and widens the main band a little."""
    rng = np.random.default_rng(seed)
    axis = np.linspace(300.0, 700.0, 256)
    label = rng.integers(0, len(CLASSES), n)
    centre = np.array([450.0, 470.0, 490.0])[label] + rng.normal(0, 4.0, n)
    width = np.array([30.0, 38.0, 46.0])[label] * rng.uniform(0.9, 1.1, n)
    band = np.exp(-0.5 * ((axis[None] - centre[:, None]) / width[:, None]) ** 2)
    baseline = rng.uniform(0.0, 0.3, (n, 1)) * (axis[None] - 300.0) / 400.0
    values = rng.uniform(0.5, 2.0, (n, 1)) * band + baseline + rng.normal(0, 0.02, (n, 256))
    return Spectra(values, axis, unit="nm", meta={"type": np.asarray(CLASSES)[label]})


def run(args: list[str]) -> None:
    code = cli(args)
    if code != 0:
        raise SystemExit(f"spectrakit {args[0]} failed with exit code {code}")


def _accuracy(model: Path, inputs: list[str], out: Path, labels) -> float:
    run(["predict", "--model", str(model), *inputs, "--out", str(out)])
    return float((pd.read_csv(out)["predicted"].to_numpy() == labels).mean())


def measured_channels(out: Path, quick: bool) -> dict[str, float]:
    """Two excitation channels per sample, one file each; the class lives in channel 2."""
    n_train, n_test, epochs = (48, 40, 12) if quick else (400, 200, 30)
    train = make_deciding_channel(n_train, seed=1)
    test = make_deciding_channel(n_test, seed=2)
    folder = out / "channels"
    folder.mkdir(parents=True, exist_ok=True)
    files = {s: write_channels(d, folder, f"{s}_") for s, d in (("train", train), ("test", test))}
    first = train.names[0]
    common = ["--target", "label", "--model", "cnn1d_tiny", "--epochs", str(epochs),
              "--lr", "1e-2", "--batch-size", "16", "--ood", "none", "--seed", "0",
              "--patience", "0", "--no-progress", "--threads", "1"]  # fmt: skip
    run(["finetune", "--channel-files", files["train"], "--out", str(folder / "both"), *common])
    alone = ["--data", str(folder / f"train_{first}.csv")]
    run(["finetune", *alone, "--out", str(folder / f"{first}_only"), *common])
    labels = test.meta["label"].to_numpy()
    result = {
        f"{first}_only": _accuracy(folder / f"{first}_only",
                                   ["--data", str(folder / f"test_{first}.csv")],
                                   folder / "pred_one.csv", labels),
        "both": _accuracy(folder / "both", ["--channel-files", files["test"]],
                          folder / "pred_both.csv", labels),
    }  # fmt: skip
    (folder / "accuracy.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    n_train, n_test, epochs = (150, 60, 8) if args.quick else (1500, 600, 60)
    write(make_spectra(n_train, 0), args.out / "train.csv")
    write(make_spectra(n_test, 1), args.out / "test.csv")
    (args.out / "snv.yaml").write_text("steps:\n  - SNV\n", encoding="utf-8")
    augment = json.dumps([{"name": "Shift", "params": {"max_shift": 2.0}}])
    run(
        [
            "finetune",
            "--data",
            str(args.out / "train.csv"),
            "--target",
            "type",
            "--model",
            "vgg1d_tiny",
            "--pipeline",
            str(args.out / "snv.yaml"),
            "--split",
            "0/5",
            "--seed",
            "42",
            "--label-smoothing",
            "0.1",
            "--augment",
            augment,
            "--name-template",
            SEED_TEMPLATE,
            "--out",
            str(args.out / "models"),
            "--epochs",
            str(epochs),
            "--batch-size",
            "16",
            "--lr",
            "3e-3",
            "--no-progress",
            "--threads",
            "2",
        ]
    )
    (bundle,) = (p for p in (args.out / "models").iterdir() if p.suffix != ".run")
    print(f"model folder: {bundle.name}")
    recipe = json.loads((bundle / "config.json").read_text())["training"]["recipe"]
    print("recorded recipe: " + ", ".join(f"{k}={v}" for k, v in recipe.items()))
    run(
        [
            "evaluate",
            "--model",
            str(bundle),
            "--data",
            str(args.out / "test.csv"),
            "--target",
            "type",
            "--out",
            str(args.out / "metrics.json"),
            "--sheet",
            str(args.out / "sheet"),
        ]
    )
    import spectrakit as sk

    test = sk.read(args.out / "test.csv")
    proba = sk.load(bundle).predict(test)[[f"proba_{c}" for c in CLASSES]].to_numpy()
    m = json.loads((args.out / "metrics.json").read_text())["type"]
    print(
        f"result sheet: accuracy {m['accuracy']:.3f}, macro F1 {m['macro_f1']:.3f}, "
        f"ROC AUC {m['roc_auc']:.3f}, ECE {m['ece']:.3f} (n = {m['n']})"
    )
    for c, v in curves(test.meta["type"].to_numpy(), proba, CLASSES).items():
        print(f"  {c:<8} ROC AUC {v['auc']:.3f}  AP {v['ap']:.3f}")
    acc = measured_channels(args.out, args.quick)
    channels = json.loads((args.out / "channels" / "both" / "config.json").read_text())
    names = [c["name"] for c in channels["channels"]]
    print(
        f"measured channels {', '.join(names)}: test accuracy {acc['both']:.3f} with both, "
        f"{acc[names[0] + '_only']:.3f} with {names[0]} alone (the class is in {names[1]})"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
