"""PeakMixer's channel sets compared: class-specific, all and complementary channels.

The seed's table: Grad-CAM through the channels the interpretable path ties to a class,
through all channels and through the rest, each judged by infidelity and max-sensitivity
(Yeh et al. 2019, Captum's ``infidelity`` and ``sensitivity_max``; lower is better) and,
when the band that decides the class is known, by the share of the attribution inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.explain._explain import explain
from spectrakit.explain.faithfulness import infidelity_score, sensitivity_score

__all__ = ["CHANNEL_SETS", "compare_channel_sets"]

CHANNEL_SETS = ("specific", "all", "complementary")


def compare_channel_sets(
    model_or_predictor: Any,
    spectra: Any,
    target: Any = None,
    *,
    band: tuple[float, float] | None = None,
    path: str = "ip",
    channel_sets: Sequence[str] = CHANNEL_SETS,
    n_perturb_samples: int = 64,
    n_sensitivity_samples: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Infidelity, sensitivity (and band share) of ip-gradcam per channel set.

    Parameters
    ----------
    model_or_predictor : PeakMixer or Predictor
        A model with a learned interpretable path (``class_channel_weights()``).
    spectra : Spectra of shape (n, L)
        Spectra to explain.
    target : int, str or sequence, optional
        Class to explain (default: the predicted class).
    band : (float, float), optional
        Axis range of the deciding band: adds ``band_share``, the mean share of
        ``|attribution|`` inside it (higher = better localised).
    path : {"ip", "model"}, default="ip"
        Gradients of the interpretable path or of the whole output (see ip-gradcam).
    channel_sets : sequence of str
        Subset of ``("specific", "all", "complementary")``.
    n_perturb_samples : int, default=64
        Perturbations per spectrum for infidelity (the three sets see the same ones; with
        few, its noise hides the difference between the sets).
    n_sensitivity_samples : int, default=8
        Perturbations per spectrum for max-sensitivity (each one explains again).
    seed : int, default=0
        Seed of the perturbations.

    Returns
    -------
    DataFrame
        One row per channel set (index ``channels``): ``infidelity`` and ``sensitivity``
        (means over the spectra), ``infidelity_relative`` (infidelity over the mean squared
        output change: comparable between models), ``sensitivity_median`` (max-sensitivity
        is a ratio to the map's norm, heavy-tailed where a map is nearly zero),
        ``zero_maps`` (spectra whose map is zero, left out of both sensitivity figures:
        their relative change is undefined) and, with ``band``, ``band_share``.
    """
    counts = {"n_perturb_samples": n_perturb_samples,
              "n_sensitivity_samples": n_sensitivity_samples, "seed": seed}  # fmt: skip
    rows = [
        _channel_set_row(model_or_predictor, spectra, target, channels, path, band, **counts)
        for channels in channel_sets
    ]
    return pd.DataFrame(rows).set_index("channels")


def _channel_set_row(
    model: Any, spectra: Any, target: Any, channels: str, path: str,
    band: tuple[float, float] | None, *, n_perturb_samples: int, n_sensitivity_samples: int,
    seed: int,
) -> dict[str, Any]:  # fmt: skip
    """One channel set's figures: infidelities, sensitivities and (with ``band``) band share."""
    opts = {"channels": channels, "path": path}
    attr = explain(model, spectra, method="ip-gradcam", target=target, **opts)
    tgt = attr.target.tolist()
    row: dict[str, Any] = {"channels": channels}
    inf = {"seed": seed, "n_perturb_samples": n_perturb_samples, **opts}
    row["infidelity"] = float(infidelity_score(model, spectra, "ip-gradcam", tgt, **inf).mean())
    row["infidelity_relative"] = float(
        np.nanmean(infidelity_score(model, spectra, "ip-gradcam", tgt, relative=True, **inf))
    )
    sens = sensitivity_score(model, spectra, "ip-gradcam", tgt, seed=seed,
                             n_perturb_samples=n_sensitivity_samples, **opts)  # fmt: skip
    defined = sens[~np.isnan(sens)]
    row["sensitivity"] = float(defined.mean()) if defined.size else float("nan")
    row["sensitivity_median"] = float(np.median(defined)) if defined.size else float("nan")
    row["zero_maps"] = int(sens.size - defined.size)
    if band is not None:
        row["band_share"] = float(attr.mass_fraction(*band).mean())
    return row
