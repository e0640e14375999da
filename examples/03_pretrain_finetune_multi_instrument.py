"""Masked pretraining on unlabeled spectra of three instruments, fine-tuning on few labels.

Data: synthetic Raman mixtures (glucose, acetate, sulfate) measured on three simulated
instruments, each with its own grid, calibration shift, resolution and response
(``make_multi_instrument``). The task is the glucose concentration.

What it shows:

1. ``spectrakit.training.pretrain``: a ``specbert_tiny`` encoder learns, by masked spectral
   modeling, from the unlabeled spectra of *all* instruments (brought onto their common
   grid). Those spectra are baseline-corrected first with the same per-spectrum
   ``raman-default`` steps the fine-tuned model applies.
2. ``fit_supervised(init=pretrained)``: fine-tuning on a few labeled spectra of one
   instrument only, against the same architecture trained from scratch.
3. Both are scored on held-out samples of every instrument (samples never seen in either
   stage), per instrument.

Measured at full size (24 labels; glucose concentration uniform in 0-1): RMSE fine-tuned
0.14 / 0.18 / 0.36 on instruments 0 / 1 / 2, from scratch 0.28 / 0.29 / 0.28 (no better
than predicting the mean). Pretraining helps on the instruments close to the labeled one;
instrument 2 (coarser grid, wider range) is not helped: transfer is not free.

Run::

    python examples/03_pretrain_finetune_multi_instrument.py --out example-output/03

Outputs: ``pretrained/`` (bundle), ``finetuned/`` and ``scratch/`` (bundles),
``results.csv`` (RMSE per instrument and model), ``comparison.png``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit import Spectra
from spectrakit.datasets import MeasurementSettings, MixtureSettings
from spectrakit.datasets.synthetic import make_multi_instrument
from spectrakit.evaluation import regression_metrics
from spectrakit.io import atomic_path
from spectrakit.preprocessing import get_pipeline
from spectrakit.training import fit_supervised, pretrain

NAME = "03_pretrain_finetune_multi_instrument"
TARGET = "c_glucose"
MODEL = "specbert_tiny"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    return p.parse_args()


def split(blocks: dict[str, Spectra], n_unlabeled: int) -> tuple[dict, dict]:
    """Samples [0, n_unlabeled) for pretraining/fine-tuning, the rest for testing."""
    first, rest = {}, {}
    for name, block in blocks.items():
        ids = block.meta["sample_id"].to_numpy()
        first[name] = block.select(np.flatnonzero(ids < n_unlabeled))
        rest[name] = block.select(np.flatnonzero(ids >= n_unlabeled))
    return first, rest


def plot(results: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = results.pivot(index="instrument", columns="model", values="rmse")
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    table.plot.bar(ax=ax, rot=0)
    ax.set_ylabel(f"RMSE ({TARGET})")
    ax.set_title("Held-out samples, per instrument")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    n_samples, n_unlabeled, n_labels = (60, 40, 12) if args.quick else (600, 400, 24)
    epochs = {"pretrain": 1, "finetune": 4} if args.quick else {"pretrain": 40, "finetune": 150}
    quiet = {"progress": False, "loggers": ("csv",)}

    blocks = make_multi_instrument(
        n_samples,
        3,
        mixture=MixtureSettings(library="raman", n_components=3),
        measurement=MeasurementSettings(read_noise=10.0),
        seed=0,
    )
    unlabeled, test = split(blocks, n_unlabeled)
    for name, block in blocks.items():
        print(f"{name}: {block.axis.describe()}")

    # 1. pretrain on every instrument's unlabeled spectra (baseline removed per spectrum)
    clean = [get_pipeline("raman-default").fit_transform(b) for b in unlabeled.values()]
    pretrained = pretrain(
        clean,
        model=MODEL,
        mask_ratio=0.3,
        max_epochs=epochs["pretrain"],
        batch_size=32,
        out=args.out / "pretrained",
        **quiet,
    )
    print(f"pretrained bundle: {pretrained}")

    # 2. few labels, one instrument: fine-tune the pretrained encoder vs train from scratch
    source = next(iter(unlabeled))
    labeled = unlabeled[source].select(np.arange(n_labels))
    common = {
        "pipeline": "raman-default",
        "max_epochs": epochs["finetune"],
        "batch_size": 8,
        "seed": 0,
        "patience": None,
        **quiet,
    }
    models = {
        "finetuned": fit_supervised(
            labeled, TARGET, init=pretrained, lr=5e-4, out=args.out / "finetuned", **common
        ),
        "scratch": fit_supervised(
            labeled, TARGET, model=MODEL, lr=1e-3, out=args.out / "scratch", **common
        ),
    }

    # 3. held-out samples of all instruments (each predictor resamples onto its own axis)
    rows = []
    for model_name, predictor in models.items():
        for inst, spectra in test.items():
            pred = predictor.predict(spectra)[TARGET].to_numpy()
            m = regression_metrics(spectra.targets(TARGET), pred)
            rows.append({"model": model_name, "instrument": inst, "rmse": m["rmse"], "r2": m["r2"]})
    results = pd.DataFrame(rows)
    print(results.pivot(index="instrument", columns="model", values="rmse").round(4))
    with atomic_path(args.out / "results.csv") as tmp:
        results.to_csv(tmp, index=False)
    plot(results, args.out / "comparison.png")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
