"""SpectraFM's promise: one wavelength-aware model that reads any instrument's grid.

Data: synthetic APOGEE-like stellar spectra (15150-16940 angstrom, continuum-normalized):
absorption lines whose depths grow with the iron abundance ``fe_h``, on the survey's grid
(291 points) for training; the held-out stars are also "observed" on another grid (592
points, another resolution) and on the first half of the range only.

What it shows:

1. An honest choice of configuration. A few ``spectrafm_tiny`` configurations are trained
   on a split of the training stars and scored on the other training stars, read on the
   training grid, on a 2x finer resampling of it and on each half of the range (views built
   from the training spectra alone). The best mean validation R² is the choice. The
   candidates: patches of 8 input points on the training grid only (the baseline);
   ``patch_step`` (patches of a fixed physical width, each token at its physical
   wavelength, so any grid gives the same tokens and a sub-range a subset of them) with
   ``grid_augment`` 2 (random re-gridding and sub-ranges in training) and the CLS token;
   the same with more sub-ranges in training (``p_subrange`` 0.8 instead of 0.5); and that
   with mean pooling instead of the CLS token, so the prediction is the average of
   per-token estimates over whichever tokens the input has. Every candidate trains for the
   same 40 epochs on 640 of the 800 training stars and is validated on the other 160
   (``--quick``: a smoke run, 3 epochs on 80 stars).
2. The held-out targets stay sealed (:class:`~spectrakit.evaluation.protocol.SealedTargets`)
   until the choice is frozen; then every candidate's held-out R² is scored once, on the
   training grid, another grid and the first half of the range (200 held-out stars).
3. ``spectrakit.export``: the ONNX graph takes the axis as an input; the ONNX runtime gives
   the chosen model's PyTorch predictions on every grid (max difference printed).
4. Input beyond the trained range: a warning with the covered fraction and a ``coverage``
   column in the predictions.

Run::

    python examples/seed_spectrafm.py --seeds 3 --out example-output/seed_spectrafm

Outputs: ``model/`` (the chosen bundle of seed 0, with ``model.onnx``),
``candidates/seed<k>/<name>/`` (every candidate's bundle), ``selection.csv`` (validation R²
per seed, candidate and view, and the choice), ``held_out.csv`` (held-out R² of every
candidate, scored after the choice), ``results.csv`` (the chosen model's held-out R² per
seed and grid, ONNX difference), ``predictions_beyond_range.csv``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import spectrakit as sk
from spectrakit.evaluation import regression_metrics
from spectrakit.evaluation.protocol import SealedTargets, strip_targets
from spectrakit.export import load_onnx
from spectrakit.export.onnx import export_onnx
from spectrakit.io import atomic_path
from spectrakit.training import fit_supervised

NAME = "seed_spectrafm"
LO, HI = 15150.0, 16940.0
MID = 0.5 * (LO + HI)
LINES = np.linspace(15300.0, 16800.0, 24)  # line centres (angstrom)
STEP = (HI - LO) / 290  # the training grid's spacing
TRAIN_GRID = np.linspace(LO, HI, 291)
GRIDS = {
    "training grid (291 points)": TRAIN_GRID,
    "another grid (592 points)": np.linspace(15200.0, 16900.0, 592),
    "first half of the range": np.linspace(LO, 16040.0, 160),
}
PHYSICAL = {"patch_step": STEP, "grid_augment": 2.0}
CANDIDATES = {
    "points": {"grid_augment": 1.0},
    "physical": {**PHYSICAL, "p_subrange": 0.5},
    "physical_subrange": {**PHYSICAL, "p_subrange": 0.8},
    "physical_mean_pool": {**PHYSICAL, "p_subrange": 0.8, "use_cls_token": False},
}
BASELINE = "points"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    p.add_argument("--epochs", type=int, default=None, help="epochs (3 quick, 40)")
    p.add_argument("--seeds", type=int, default=1, help="training seeds (R² mean ± SD)")
    p.add_argument(
        "--candidates",
        default=",".join(CANDIDATES),
        help="configurations to choose from (comma-separated names of CANDIDATES)",
    )
    args = p.parse_args(argv)
    args.candidates = [c.strip() for c in args.candidates.split(",") if c.strip()]
    unknown = sorted(set(args.candidates) - set(CANDIDATES)) or ([] if args.candidates else [""])
    if unknown:
        p.error(f"unknown candidate {unknown[0]!r}: expected names from {', '.join(CANDIDATES)}")
    return args


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


def training_stars(n_train: int, seed: int) -> tuple[sk.Spectra, sk.Spectra]:
    """The training stars on the training grid, split 80/20 into fitting and validation."""
    fe_train = np.random.default_rng(0).uniform(-1, 1, n_train)
    train = observe(fe_train, TRAIN_GRID, 1)
    order = np.random.default_rng(100 + seed).permutation(n_train)
    n_val = n_train // 5
    return train.select(np.sort(order[n_val:])), train.select(np.sort(order[:n_val]))


def held_out_stars(n_train: int, n_test: int) -> tuple[dict[str, sk.Spectra], SealedTargets]:
    """The held-out stars on every test grid, without targets, and their sealed targets."""
    fe_test = np.random.default_rng(0).uniform(-1, 1, n_train + n_test)[n_train:]
    views = {name: strip_targets(observe(fe_test, g, 2), ["fe_h"]) for name, g in GRIDS.items()}
    return views, SealedTargets(fe_test, name="held-out [Fe/H]")


def validation_views(val: sk.Spectra) -> dict[str, sk.Spectra]:
    """Validation stars on the training grid, a 2x finer resampling and each half range."""
    return {
        "training grid": val,
        "2x finer grid": val.resample(np.linspace(LO, HI, 581)),
        "first half": val.crop(LO, MID),
        "second half": val.crop(MID, HI),
    }


def fit_candidate(name: str, fit: sk.Spectra, val: sk.Spectra, seed: int, args) -> object:
    """Train one candidate configuration on the fitting stars; returns its Predictor."""
    return fit_supervised(
        fit,
        "fe_h",
        val=val,
        model="spectrafm_tiny",
        model_kwargs=CANDIDATES[name],
        max_epochs=args.epochs,
        batch_size=16,
        lr=2e-3,
        seed=seed,
        out=args.out / "candidates" / f"seed{seed}" / name,
        progress=False,
        loggers=("csv",),
        patience=None,
    )


def validation_r2(predictor, val: sk.Spectra) -> dict[str, float]:
    """R² of one candidate on every validation view (training stars only)."""
    y = val.meta["fe_h"].to_numpy()
    return {
        view: regression_metrics(y, predictor.predict(spectra)["fe_h"].to_numpy())["r2"]
        for view, spectra in validation_views(val).items()
    }


def choose(args, seed: int, n_train: int) -> tuple[str, dict, list[dict]]:
    """Train every candidate and choose by mean validation R²; reads no held-out star."""
    fit, val = training_stars(n_train, seed)
    predictors, rows = {}, []
    for name in args.candidates:
        predictors[name] = fit_candidate(name, fit, val, seed, args)
        for view, r2 in validation_r2(predictors[name], val).items():
            rows.append({"seed": seed, "candidate": name, "view": view, "r2": r2})
    table = pd.DataFrame(rows)
    choice = str(table.groupby("candidate")["r2"].mean().idxmax())
    for row in rows:
        row["chosen"] = row["candidate"] == choice
    return choice, predictors, rows


def score_held_out(
    predictors: dict, choice: str, views: dict[str, sk.Spectra], sealed: SealedTargets, seed: int
) -> list[dict]:
    """Freeze the choice, then score every candidate once on every held-out grid."""
    sealed.freeze({"seed": seed, "configuration": choice, **CANDIDATES[choice]})
    preds = {
        (name, grid): predictor.predict(spectra)["fe_h"].to_numpy()
        for name, predictor in predictors.items()
        for grid, spectra in views.items()
    }
    scores = sealed.score(preds, lambda y, p: regression_metrics(y, p)["r2"])
    return [
        {"seed": seed, "candidate": name, "grid": grid, "r2": r2, "chosen": name == choice}
        for (name, grid), r2 in scores.items()
    ]


def onnx_check(predictor, bundle: Path, views: dict[str, sk.Spectra]) -> dict[str, float]:
    """The ONNX runtime's largest difference from PyTorch on every held-out grid."""
    export_onnx(bundle, batch_sizes=(1, 4))
    runtime = load_onnx(bundle)
    return {
        grid: float(np.abs(runtime.predict(s)["fe_h"] - predictor.predict(s)["fe_h"]).max())
        for grid, s in views.items()
    }


def run_seed(args, seed: int, n_train: int, n_test: int) -> tuple[list, list, list, object]:
    """Choose, freeze, score and export for one training seed."""
    choice, predictors, selection = choose(args, seed, n_train)
    views, sealed = held_out_stars(n_train, n_test)
    held_out = score_held_out(predictors, choice, views, sealed, seed)
    bundle = args.out / "candidates" / f"seed{seed}" / choice
    diffs = onnx_check(predictors[choice], bundle, views)
    results = [
        {"seed": seed, "grid": r["grid"], "r2": r["r2"], "configuration": choice,
         "onnx_max_abs_diff": diffs[r["grid"]]}
        for r in held_out if r["chosen"]
    ]  # fmt: skip
    for r in results:
        print(f"seed {seed}  {choice}  {r['grid']:<28} R2 {r['r2']:.3f}   "
              f"ONNX vs PyTorch max |diff| {r['onnx_max_abs_diff']:.2g}")  # fmt: skip
    return selection, held_out, results, predictors[choice]


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def _keep_bundle(bundle: Path, dest: Path) -> None:
    """Copy a bundle to ``dest``, replacing it in one rename."""
    tmp = dest.with_name(f"{dest.name}-partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(bundle, tmp)
    if dest.exists():
        shutil.rmtree(dest)
    os.replace(tmp, dest)


def summarize(held_out: pd.DataFrame, selection: pd.DataFrame, seeds: int) -> None:
    """Print the choices and the held-out R² (mean ± SD over seeds) of each candidate."""
    chosen = selection[selection["chosen"]].groupby("seed")["candidate"].first()
    print(f"chosen by validation R² on training stars: {', '.join(chosen)}")
    print(f"held-out R², mean ± SD over {seeds} seed(s):")
    stats = held_out.groupby(["candidate", "grid"], sort=False)["r2"].agg(["mean", "std"])
    for (name, grid), row in stats.iterrows():
        print(f"  {name:<20} {grid:<28} {row['mean']:.3f} ± {row['std']:.3f}")
    picked = held_out[held_out["chosen"]].groupby("grid", sort=False)["r2"].agg(["mean", "std"])
    for grid, row in picked.iterrows():
        print(f"  {'chosen':<20} {grid:<28} {row['mean']:.3f} ± {row['std']:.3f}")


def beyond_range(predictor, out: Path) -> None:
    """Predict input that reaches beyond the trained range: warning and coverage column."""
    fe = np.random.default_rng(3).uniform(-1, 1, 40)
    beyond = strip_targets(observe(fe, np.linspace(14250.0, 16950.0, 320), 3), ["fe_h"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = predictor.predict(beyond)
    for message in dict.fromkeys(str(w.message) for w in caught):  # once each
        if "trained range" in message:
            print(f"warning: {message}")
    print(f"coverage of the beyond-range input: {table['coverage'].iloc[0]:.2f}")
    _write_csv(table, out / "predictions_beyond_range.csv")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    n_train, n_test, epochs = (80, 20, 3) if args.quick else (800, 200, 40)
    args.epochs = args.epochs or epochs
    tables: tuple[list, list, list] = ([], [], [])
    for seed in range(args.seeds):
        *rows, predictor = run_seed(args, seed, n_train, n_test)
        for table, new in zip(tables, rows, strict=True):
            table.extend(new)
        if seed == 0:
            first = predictor
            choice = rows[2][0]["configuration"]
            _keep_bundle(args.out / "candidates" / "seed0" / choice, args.out / "model")
    selection, held_out, results = (pd.DataFrame(t) for t in tables)
    summarize(held_out, selection, args.seeds)
    _write_csv(selection, args.out / "selection.csv")
    _write_csv(held_out, args.out / "held_out.csv")
    _write_csv(results, args.out / "results.csv")
    beyond_range(first, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
