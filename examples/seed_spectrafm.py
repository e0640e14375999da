"""SpectraFM's promise: one wavelength-aware model that reads any instrument's grid.

Data: synthetic APOGEE-like stellar spectra (15150-16940 angstrom, continuum-normalized):
absorption lines whose depths grow with the iron abundance ``fe_h``, on the survey's grid
(291 points) for training; the test stars are also "observed" on another grid (592
points, another resolution) and on the first half of the range only.

What it shows:

1. ``fit_supervised(model="spectrafm_tiny")`` with ``patch_step``: every input is read on
   patches of a fixed physical width (points at multiples of the step, in angstrom) and each
   token carries its physical wavelength, so a model trained on one grid gives the same
   tokens on any other grid and a subset of them on a sub-range; ``grid_augment`` trains on
   random sub-ranges as well.
2. The same held-out stars on the training grid, on another grid and on half the range:
   R² of each, as the seed compares its models across wavelength ranges.
3. ``spectrakit.export``: the ONNX graph takes the axis as an input; the ONNX runtime gives
   the PyTorch predictions on every grid (max difference printed).
4. Input beyond the trained range: a warning with the covered fraction and a ``coverage``
   column in the predictions.

Run::

    python examples/seed_spectrafm.py --out example-output/seed_spectrafm

Outputs: ``model/`` (bundle with ``model.onnx``; ``model_seed<k>/`` for further seeds),
``results.csv`` (R² per seed and grid, ONNX difference), ``predictions_beyond_range.csv``.
"""

from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import spectrakit as sk
from spectrakit.evaluation import regression_metrics
from spectrakit.export import load_onnx
from spectrakit.export.onnx import export_onnx
from spectrakit.io import atomic_path
from spectrakit.training import fit_supervised

NAME = "seed_spectrafm"
LO, HI = 15150.0, 16940.0
LINES = np.linspace(15300.0, 16800.0, 24)  # line centres (angstrom)


STEP = (HI - LO) / 290  # the training grid's spacing


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    p.add_argument("--epochs", type=int, default=None, help="epochs (15 quick, 120)")
    p.add_argument("--seeds", type=int, default=1, help="training seeds (R² mean ± SD)")
    p.add_argument(
        "--grid-augment",
        type=float,
        default=2.0,
        help="random re-gridding factor in training (1 = off, the single-grid baseline)",
    )
    p.add_argument(
        "--p-subrange",
        type=float,
        default=0.5,
        help="share of re-gridded training batches cut to a random sub-range",
    )
    p.add_argument(
        "--patch-step",
        type=float,
        default=STEP,
        help="point spacing (angstrom) of fixed-width physical patches; 0 = patches of 8 "
        "input points",
    )
    return p.parse_args()


def observe(fe_h: np.ndarray, grid: np.ndarray, seed: int) -> sk.Spectra:
    """Continuum 1 minus Gaussian lines of depth 0.1-0.6 set by [Fe/H], plus noise."""
    rng = np.random.default_rng(seed)
    depth = 0.35 + 0.25 * fe_h[:, None] * np.linspace(0.6, 1.0, LINES.size)[None]
    profile = np.exp(-0.5 * ((grid[None, :, None] - LINES[None, None]) / 6.0) ** 2)
    flux = 1.0 - np.einsum(
        "nl,npl->np", depth, np.broadcast_to(profile, (len(fe_h), *profile.shape[1:]))
    )
    flux += rng.normal(0, 0.01, flux.shape)
    return sk.Spectra(flux, grid, unit="angstrom", meta={"fe_h": fe_h})


GRIDS = {
    "training grid (291 points)": np.linspace(LO, HI, 291),
    "another grid (592 points)": np.linspace(15200.0, 16900.0, 592),
    "first half of the range": np.linspace(LO, 16040.0, 160),
}


def _bundle_name(seed: int) -> str:
    return "model" if seed == 0 else f"model_seed{seed}"


def train_one(args: argparse.Namespace, seed: int, n_train: int, epochs: int):
    """Fine-tune spectrafm_tiny on the training grid with one seed; returns its Predictor."""
    fe_train = np.random.default_rng(0).uniform(-1, 1, n_train)
    train = observe(fe_train, GRIDS["training grid (291 points)"], 1)
    return fit_supervised(
        train,
        "fe_h",
        model="spectrafm_tiny",
        model_kwargs={
            "grid_augment": args.grid_augment,
            "patch_step": args.patch_step or None,
            "p_subrange": args.p_subrange,
        },
        max_epochs=epochs,
        batch_size=16,
        lr=2e-3,
        seed=seed,
        out=args.out / _bundle_name(seed),
        progress=False,
        loggers=("csv",),
        patience=None,
    )


def score_grids(predictor, bundle: Path, fe_test: np.ndarray, seed: int) -> list[dict]:
    """R² on every test grid, and the ONNX runtime's largest difference from PyTorch."""
    export_onnx(bundle, batch_sizes=(1, 4))
    runtime = load_onnx(bundle)
    rows = []
    for name, grid in GRIDS.items():
        test = observe(fe_test, grid, 2)
        pred = predictor.predict(test)["fe_h"].to_numpy()
        onnx = runtime.predict(test)["fe_h"].to_numpy()
        r2 = regression_metrics(fe_test, pred)["r2"]
        diff = float(np.abs(onnx - pred).max())
        rows.append({"seed": seed, "grid": name, "r2": r2, "onnx_max_abs_diff": diff})
        print(f"seed {seed}  {name:<28} R2 {r2:.3f}   ONNX vs PyTorch max |diff| {diff:.2g}")
    return rows


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    n_train, n_test, epochs = (160, 40, 15) if args.quick else (2000, 400, 120)
    epochs = args.epochs or epochs
    fe_test = np.random.default_rng(0).uniform(-1, 1, n_train + n_test)[n_train:]
    rows = []
    for seed in range(args.seeds):
        predictor = train_one(args, seed, n_train, epochs)
        rows += score_grids(predictor, args.out / _bundle_name(seed), fe_test, seed)
    results = pd.DataFrame(rows)
    summary = results.groupby("grid", sort=False)["r2"].agg(["mean", "std"])
    print(
        f"grid_augment {args.grid_augment}, patch_step {args.patch_step or None}, "
        f"{args.seeds} seed(s): R2 mean ± SD"
    )
    for name, row in summary.iterrows():
        print(f"  {name:<28} {row['mean']:.3f} ± {row['std']:.3f}")
    with atomic_path(args.out / "results.csv") as tmp:
        results.to_csv(tmp, index=False)
    beyond = observe(fe_test, np.linspace(14250.0, 16950.0, 320), 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = predictor.predict(beyond)
    for w in caught:
        if "trained range" in str(w.message):
            print(f"warning: {w.message}")
    print(f"coverage of the beyond-range input: {table['coverage'].iloc[0]:.2f}")
    with atomic_path(args.out / "predictions_beyond_range.csv") as tmp:
        table.to_csv(tmp, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
