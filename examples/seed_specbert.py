"""SpecBERT on a Dig4Bio-style challenge folder, entirely through the command line.

Data: synthetic Raman mixtures (glucose, acetate, sulfate) measured on three simulated
instruments with their own grids, written as the challenge lays them out: one CSV per
instrument (``anton_532.csv``, ``kaiser.csv``, ``metrohm.csv``: spectra, ``sample_id``,
``fold_idx``) and the concentrations in a separate targets table (``96_samples.csv``).

What it shows, as the SpecBERT README does it:

1. ``spectrakit info DIR``: one summary per instrument, the targets table joined.
2. ``spectrakit pretrain --data DIR``: masked spectral modeling on every instrument, brought
   onto the grid they all cover (the grid is logged and recorded in the bundle card).
3. ``spectrakit finetune --data DIR --instruments anton_532``: fine-tuning on one instrument
   chosen by name, scored on held-out samples (``fold`` 0) of the same instrument.

It prints the figure the seed reports for pretraining: the masked-modeling validation loss
of the model divided by that of the mean baseline (each masked patch predicted by the
spectrum's mean; below 1 means the encoder learned spectral structure).

Run::

    python examples/seed_specbert.py --out example-output/seed_specbert

Outputs: ``challenge/`` (the folder), ``pretrained/`` and ``finetuned/`` (bundles),
``results.json`` (MSM loss ratio, held-out RMSE).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit.cli import main as cli
from spectrakit.datasets import MixtureSettings
from spectrakit.datasets.synthetic import make_multi_instrument
from spectrakit.evaluation import regression_metrics
from spectrakit.io import atomic_path, read_blocks

NAME = "seed_specbert"
INSTRUMENTS = ("anton_532", "kaiser", "metrohm")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    return p.parse_args()


def write_challenge(folder: Path, n_samples: int) -> None:
    """The challenge layout: spectra per instrument, concentrations in a targets table."""
    blocks = make_multi_instrument(
        n_samples, 3, mixture=MixtureSettings(library="raman", n_components=3), seed=0
    )
    folder.mkdir(parents=True, exist_ok=True)
    for name, block in zip(INSTRUMENTS, blocks.values(), strict=True):
        spectral = block.to_pandas().drop(columns=list(block.meta.columns))
        table = pd.concat([block.meta[["sample_id"]], spectral], axis=1)
        table["fold_idx"] = table["sample_id"] % 5
        with atomic_path(folder / f"{name}.csv") as tmp:
            table.to_csv(tmp, index=False)
    meta = next(iter(blocks.values())).meta
    targets = meta[["sample_id", "c_glucose", "c_acetate", "c_sulfate"]].rename(
        columns={"c_glucose": "glucose", "c_acetate": "Na_acetate", "c_sulfate": "Mg_SO4"}
    )
    with atomic_path(folder / "96_samples.csv") as tmp:
        targets.to_csv(tmp, index=False)


def run(args: list[str]) -> None:
    code = cli(args)
    if code != 0:
        raise SystemExit(f"spectrakit {args[0]} failed with exit code {code}")


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    n_samples, pre_epochs, ft_epochs = (60, 3, 6) if args.quick else (600, 40, 100)
    folder = args.out / "challenge"
    write_challenge(folder, n_samples)
    fast = ["--no-progress", "--threads", "2"]
    run(["info", str(folder)])
    pretrained, finetuned = args.out / "pretrained", args.out / "finetuned"
    run(
        [
            "pretrain",
            "--data",
            str(folder),
            "--model",
            "specbert_tiny",
            "--out",
            str(pretrained),
            "--epochs",
            str(pre_epochs),
            "--batch-size",
            "32",
            "--mask-ratio",
            "0.3",
            *fast,
        ]
    )
    held_out = "fold"  # fold 0 is scored, never trained on
    train = read_blocks(folder, instruments=["anton_532"])["anton_532"]
    keep = train.select(np.flatnonzero(train.meta[held_out] != 0))
    test = train.select(np.flatnonzero(train.meta[held_out] == 0))
    keep.to_pandas().to_csv(args.out / "anton_532_train.csv", index=False)
    run(
        [
            "finetune",
            "--data",
            str(args.out / "anton_532_train.csv"),
            "--unit",
            "cm-1",
            "--kind",
            "raman_shift",
            "--target",
            "glucose",
            "--init",
            str(pretrained),
            "--out",
            str(finetuned),
            "--lr",
            "5e-4",
            "--epochs",
            str(ft_epochs),
            "--batch-size",
            "8",
            *fast,
        ]
    )
    run(
        [
            "finetune",
            "--data",
            str(folder),
            "--instruments",
            "anton_532",
            "--target",
            "glucose",
            "--init",
            str(pretrained),
            "--out",
            str(args.out / "finetuned_folder"),
            "--epochs",
            "1",
            *fast,
        ]
    )
    import spectrakit as sk

    metrics = json.loads((pretrained / "config.json").read_text())["metrics"]
    pred = sk.load(finetuned).predict(test)["glucose"].to_numpy()
    rmse = regression_metrics(test.targets("glucose"), pred)["rmse"]
    results = {
        "msm_val_loss": metrics["val_masked_mse"],
        "mean_baseline_val_loss": metrics["val_trivial_mse"],
        "msm_val_loss_ratio": metrics["val_mse_ratio"],
        "held_out_rmse_glucose": rmse,
        "held_out_std_glucose": float(np.std(test.targets("glucose"))),
    }
    print(f"MSM val loss ratio (masked model / mean baseline): {results['msm_val_loss_ratio']:.3f}")
    print(
        f"held-out glucose RMSE {rmse:.4g} (spread of the targets "
        f"{results['held_out_std_glucose']:.4g})"
    )
    with atomic_path(args.out / "results.json") as tmp:
        tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
