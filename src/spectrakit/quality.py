"""Data-quality checks shared by ``spectrakit info``, data summaries and the despiking step."""

from __future__ import annotations

import numpy as np

from spectrakit.spectra import Spectra

__all__ = ["difference_zscores", "saturation_mask", "spike_mask", "summarize"]

_MAD_TO_SIGMA = 0.6745  # Phi^-1(0.75): makes the MAD consistent with a Gaussian sigma


def difference_zscores(values: np.ndarray) -> np.ndarray:
    """Modified z-scores of first differences, row by row (Whitaker & Hayes, 2018).

    Parameters
    ----------
    values : ndarray of shape (n_spectra, n_points)

    Returns
    -------
    ndarray of shape (n_spectra, n_points - 1)
        ``0.6745 * (d - median(d)) / MAD(d)`` per row; rows with zero MAD (flat or
        piecewise-linear spectra) fall back to the mean absolute deviation, and rows where
        both are zero get scores of 0, so there is never a division by zero.
    """
    d = np.diff(np.asarray(values, dtype=np.float64), axis=1)
    med = np.median(d, axis=1, keepdims=True)
    dev = np.abs(d - med)
    mad = np.median(dev, axis=1, keepdims=True)
    fallback = 1.2533 * np.mean(dev, axis=1, keepdims=True)  # mean-abs-dev -> sigma
    scale = np.where(mad > 0, mad / _MAD_TO_SIGMA, fallback)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (d - med) / np.where(scale > 0, scale, 1.0), 0.0)
    return z


def spike_mask(values: np.ndarray, threshold: float = 8.0) -> np.ndarray:
    """Points adjacent to an abnormally large jump (cosmic-ray candidates).

    Parameters
    ----------
    values : ndarray of shape (n_spectra, n_points)
    threshold : float, default=8.0
        Modified z-score above which a difference is a spike.

    Returns
    -------
    ndarray of bool, shape (n_spectra, n_points)
    """
    z = np.abs(difference_zscores(values)) > threshold
    mask = np.zeros(np.shape(values), dtype=bool)
    mask[:, 1:] |= z
    mask[:, :-1] |= z
    return mask


def saturation_mask(values: np.ndarray, min_run: int = 3) -> np.ndarray:
    """Spectra whose maximum is a flat run of at least ``min_run`` equal points (clipped detector).

    Returns
    -------
    ndarray of bool, shape (n_spectra,)
    """
    v = np.asarray(values)
    at_max = v == np.nanmax(v, axis=1, keepdims=True)
    run = np.zeros(v.shape[0], dtype=int)
    best = np.zeros(v.shape[0], dtype=int)
    for j in range(v.shape[1]):  # short loop over points, vectorized over spectra
        run = np.where(at_max[:, j], run + 1, 0)
        best = np.maximum(best, run)
    return best >= min_run


def summarize(spectra: Spectra) -> dict:
    """A JSON-ready summary: counts, axis, metadata columns, NaNs, spike/saturation hints."""
    v = spectra.values
    finite = np.where(np.isfinite(v), v, np.nan)
    nan_rows = int(np.isnan(v).any(axis=1).sum())
    clean = np.nan_to_num(v, nan=0.0)
    spikes = spike_mask(clean).any(axis=1) if spectra.n_points > 2 else np.zeros(len(v), bool)
    meta = {}
    for col in spectra.meta.columns:
        s = spectra.meta[col]
        entry = {"dtype": str(s.dtype), "missing": int(s.isna().sum())}
        if s.dtype.kind in "if" and s.notna().any():
            entry.update(min=float(s.min()), max=float(s.max()))
        else:
            entry["distinct"] = int(s.nunique())
        meta[str(col)] = entry
    return {
        "n_spectra": spectra.n_spectra,
        "n_points": spectra.n_points,
        "axis": {
            "min": spectra.axis.min,
            "max": spectra.axis.max,
            "unit": spectra.axis.unit,
            "kind": spectra.axis.kind,
            "spacing": spectra.axis.spacing,
            "uniform": spectra.axis.is_uniform,
        },
        "intensity": {
            "min": float(np.nanmin(finite)) if np.isfinite(finite).any() else None,
            "max": float(np.nanmax(finite)) if np.isfinite(finite).any() else None,
        },
        "meta": meta,
        "spectra_with_nan": nan_rows,
        "spectra_with_spikes": int(spikes.sum()),
        "spectra_saturated": int(saturation_mask(clean).sum()),
    }
