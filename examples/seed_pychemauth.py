"""The pychemauth CNN tutorial: a 1D CNN classifier under open-set conditions.

Data: synthetic spectra of three known materials (``a``, ``b``, ``c``, one band each at
600, 1000 and 1400 cm-1 over a shared broad background) and, in the test set only, a
material the model never saw (``novel``, band at 800 cm-1).

What it shows (the tutorial's steps):

1. ``spectrakit finetune --model cnn1d_tiny``: the tutorial's 1D CNN, with the learning
   rate found by the LR finder (``--lr auto``: sweep, smooth, steepest descent before the
   minimum) and a cyclical ``triangular2`` schedule between the bounds the sweep gives.
2. DIME (the tutorial's OOD detector on the CNN's embedding) with its components k and
   rate alpha tuned on the training spectra only (``--ood-tune``: leave one class out,
   best open-set efficiency), stored in the bundle.
3. ``spectrakit predict --open-set``: spectra DIME flags are labelled ``unknown``.

It prints the tutorial's figures: accuracy on the known materials, DIME's rejection of the
unknown material (and its false rejection of known ones), and the open-set figures of
merit TSNS, TSPS and TEFF.

Run::

    python examples/seed_pychemauth.py --out example-output/seed_pychemauth

Outputs: ``cnn/`` (bundle with ``ood.json``), ``predictions.csv``, ``figures.json``.
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

NAME = "seed_pychemauth"
AXIS = np.linspace(400.0, 1800.0, 256)
CENTERS = {"a": 600.0, "b": 1000.0, "c": 1400.0, "novel": 800.0}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    return p.parse_args()


def make_spectra(labels: list[str], seed: int) -> Spectra:
    """One band per material on a shared broad background, with noise."""
    rng = np.random.default_rng(seed)
    centre = np.array([CENTERS[x] for x in labels]) + rng.normal(0, 3.0, len(labels))
    band = rng.uniform(0.7, 1.3, (len(labels), 1)) * np.exp(
        -0.5 * ((AXIS[None] - centre[:, None]) / 20.0) ** 2
    )
    background = 0.3 + 0.4 * np.exp(-0.5 * ((AXIS - 1650) / 60.0) ** 2)
    values = band + background + rng.normal(0, 0.02, band.shape)
    return Spectra(values, AXIS, unit="cm-1", meta={"material": labels})


def run(args: list[str]) -> None:
    code = cli(args)
    if code != 0:
        raise SystemExit(f"spectrakit {args[0]} failed with exit code {code}")


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    import spectrakit as sk
    from spectrakit.evaluation import open_set_figures

    n_train, n_known, n_novel, epochs = (180, 45, 20, 15) if args.quick else (900, 300, 100, 60)
    rng = np.random.default_rng(0)
    write(make_spectra(list(rng.choice(list("abc"), n_train)), 1), args.out / "train.csv")
    test_labels = [*rng.choice(list("abc"), n_known), *["novel"] * n_novel]
    write(make_spectra(test_labels, 2), args.out / "test.csv")
    run(["finetune", "--data", str(args.out / "train.csv"), "--target", "material",
         "--task", "classification", "--model", "cnn1d_tiny", "--epochs", str(epochs),
         "--lr", "auto", "--schedule", "triangular2", "--batch-size", "16",
         "--ood", "dime", "--ood-tune", "--no-progress", "--loggers", "", "--threads", "2",
         "--out", str(args.out / "cnn")])  # fmt: skip
    run(["predict", "--model", str(args.out / "cnn"), "--data", str(args.out / "test.csv"),
         "--open-set", "--out", str(args.out / "predictions.csv")])  # fmt: skip
    table = pd.read_csv(args.out / "predictions.csv")
    tuning = json.loads((args.out / "cnn" / "ood.json").read_text())["tuning"]
    known = table["material"] != "novel"
    # closed-set accuracy: the CNN's own class for the known materials, before rejection
    closed = sk.load(args.out / "cnn").predict(sk.read(args.out / "test.csv"))["predicted"]
    f = open_set_figures(table["material"], table["predicted"], known=list("abc"))
    figures = {
        "accuracy": float(np.mean(closed[known] == table.loc[known, "material"])),
        "dime_rejection_unknown": float(table.loc[~known, "is_ood"].mean()),
        "dime_false_rejection_known": float(table.loc[known, "is_ood"].mean()),
        "TSNS": f["TSNS"],
        "TSPS": f["TSPS"],
        "TEFF": f["TEFF"],
        "k": tuning["k"],
        "alpha": tuning["alpha"],
    }
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"accuracy on known materials: {figures['accuracy']:.3f} (n = {int(known.sum())})")
    print(f"DIME (k = {tuning['k']}, alpha = {tuning['alpha']}, tuned on training spectra): "
          f"rejects {figures['dime_rejection_unknown']:.3f} of the unknown material, "
          f"{figures['dime_false_rejection_known']:.3f} of the known ones")  # fmt: skip
    print(f"open set: TSNS {f['TSNS']:.3f}  TSPS {f['TSPS']:.3f}  TEFF {f['TEFF']:.3f}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
