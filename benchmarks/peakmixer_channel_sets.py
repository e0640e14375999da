"""PeakMixer's channel sets over seeds: band share, infidelity and sensitivity, per family.

For each seed: a deciding-peak training set (256 spectra), the class-channel temperature
chosen on it (:func:`spectrakit.training.ip_temperature.choose_ip_temperature`), a tiny
model trained at that temperature, and the seed's table (Grad-CAM of the whole output
through the class-specific, all and complementary channels) on 16 ``present`` spectra of
an independent set. Prints each seed's figures and ordering, then mean +- SD over seeds.

``--temperature T`` fixes the temperature instead of racing it (to compare designs at one
temperature). ``--complementary-gate`` trains the models with the learned gate on the complementary
channels (``complementary_gate=True``). ``--untrainable`` keeps the class-channel correlation
at its random initialisation (the seed table's "untrainable" control; the rest trains).

Usage: python benchmarks/peakmixer_channel_sets.py [--seeds 5] [--models peakmixer_tiny]
[--temperature T] [--complementary-gate] [--untrainable]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch

from spectrakit.datasets.deciding_peak import BAND, make_deciding_peak
from spectrakit.explain import compare_channel_sets
from spectrakit.models import create
from spectrakit.training.ip_temperature import choose_ip_temperature, train_classifier

STEPS, LR, WD = 60, 3e-3, 0.01


def one_seed(
    name: str, seed: int, fixed: float | None = None, untrainable: bool = False,
    **model_kwargs: object,
) -> dict:  # fmt: skip
    """The chosen temperature, test accuracy and channel-set table of one seed."""
    train, test = make_deciding_peak(256, seed), make_deciding_peak(64, 100 + seed)
    x, y = train.to_torch(), torch.as_tensor(train.meta["y"].to_numpy().copy())

    def build(t: float) -> torch.nn.Module:
        torch.manual_seed(seed)
        net = create(name, n_outputs=2, ip_temperature=t, **model_kwargs)
        net.corr.requires_grad_(not untrainable)
        return net

    t = fixed
    if t is None:
        t, _ = choose_ip_temperature(build, x, y, seed=seed, steps=STEPS, lr=LR, weight_decay=WD)
    net = build(t)
    train_classifier(net, x, y, np.arange(len(y)), steps=STEPS, lr=LR, weight_decay=WD, seed=seed)
    with torch.no_grad():
        pred = net(test.to_torch()).argmax(1).numpy()
    present = test[test.meta["y"].to_numpy() == 1][:16]
    table = compare_channel_sets(net, present, target=1, band=BAND, path="model")
    return {"t": t, "accuracy": float(np.mean(pred == test.meta["y"].to_numpy())), "table": table}


def ordered(table: pd.DataFrame) -> dict[str, bool]:
    """Whether specific > all > complementary holds (share up, infidelity/sensitivity down)."""
    s, i, v = (table[c] for c in ("band_share", "infidelity", "sensitivity"))
    med = table["sensitivity_median"]
    return {
        "share": bool(s["specific"] > s["all"] > s["complementary"]),
        "infidelity": bool(i["specific"] < i["all"] < i["complementary"]),
        "infidelity_vs_complementary": bool(max(i["specific"], i["all"]) < i["complementary"]),
        "sensitivity": bool(v["specific"] < v["all"] < v["complementary"]),
        "sensitivity_median": bool(med["specific"] < med["all"] < med["complementary"]),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--models", default="peakmixer_tiny,cnnpeak_tiny")
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--complementary-gate", action="store_true")
    p.add_argument("--untrainable", action="store_true")
    args = p.parse_args()
    gate = {"complementary_gate": True} if args.complementary_gate else {}
    torch.set_num_threads(1)
    for name in args.models.split(","):
        tables = []
        for seed in range(args.seeds):
            r = one_seed(name, seed, args.temperature, args.untrainable, **gate)
            tab = r["table"]
            print(f"{name} seed {seed}: T={r['t']} accuracy {r['accuracy']:.3f} "
                  f"ordered {ordered(tab)}")  # fmt: skip
            print(tab.round(4).to_string())
            tables.append(tab)
        stack = pd.concat(tables, keys=range(len(tables)))
        mean = stack.groupby(level=1).mean().loc[list(tables[0].index)]
        sd = stack.groupby(level=1).std().loc[list(tables[0].index)]
        print(f"\n{name}, mean +- SD over {args.seeds} seeds")
        print((mean.round(4).astype(str) + " +- " + sd.round(4).astype(str)).to_string())


if __name__ == "__main__":
    main()
