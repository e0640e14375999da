"""The :class:`Attribution` result: importance per axis point, tied to the physical axis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import find_peaks, peak_widths

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError
from spectrakit.core.spectra import Spectra

__all__ = ["Attribution"]

#: target index stored for class-agnostic maps (attention).
NO_TARGET = -1


@dataclass(frozen=True, eq=False)
class Attribution:
    """Importance of every axis point for one model output, per spectrum.

    Parameters
    ----------
    values : ndarray of shape (n_spectra, n_points)
        Signed (or non-negative, for Grad-CAM / attention) importance, summed over input
        channels.
    axis : SpectralAxis
        The axis the model saw (after the predictor's preprocessing).
    method : str
        Name of the method that produced ``values`` (``"ig"``, ``"gradcam"``, ...).
    target : ndarray of shape (n_spectra,)
        Output index explained for each spectrum (-1 for class-agnostic maps).
    target_names : tuple of str
        Name of the explained output for each spectrum.
    inputs : ndarray of shape (n_spectra, n_points), optional
        The (preprocessed, channel-averaged) spectra that were explained, for plots.
    meta : DataFrame, optional
        Per-spectrum metadata carried over from the input spectra.
    params : dict
        Method options, for provenance.

    Examples
    --------
    >>> import numpy as np
    >>> from spectrakit import SpectralAxis
    >>> a = Attribution(np.eye(3, 5), SpectralAxis(np.arange(5.0)), "saliency",
    ...                 np.zeros(3, dtype=int), ("a", "a", "a"))
    >>> a.top_bands(1, index=1)["position"].tolist()
    [1.0]
    """

    values: np.ndarray
    axis: SpectralAxis
    method: str
    target: np.ndarray
    target_names: tuple[str, ...]
    inputs: np.ndarray | None = None
    meta: pd.DataFrame | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float32)
        if values.ndim != 2 or values.shape[1] != self.axis.n_points:
            raise DataError(
                "attribution values do not match the axis",
                expected=f"shape (n_spectra, {self.axis.n_points})",
                got=f"shape {values.shape}",
            )
        target = np.asarray(self.target, dtype=np.int64).reshape(-1)
        if target.size != values.shape[0] or len(self.target_names) != values.shape[0]:
            raise DataError(
                "one target per spectrum is needed",
                expected=f"{values.shape[0]} targets",
                got=f"{target.size} targets, {len(self.target_names)} names",
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "target_names", tuple(map(str, self.target_names)))
        meta = self.meta if self.meta is not None else pd.DataFrame(index=range(len(values)))
        object.__setattr__(self, "meta", meta.reset_index(drop=True))

    # ------------------------------------------------------------------ basics
    @property
    def n_spectra(self) -> int:
        """Number of explained spectra."""
        return int(self.values.shape[0])

    def __len__(self) -> int:
        return self.n_spectra

    def __repr__(self) -> str:
        names = sorted(set(self.target_names))
        return (
            f"Attribution({self.method}, {self.n_spectra} spectra, {self.axis.describe()}, "
            f"target={', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"
        )

    def to_spectra(self) -> Spectra:
        """Attributions as :class:`Spectra` with ``method``/``target`` metadata columns."""
        meta = self.meta.copy()
        meta["method"] = self.method
        meta["target"] = list(self.target_names)
        return Spectra(self.values, self.axis, meta)

    def to_pandas(self) -> pd.DataFrame:
        """Table format: metadata, ``method``, ``target``, then one column per axis point."""
        return self.to_spectra().to_pandas()

    def mass_fraction(self, low: float, high: float) -> np.ndarray:
        """Share of total ``|attribution|`` inside ``[low, high]`` (axis units).

        Returns
        -------
        ndarray of shape (n_spectra,)
            Values in [0, 1]; 0 where a spectrum has no attribution at all.
        """
        inside = self.axis.index_range(low, high)
        mag = np.abs(self.values.astype(np.float64))
        total = mag.sum(axis=1)
        return np.divide(
            mag[:, inside].sum(axis=1), total, out=np.zeros_like(total), where=total > 0
        )

    # ------------------------------------------------------------------ bands
    def top_bands(
        self,
        k: int = 5,
        *,
        index: int | None = None,
        min_separation: float | None = None,
    ) -> pd.DataFrame:
        """The ``k`` most important bands (local maxima of ``|attribution|``).

        Parameters
        ----------
        k : int, default=5
            Number of bands.
        index : int, optional
            Spectrum to analyse; by default the mean ``|attribution|`` over all spectra.
        min_separation : float, optional
            Minimum distance between two reported band centres, in axis units (default:
            five axis steps).

        Returns
        -------
        DataFrame
            Columns ``rank``, ``position`` (axis units), ``low``, ``high`` (half-height
            extent), ``importance`` (``|attribution|`` at the centre) and ``share`` (fraction
            of the total ``|attribution|`` between ``low`` and ``high``).
        """
        profile = self._profile(k, index)
        profile = profile.astype(np.float64)
        x = self.axis.values
        step = abs(self.axis.spacing) if self.axis.n_points > 1 else 1.0
        sep = 5 * step if min_separation is None else float(min_separation)
        distance = max(1, round(sep / step))
        # pad with zeros so a maximum at either end of the axis still counts as a peak
        padded = np.concatenate([[0.0], profile, [0.0]])
        peaks, _ = find_peaks(padded, distance=distance)
        peaks = peaks[np.argsort(padded[peaks])[::-1]][:k]
        rows = _band_rows(profile, padded, peaks, x)
        columns = ["rank", "position", "low", "high", "importance", "share"]
        return pd.DataFrame(rows, columns=columns)

    def _profile(self, k: int, index: int | None) -> np.ndarray:
        """``|attribution|`` of spectrum ``index``, else its mean over all spectra."""
        if k < 1:
            raise DataError("k must be positive", expected="k >= 1", got=str(k))
        if index is None:
            return np.abs(self.values).mean(axis=0)
        if not -self.n_spectra <= index < self.n_spectra:
            raise DataError(
                "spectrum index out of range",
                expected=f"0 <= index < {self.n_spectra}",
                got=str(index),
            )
        return np.abs(self.values[index])


def _band_rows(
    profile: np.ndarray, padded: np.ndarray, peaks: np.ndarray, x: np.ndarray
) -> list[dict[str, float]]:
    """One row per peak of ``padded`` (``profile`` zero-padded): centre, extent, share."""
    rows = []
    total = profile.sum()
    if peaks.size:
        _, _, left, right = peak_widths(padded, peaks, rel_height=0.5)
        for rank, (p, lo, hi) in enumerate(zip(peaks, left, right, strict=True), start=1):
            i = p - 1
            lo_i = int(np.clip(np.floor(lo - 1), 0, len(x) - 1))
            hi_i = int(np.clip(np.ceil(hi - 1), 0, len(x) - 1))
            share = profile[lo_i : hi_i + 1].sum() / total if total > 0 else 0.0
            rows.append(
                {
                    "rank": rank,
                    "position": float(x[i]),
                    "low": float(x[lo_i]),
                    "high": float(x[hi_i]),
                    "importance": float(profile[i]),
                    "share": float(share),
                }
            )
    return rows
