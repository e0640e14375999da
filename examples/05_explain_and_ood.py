"""Explain a spectral classifier on the spectrum, and let it say "I don't know".

Data: synthetic Raman mixtures where each class is dominated by one component (glucose,
acetate, sulfate); a fourth class, dominated by ethanol, is never shown to the model and
plays the unfamiliar sample.

What it shows:

1. ``fit_supervised(task="classification")`` with the ``raman-default`` pipeline (min-max
   normalised), trained on three classes.
2. ``spectrakit.explain.explain`` with integrated gradients and Grad-CAM; the mean
   attribution plotted along the axis with its top bands annotated
   (``plot_attribution``), and the top bands as a table.
3. ``spectrakit.ood.fit_ood``: a Mahalanobis detector on the model's embeddings, its
   threshold calibrated on held-out in-distribution spectra at a 5 % false-rejection rate,
   stored in the bundle (``save_detector``); the reloaded bundle then adds ``ood_score``
   and ``is_ood`` to every prediction.

Measured at full size: accuracy 1.00 on fresh spectra; the top integrated-gradient bands
(1129, 1061, 848, 523, 422 cm-1) are glucose bands of the generator; 7.6 % of fresh
known-class spectra and 100 % of the unseen class are flagged.

Run::

    python examples/05_explain_and_ood.py --out example-output/05

Outputs: ``classifier/`` (bundle with ``ood.json``), ``ig.png``, ``gradcam.png``,
``top_bands.csv``, ``predictions.csv``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

import spectrakit as sk
from spectrakit.datasets import RAMAN_COMPONENTS, MixtureSettings
from spectrakit.datasets.synthetic import make_synthetic
from spectrakit.explain import explain, plot_attribution, save_figure
from spectrakit.io import atomic_path
from spectrakit.ood import fit_ood, save_detector
from spectrakit.preprocessing import get_pipeline
from spectrakit.training import fit_supervised

NAME = "05_explain_and_ood"
KNOWN = ["glucose", "acetate", "sulfate"]
UNSEEN = "ethanol"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    n = 320 if args.quick else 2000
    data = make_synthetic(
        n, task="classification", mixture=MixtureSettings(library="raman", n_components=4), seed=0
    )
    known = data.select(np.flatnonzero(data.meta["label"].isin(KNOWN).to_numpy()))
    unseen = data.where(label=UNSEEN)
    order = np.random.default_rng(0).permutation(known.n_spectra)
    n_train, n_calib = int(0.6 * len(order)), int(0.2 * len(order))
    train = known.select(order[:n_train])
    calib = known.select(order[n_train : n_train + n_calib])
    fresh = known.select(order[n_train + n_calib :])
    print(f"train {train.n_spectra}, calibration {calib.n_spectra}, "
          f"fresh {fresh.n_spectra}, unseen class {unseen.n_spectra}")  # fmt: skip

    # 1. classifier
    bundle = args.out / "classifier"
    predictor = fit_supervised(
        train,
        "label",
        task="classification",
        model="cnn1d_tiny",
        pipeline=get_pipeline("raman-default", normalize=True),
        max_epochs=10 if args.quick else 60,
        batch_size=32,
        lr=1e-2,
        out=bundle,
        ood="none",  # step 3 fits and calibrates its own detector
        progress=False,
        loggers=("csv",),
    )
    pred = predictor.predict(fresh)
    accuracy = float((pred["predicted"].to_numpy() == fresh.meta["label"].to_numpy()).mean())
    print(f"accuracy on fresh spectra of the known classes: {accuracy:.3f}")

    # 2. explanations: where on the axis does the model look for "glucose"?
    glucose = fresh.where(label="glucose")
    known_bands = [p.position for p in RAMAN_COMPONENTS["glucose"].peaks]
    print(f"glucose bands of the generator: {known_bands} cm-1")
    bands = []
    for method in ("ig", "gradcam"):
        attr = explain(predictor, glucose, method=method, target="glucose")
        save_figure(plot_attribution(attr, index=None, top_k=5), args.out / f"{method}.png")
        top = attr.top_bands(5)
        bands.append(top.assign(method=method))
        print(f"{method}: top bands at {np.round(top['position'].to_numpy(), 1).tolist()} cm-1")
    with atomic_path(args.out / "top_bands.csv") as tmp:
        pd.concat(bands).to_csv(tmp, index=False)

    # 3. OOD detector, calibrated on held-out known-class spectra, stored in the bundle
    detector = fit_ood(predictor, train, method="mahalanobis", heldout=calib, false_rejection=0.05)
    save_detector(detector, bundle)
    predictor = sk.load(bundle)  # now predictions carry ood_score / is_ood
    new = sk.Spectra.concat([fresh, unseen])
    table = pd.concat([new.meta[["label"]], predictor.predict(new)], axis=1)
    flagged = table.groupby(table["label"] == UNSEEN)["is_ood"].mean()
    print(f"flagged as unfamiliar: known classes {flagged[False]:.1%}, "
          f"unseen class '{UNSEEN}' {flagged[True]:.1%}")  # fmt: skip
    with atomic_path(args.out / "predictions.csv") as tmp:
        table.to_csv(tmp, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
