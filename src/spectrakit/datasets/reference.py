"""Small real data sets that ship inside the optional ``chemotools`` package.

- Coffee: 60 ATR-FTIR spectra of brewed coffee from three origins (Ethiopia, Brasil,
  Vietnam), 20 each.
- Fermentation (Cabaneros Lopez et al., 2021, "Transforming data into information: A
  parallel hybrid model for real-time state estimation in lignocellulose ethanol
  fermentations", Biotechnology and Bioengineering): 21 off-line ATR-MIR spectra of glucose
  standards (train) and 1629 on-line ATR-MIR spectra of a fermentation recorded every 1.25
  minutes (test), 428-1833 cm-1, with 34 HPLC reference measurements.

Install with ``pip install spectrakit[datasets]``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError
from spectrakit.core.spectra import Spectra

__all__ = [
    "BUILTIN",
    "FERMENTATION_MINUTES_PER_SPECTRUM",
    "load_builtin",
    "load_coffee",
    "load_fermentation",
    "load_fermentation_reference",
]

#: sampling interval of the on-line fermentation spectra.
FERMENTATION_MINUTES_PER_SPECTRUM = 1.25
_SPLITS = ("train", "test")


def _chemotools_datasets() -> ModuleType:
    try:
        return importlib.import_module("chemotools.datasets")
    except ImportError:
        raise DataError(
            "the reference data sets need the optional package chemotools",
            expected="chemotools installed",
            got="no module named 'chemotools'",
            fix="pip install spectrakit[datasets]",
        ) from None


def _spectra_from_frame(frame: pd.DataFrame, axis: SpectralAxis, meta: pd.DataFrame) -> Spectra:
    values = frame.to_numpy(dtype=np.float32)
    return Spectra(values, axis, meta)


def load_coffee() -> Spectra:
    """Coffee ATR-FTIR spectra of three origins.

    The shipped table names its 1841 columns by point index only (no wavenumbers are
    recorded), so the axis is a ``channel`` axis 0..1840; crop and resample in points.

    Returns
    -------
    Spectra
        60 spectra x 1841 points, meta ``origin`` (``"Ethiopia"``, ``"Brasil"``,
        ``"Vietnam"``, 20 each).

    Examples
    --------
    >>> coffee = load_coffee()  # doctest: +SKIP
    >>> coffee.shape, sorted(set(coffee.meta["origin"]))  # doctest: +SKIP
    ((60, 1841), ['Brasil', 'Ethiopia', 'Vietnam'])
    """
    spectra, labels = _chemotools_datasets().load_coffee()
    index = np.asarray([float(c) for c in spectra.columns])
    axis = SpectralAxis(index, unit="channel")
    meta = pd.DataFrame({"origin": labels.iloc[:, 0].astype(str).to_numpy()})
    return _spectra_from_frame(spectra, axis, meta)


def _wavenumber_axis(columns) -> SpectralAxis:
    values = np.asarray([float(c) for c in columns], dtype=np.float64)
    return SpectralAxis(values, unit="cm-1", kind="wavenumber")


def load_fermentation(split: str = "train") -> Spectra:
    """ATR-MIR spectra of a lignocellulosic ethanol fermentation (428-1833 cm-1, 1047 points).

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"``: 21 off-line spectra of glucose standards with meta ``glucose`` (g/L).
        ``"test"``: 1629 on-line spectra of the fermentation, one every 1.25 min, with meta
        ``time_min``; their glucose is known only at the 34 HPLC times of
        :func:`load_fermentation_reference`.

    Returns
    -------
    Spectra
        Absolute wavenumber axis in cm-1 (mid-infrared absorbance spectra).

    Examples
    --------
    >>> test = load_fermentation("test")  # doctest: +SKIP
    >>> test.shape, test.axis.describe()  # doctest: +SKIP
    ((1629, 1047), '428-1833 cm-1, 1047 points')
    """
    if split not in _SPLITS:
        raise DataError("unknown fermentation split", expected="'train' or 'test'", got=repr(split))
    ds = _chemotools_datasets()
    if split == "train":
        spectra, hplc = ds.load_fermentation_train()
        meta = pd.DataFrame({"glucose": hplc["glucose"].to_numpy(dtype=np.float64)})
    else:
        spectra, _ = ds.load_fermentation_test()
        minutes = np.arange(len(spectra)) * FERMENTATION_MINUTES_PER_SPECTRUM
        meta = pd.DataFrame({"time_min": minutes})
    return _spectra_from_frame(spectra, _wavenumber_axis(spectra.columns), meta)


def load_fermentation_reference() -> pd.DataFrame:
    """HPLC reference measurements taken during the on-line fermentation.

    Returns
    -------
    pandas.DataFrame
        34 rows: ``time_min`` (minutes since the first on-line spectrum), ``glucose``,
        ``xylose``, ``acetic_acid``, ``ethanol``, ``furfural`` (g/L). Match a row to its
        spectrum with ``round(time_min / 1.25)``.
    """
    _, hplc = _chemotools_datasets().load_fermentation_test()
    out = hplc.rename(columns={"time": "time_min"}).copy()
    out["time_min"] = out["time_min"].to_numpy(dtype=np.float64) * 60.0  # stored in hours
    return out.reset_index(drop=True)


#: names accepted by :func:`load_builtin` (and by the command line as ``builtin:<name>``).
BUILTIN = ("coffee", "fermentation-train", "fermentation-test")


def load_builtin(name: str) -> Spectra:
    """A shipped data set by name: ``coffee``, ``fermentation-train`` or ``fermentation-test``.

    Examples
    --------
    >>> load_builtin("fermentation-train").shape  # doctest: +SKIP
    (21, 1047)
    """
    if name == "coffee":
        return load_coffee()
    if name in ("fermentation-train", "fermentation-test"):
        return load_fermentation(name.split("-", 1)[1])
    raise DataError(
        "unknown built-in data set",
        expected="one of " + ", ".join(f"builtin:{b}" for b in BUILTIN),
        got=repr(name),
    )
