"""Data-quality checks shared by ``spectrakit info``, data summaries and the despiking step."""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.core.errors import DataError
from spectrakit.core.spectra import Spectra
from spectrakit.core.spectra_inputs import constant_rows
from spectrakit.core.threads import run_rows
from spectrakit.preprocessing._spike_kernels import spike_mask_rows, zscore_rows

__all__ = [
    "difference_zscores",
    "isolated_spikes",
    "meta_summary",
    "saturation_mask",
    "spike_mask",
    "summarize",
]

# the spike kernels take ~10 us per spectrum: threads pay from a smaller block than usual
_PARALLEL_MIN_SIZE = 200_000


def _float_rows(values: np.ndarray, caller: str) -> np.ndarray:
    """``values`` as a C-contiguous float64 array of shape (n_spectra, n_points)."""
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(
            f"{caller}: spectra have the wrong shape",
            expected="a 2D array (n_spectra, n_points)",
            got=f"shape {arr.shape}",
            fix="reshape a single spectrum as x.reshape(1, -1)",
        )
    return arr


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
    X = _float_rows(values, "difference_zscores")
    out = np.zeros((X.shape[0], max(X.shape[1] - 1, 0)))
    run_rows(zscore_rows, X, out, min_size=_PARALLEL_MIN_SIZE)
    return out


def spike_mask(values: np.ndarray, threshold: float = 8.0, max_width: int = 2) -> np.ndarray:
    """Points of narrow spikes (cosmic rays up, dead pixels down), Whitaker & Hayes (2018).

    A difference whose modified z-score (:func:`difference_zscores`) exceeds ``threshold``
    marks an abrupt step. A spike of ``w <= max_width`` points at ``i..i+w-1`` is an abrupt
    step in (difference ``i - 1``) followed by an abrupt step back out (difference
    ``i + w - 1``, opposite sign), where the difference before the step in and the one after
    the step out are *not* flagged the same way; the first and last points are spikes when
    only their one difference steps back or in. A real band rises over several differences,
    so even a narrow, intense Raman peak (3 points or more across) is never flagged.

    Parameters
    ----------
    values : ndarray of shape (n_spectra, n_points)
    threshold : float, default=8.0
        Modified z-score above which a difference is abrupt.
    max_width : int, default=2
        Widest spike, in points.

    Returns
    -------
    ndarray of bool, shape (n_spectra, n_points)
        All False for spectra of fewer than 2 points.
    """
    X = _float_rows(values, "spike_mask")
    if X.shape[1] < 2:
        return np.zeros(X.shape, dtype=bool)
    out = np.empty(X.shape, dtype=bool)
    run_rows(spike_mask_rows, X, out, float(threshold), int(max_width), min_size=_PARALLEL_MIN_SIZE)
    return out


def isolated_spikes(values: np.ndarray, radius: int = 10, edge: int = 3) -> np.ndarray:
    """Spike points that stand alone, as cosmic rays do (a hint, not a correction).

    Noisy detector edges produce many alternating abrupt steps that :func:`spike_mask` flags
    point by point; a cosmic ray is a rare, isolated event. A flagged point counts here only
    when at most two points are flagged within ``radius`` points of it and it is not among
    the ``edge`` outermost points.

    Returns
    -------
    ndarray of bool, shape (n_spectra, n_points)
    """
    mask = spike_mask(values)
    if mask.shape[1] <= 2 * edge:
        return np.zeros_like(mask)
    counts = np.cumsum(np.pad(mask, ((0, 0), (radius + 1, radius)), constant_values=False), axis=1)
    local = counts[:, 2 * radius + 1 :] - counts[:, : -2 * radius - 1]
    out = mask & (local <= 2)
    out[:, :edge] = False
    out[:, -edge:] = False
    return out


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


def meta_summary(meta: Any) -> dict:
    """Per metadata column: dtype, missing count, and min/max (numeric) or distinct values."""
    out = {}
    for col in meta.columns:
        s = meta[col]
        entry = {"dtype": str(s.dtype), "missing": int(s.isna().sum())}
        if s.dtype.kind in "if" and s.notna().any():
            entry.update(min=float(s.min()), max=float(s.max()))
        else:
            entry["distinct"] = int(s.nunique())
        out[str(col)] = entry
    return out


def summarize(spectra: Spectra) -> dict:
    """A JSON-ready summary: counts, axis, metadata, NaNs, spike/saturation/constant hints."""
    v = spectra.values
    finite = np.where(np.isfinite(v), v, np.nan)
    nan_rows = int(np.isnan(v).any(axis=1).sum())
    clean = np.nan_to_num(v, nan=0.0)
    spikes = isolated_spikes(clean).any(axis=1)
    constant = constant_rows(finite)
    meta = meta_summary(spectra.meta)
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
        "spectra_saturated": int((saturation_mask(clean) & ~constant).sum()),
        "spectra_constant": int(constant.sum()),
    }
