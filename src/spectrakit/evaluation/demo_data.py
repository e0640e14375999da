"""The fermentation of the demo: standards, on-line process spectra, HPLC references.

Data: ATR-MIR spectra of a lignocellulosic ethanol fermentation (chemotools): 21 off-line
glucose standards (labelled) and 1,629 on-line process spectra, one every 1.25 min, of
which 34 have an HPLC glucose reference. Each HPLC time is matched to the spectrum taken
then, averaging the +-5 spectra around it (:func:`match_reference`). Without chemotools a
synthetic fermentation with the same structure is used, and the description says so.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from spectrakit.core.spectra import Spectra

__all__ = [
    "FIELD_PIPELINE",
    "HALF_WINDOW",
    "MINUTES_PER_SPECTRUM",
    "drop_flat",
    "load_demo_data",
    "match_reference",
]

log = logging.getLogger(__name__)

MINUTES_PER_SPECTRUM = 1.25
HALF_WINDOW = 5  # spectra averaged on each side of an HPLC time
#: the field's published pipeline for this set: the 950-1500 cm-1 glucose region on a uniform
#: grid (the stored axis is rounded to whole wavenumbers), a straight-line baseline through
#: the end points, then a Savitzky-Golay first derivative (PLS centres the data itself)
FIELD_PIPELINE = {
    "steps": [
        {"step": "Resample", "params": {"start": 950.0, "stop": 1499.0, "step": 1.343}},
        {"step": "LinearCorrection", "params": {}},
        {"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}},
    ]
}


def load_demo_data(synthetic: bool = False) -> tuple[Spectra, Spectra, pd.DataFrame, str]:
    """Standards, process spectra, HPLC reference and a description of the source."""
    if not synthetic:
        try:
            from spectrakit.datasets.reference import (
                load_fermentation,
                load_fermentation_reference,
            )

            return (
                load_fermentation("train"),
                load_fermentation("test"),
                load_fermentation_reference(),
                "chemotools fermentation data set (ATR-MIR, 428-1833 cm-1)",
            )
        except ImportError:
            log.warning("chemotools is not installed: synthetic data")
    return (*synthetic_fermentation(), "SYNTHETIC fermentation (chemotools not installed)")


def synthetic_fermentation(
    seed: int = 0, n_process: int = 1629
) -> tuple[Spectra, Spectra, pd.DataFrame]:
    """Glucose standards in water and a drifting broth with ethanol, on the real axis."""
    import pandas as pd

    from spectrakit.core.spectra import Spectra

    rng = np.random.default_rng(seed)
    axis = np.linspace(428.0, 1833.0, 1047)

    def band(mu: float, sd: float) -> np.ndarray:
        return np.exp(-0.5 * ((axis - mu) / sd) ** 2)

    glucose = band(1125, 12) + 0.7 * band(1060, 10) + 0.5 * band(1365, 14)
    ethanol = band(880, 10) + 0.6 * band(1050, 9) + 0.4 * band(1455, 12)
    water = 3.0 * band(1640, 40)
    conc = rng.uniform(0, 50, 21)
    train = water + np.outer(conc, glucose) / 20 + rng.normal(0, 0.02, (21, axis.size))
    minutes = np.arange(n_process) * MINUTES_PER_SPECTRUM
    g = 45 * np.exp(-minutes / 700.0)
    e = 0.45 * (45 - g)
    drift = np.outer(np.linspace(0.5, 1.5, n_process), np.linspace(1, 0.3, axis.size))
    test = water + np.outer(g, glucose) / 20 + np.outer(e, ethanol) / 20 + drift
    test = test + rng.normal(0, 0.03, test.shape)
    times = np.linspace(0, minutes[-1] - 10, 34).round()
    ref = pd.DataFrame({"time_min": times, "glucose": 45 * np.exp(-times / 700.0)})
    return (
        Spectra(train, axis, meta={"glucose": conc}),
        Spectra(test, axis, meta={"time_min": minutes}),
        ref,
    )


def drop_flat(process: Spectra) -> Spectra:
    """The process spectra without constant rows (placeholders, not measurements); logged."""
    flat = process.values.std(axis=1) == 0
    if flat.any():
        log.warning("dropped %d constant process spectra (no measurement)", int(flat.sum()))
    return process.select(np.flatnonzero(~flat))


def match_reference(process: Spectra, ref: pd.DataFrame) -> Spectra:
    """One averaged spectrum (+-5 around the matching time) per HPLC time.

    ``process.meta["time_min"]`` gives the time of each spectrum when present (else index
    times 1.25 min); the nearest spectrum is the centre of the window.
    """
    from spectrakit.core.spectra import Spectra

    if "time_min" in process.meta.columns:
        times = process.meta["time_min"].to_numpy(dtype=np.float64)
    else:
        times = np.arange(process.n_spectra) * MINUTES_PER_SPECTRUM
    want = ref["time_min"].to_numpy(dtype=np.float64)
    idx = np.abs(times[None, :] - want[:, None]).argmin(axis=1)
    rows = [process.values[max(i - HALF_WINDOW, 0) : i + HALF_WINDOW + 1].mean(axis=0) for i in idx]
    meta = {"time_min": want, "glucose": ref["glucose"].to_numpy()}
    return Spectra(np.stack(rows), process.axis, meta=meta)
