"""Read, inspect and preprocess spectra: formats, axis operations, quality summary, pipeline.

What it shows, on the built-in fermentation standards (21 ATR-MIR spectra, 428-1833 cm-1)
and on synthetic Raman spectra:

1. Writing and reading back every writable format (CSV, Parquet, HDF5, JCAMP-DX, NumPy
   .npz, MATLAB .mat); the round trip keeps values, axis unit and metadata.
2. ``Spectra`` operations: crop (axis units), resample onto a uniform grid, convert
   wavenumbers to micrometres, convert a Raman shift to absolute wavelength (nm) given the
   laser line, and combine spectra of two (synthetic) instruments with different grids onto
   their common range.
3. ``spectrakit.quality.summarize``: a JSON summary (axis, intensities, spikes, metadata).
4. The ``ftir-default`` preprocessing pipeline (fingerprint crop, here 950-1500 cm-1,
   rubberband baseline, vector normalisation), saved as YAML, with a before/after figure.

Run::

    python examples/01_read_inspect_preprocess.py --out example-output/01

Outputs (in ``--out``): ``fermentation.<ext>`` for each format, ``quality.json``,
``pipeline.yaml``, ``preprocessed.csv``, ``before_after.png``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import spectrakit as sk
from spectrakit.datasets import load_fermentation
from spectrakit.datasets.synthetic import make_multi_instrument, make_synthetic
from spectrakit.io import atomic_path
from spectrakit.preprocessing import get_pipeline
from spectrakit.quality import summarize

NAME = "01_read_inspect_preprocess"
LASER_NM = 785.0  # excitation line of the synthetic Raman spectra


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="smaller data (runs in seconds)")
    return p.parse_args()


def round_trips(spectra: sk.Spectra, out: Path) -> None:
    """Write every writable format and check what comes back."""
    for ext in ("csv", "parquet", "h5", "jdx", "npz", "mat"):
        path = sk.write(spectra, out / f"fermentation.{ext}")  # atomic: no half-written file
        back = sk.read(path)
        same = np.allclose(back.values, spectra.values, rtol=1e-5, atol=1e-3)
        print(
            f"  {path.name:22s} {path.stat().st_size / 1024:8.1f} KiB  "
            f"{back.n_spectra} x {back.n_points}  unit {back.axis.unit:5s}  "
            f"values equal: {same}  meta: {list(back.meta.columns)}"
        )


def axis_operations(spectra: sk.Spectra, quick: bool) -> None:
    fingerprint = spectra.crop(500, 1700)  # axis units (cm-1), both ends inclusive
    grid = np.arange(500.0, 1700.0 + 1e-9, 2.0)
    uniform = fingerprint.resample(grid)  # refuses to extrapolate unless fill= is given
    in_um = uniform.convert("um")  # absolute wavenumber -> wavelength, no laser needed
    print(f"  cropped:   {fingerprint.axis.describe()}")
    print(f"  resampled: {uniform.axis.describe()}")
    print(f"  in um:     {in_um.axis.describe()}")

    raman = make_synthetic(5, seed=0)  # Raman shift axis, 400-1800 cm-1
    in_nm = raman.convert("nm", laser_wavelength=LASER_NM)  # absolute scattered wavelength
    back = in_nm.convert("cm-1", kind="raman_shift", laser_wavelength=LASER_NM)
    print(f"  Raman shift {raman.axis.describe()} -> {in_nm.axis.describe()} "
          f"(laser {LASER_NM:g} nm) -> back {back.axis.describe()}")  # fmt: skip

    blocks = make_multi_instrument(10 if quick else 50, 2, seed=0)  # {name: Spectra}
    combined = sk.combine(list(blocks.values()))  # overlap of the ranges, coarsest spacing
    for name, block in blocks.items():
        print(f"  {name}: {block.axis.describe()}")
    counts = combined.meta["instrument"].value_counts().to_dict()
    print(f"  combined:  {combined.axis.describe()}, spectra per instrument {counts}")


def plot_before_after(before: sk.Spectra, after: sk.Spectra, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(8, 6), layout="constrained")
    for ax, spectra, title in ((axes[0], before, "raw"), (axes[1], after, "ftir-default")):
        ax.plot(spectra.axis.values, spectra.values.T, lw=0.7)
        ax.set_title(f"{title}: {spectra.n_spectra} spectra")
        ax.set_xlabel(f"{spectra.axis.kind} ({spectra.axis.unit})")
        ax.set_ylabel("Intensity")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    train = load_fermentation("train")
    if args.quick:
        train = train.select(np.arange(8))
    print(train)

    print("1. formats")
    round_trips(train, args.out)

    print("2. axis operations")
    axis_operations(train, args.quick)

    print("3. quality summary")
    summary = summarize(train)
    with atomic_path(args.out / "quality.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(
        f"  {summary['n_spectra']} spectra, axis {summary['axis']}, "
        f"glucose {summary['meta']['glucose']['min']:g}-{summary['meta']['glucose']['max']:g}"
    )

    print("4. preprocessing")
    # the preset crops 600-1800 cm-1; these spectra are noisy below 900 cm-1 (ATR cell), so
    # keep the glucose fingerprint, 950-1500 cm-1; then rubberband baseline, vector norm
    pipeline = get_pipeline("ftir-default", crop=(950.0, 1500.0))
    clean = pipeline.fit_transform(train)  # stateful steps learn from these spectra only
    pipeline.save(args.out / "pipeline.yaml")
    sk.write(clean, args.out / "preprocessed.csv")
    plot_before_after(train, clean, args.out / "before_after.png")
    print(f"  {[name for name, _ in pipeline.steps]} -> {clean.axis.describe()}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
