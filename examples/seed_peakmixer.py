"""PeakMixer's workflow: a peak decides the class; the interpretable path shows which.

Data: the deciding-peak set (``spectrakit.datasets.deciding_peak``): synthetic Raman-like
spectra of two classes. Both share eight broad bands of random height, an offset, a slope
and noise; class ``present`` also has one narrow band at 1000 cm-1, class ``absent`` has
none. That one band decides the class.

What it shows:

1. ``spectrakit finetune --model peakmixer_tiny``: ResPeak + MLP-Mixer with the learned
   class-channel interpretable path (IP). Its tempered softmax makes each class
   concentrate on a few channels (printed: the weight range against the uniform 1/K); the
   temperature is raced on the training split by successive halving on held-out loss
   (printed, and recorded in the bundle under ``training.recipe.ip_temperature``), and
   the class-gated output routes every class logit, backbone head included, through that
   class's channels.
2. Grad-CAM of the whole model output through the class-specific channels, all channels
   and the complementary ones (``spectrakit.explain.compare_channel_sets``), with the
   seed's table: infidelity and max-sensitivity (Captum) per channel set, plus the share of
   the attribution on the deciding band (higher = better localised).
3. The same for the seed's bacteria extractor, CNN-Peak (``cnnpeak_tiny``).

Run::

    python examples/seed_peakmixer.py --out example-output/seed_peakmixer

Outputs: ``peakmixer/`` and ``cnnpeak/`` (bundles), ``channel_sets.csv``,
``channel_sets.png``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit import Spectra, write
from spectrakit.cli import main as cli
from spectrakit.datasets.deciding_peak import AXIS, BAND, make_deciding_peak

NAME = "seed_peakmixer"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="small data, few epochs")
    return p.parse_args()


def run(args: list[str]) -> None:
    code = cli(args)
    if code != 0:
        raise SystemExit(f"spectrakit {args[0]} failed with exit code {code}")


def train(out: Path, model: str, epochs: int) -> Path:
    run(["finetune", "--data", str(out / "train.csv"), "--target", "label",
         "--task", "classification", "--model", model, "--epochs", str(epochs),
         "--lr", "3e-3", "--batch-size", "32", "--no-progress", "--loggers", "",
         "--threads", "2", "--ood", "none", "--out", str(out / model.split("_")[0])])  # fmt: skip
    return out / model.split("_")[0]


def plot(out: Path, predictor, spectra: Spectra) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spectrakit.explain import explain

    fig, ax = plt.subplots(figsize=(8, 3))
    for channels in ("specific", "all", "complementary"):
        attr = explain(predictor, spectra, method="ip-gradcam", target="present",
                       channels=channels, path="model")  # fmt: skip
        v = attr.values.mean(0)
        ax.plot(AXIS, v / max(float(v.max()), 1e-12), label=channels)
    ax.axvspan(*BAND, color="grey", alpha=0.2, label="deciding band")
    ax.set_xlabel("Raman shift (cm-1)")
    ax.set_ylabel("Grad-CAM (scaled)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "channel_sets.png", dpi=100)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    import spectrakit as sk
    from spectrakit.explain import compare_channel_sets

    n_train, n_explain, epochs = (256, 8, 8) if args.quick else (2000, 64, 40)
    write(make_deciding_peak(n_train, 0), args.out / "train.csv")
    test = make_deciding_peak(4 * n_explain, 1)
    present = test[test.meta["label"].to_numpy() == "present"][:n_explain]
    rows = []
    for model in ("peakmixer_tiny", "cnnpeak_tiny"):
        predictor = sk.load(train(args.out, model, epochs))
        acc = float(np.mean(predictor.predict(test)["predicted"] == test.meta["label"]))
        w = predictor.model.class_channel_weights().detach().numpy()
        chosen = predictor.config.training["recipe"]["ip_temperature"]
        print(f"{model}: test accuracy {acc:.3f}; temperature {chosen['chosen']} raced on "
              f"the training split from {chosen['candidates']} (finalists "
              f"{chosen['finalists']}, held-out loss "
              f"{np.round(chosen['heldout_loss'], 3).tolist()}, {chosen['total_steps']} "
              f"steps); class-channel weights {w.min():.3f}-{w.max():.3f} "
              f"(uniform 1/K = {1 / w.shape[1]:.3f})")  # fmt: skip
        table = compare_channel_sets(predictor, present, target="present", band=BAND,
                                     path="model", n_perturb_samples=32 if args.quick else 64,
                                     n_sensitivity_samples=4 if args.quick else 8)  # fmt: skip
        print(
            f"{model}: Grad-CAM of the output per channel set (infidelity, sensitivity: "
            "lower is better; band_share: higher is better)"
        )
        print(table.round(4).to_string())
        rows.append(
            table.reset_index().assign(model=model, accuracy=acc, ip_temperature=chosen["chosen"])
        )
        if model == "peakmixer_tiny":
            plot(args.out, predictor, present)
    pd.concat(rows).to_csv(args.out / "channel_sets.csv", index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
