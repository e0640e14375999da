"""Data-quality checks shared by ``spectrakit info``, data summaries and the despiking step."""

from __future__ import annotations

import numpy as np

from spectrakit.spectra import Spectra

__all__ = [
    "difference_zscores",
    "isolated_spikes",
    "saturation_mask",
    "spike_mask",
    "summarize",
]

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


def _narrow_spikes(z: np.ndarray, threshold: float, max_width: int) -> np.ndarray:
    """Points of narrow spikes from first-difference z-scores ``z`` of shape (n, p - 1).

    A spike of ``w <= max_width`` points at ``i..i+w-1`` is an abrupt step in (difference
    ``i - 1`` flagged) followed by an abrupt step back out (difference ``i + w - 1`` flagged
    with the opposite sign), where the difference before the step in and the one after the
    step out are *not* flagged the same way. A real band rises over several differences, so
    even a narrow, intense Raman peak (3 points or more across) fails the last condition.
    """
    n, m = z.shape
    p = m + 1
    mask = np.zeros((n, p), dtype=bool)
    pad = np.zeros((n, 1), dtype=bool)
    for sign in (1.0, -1.0):  # cosmic rays (up) and dead pixels (down)
        up = np.concatenate([pad, sign * z > threshold, pad], axis=1)  # up[:, k + 1] = diff k
        down = np.concatenate([pad, sign * z < -threshold, pad], axis=1)
        for w in range(1, max_width + 1):
            # spike points i..i+w-1 for i in 1..p-w-1: enter via diff i-1, leave via diff i+w-1
            i = np.arange(1, p - w)
            if i.size == 0:
                continue
            enter = up[:, i]  # diff i - 1
            leave = down[:, i + w]  # diff i + w - 1
            before = up[:, i - 1]  # diff i - 2 (False at the edge)
            after = down[:, i + w + 1]  # diff i + w (False at the edge)
            hit = enter & leave & ~before & ~after
            for k in range(w):
                mask[:, i + k] |= hit
        # one-sided spikes on the first or last point
        mask[:, 0] |= down[:, 1] & ~down[:, 2] if p > 2 else down[:, 1]
        mask[:, p - 1] |= up[:, p - 1] & ~up[:, p - 2] if p > 2 else up[:, p - 1]
    return mask


def spike_mask(values: np.ndarray, threshold: float = 8.0, max_width: int = 2) -> np.ndarray:
    """Points of narrow spikes (cosmic rays up, dead pixels down), Whitaker & Hayes (2018).

    A difference whose modified z-score exceeds ``threshold`` marks an abrupt step; a spike
    is a step in followed within ``max_width`` points by a step back out, so real bands, which
    rise over several points, are never flagged (see :func:`_narrow_spikes`).

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
    """
    values = np.asarray(values)
    if values.shape[1] < 2:
        return np.zeros(values.shape, dtype=bool)
    return _narrow_spikes(difference_zscores(values), float(threshold), int(max_width))


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


def summarize(spectra: Spectra) -> dict:
    """A JSON-ready summary: counts, axis, metadata columns, NaNs, spike/saturation hints."""
    v = spectra.values
    finite = np.where(np.isfinite(v), v, np.nan)
    nan_rows = int(np.isnan(v).any(axis=1).sum())
    clean = np.nan_to_num(v, nan=0.0)
    spikes = isolated_spikes(clean).any(axis=1)
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
