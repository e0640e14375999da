"""Column-wise scaling learned on training spectra: mean centring and standardisation."""

from __future__ import annotations

import numpy as np

from spectrakit.preprocessing._base import SpectralTransformer
from spectrakit.preprocessing._registry import register_step

__all__ = ["MeanCenter", "Standardize"]


@register_step
class MeanCenter(SpectralTransformer):
    """Subtract the training mean spectrum (per axis point).

    Attributes
    ----------
    mean_ : ndarray of shape (n_points,)
        Mean of the training spectra.
    """

    _state_attrs = ("mean_",)

    def __init__(self) -> None:
        pass

    def _fit(self, X: np.ndarray, axis: np.ndarray, y: object = None) -> None:
        self.mean_ = X.mean(axis=0)

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X - self.mean_, axis


@register_step
class Standardize(SpectralTransformer):
    """Centre and scale every axis point by the training mean and standard deviation.

    Points with zero variance in the training set (e.g. a detector region clipped to 0) get
    a scale of 1, so they are centred but not divided by zero (as in scikit-learn's
    ``StandardScaler``).

    Parameters
    ----------
    with_mean : bool, default=True
        Subtract the training mean.

    Attributes
    ----------
    mean_ : ndarray of shape (n_points,)
    scale_ : ndarray of shape (n_points,)
    """

    _state_attrs = ("mean_", "scale_")

    def __init__(self, with_mean: bool = True) -> None:
        self.with_mean = with_mean

    def _fit(self, X: np.ndarray, axis: np.ndarray, y: object = None) -> None:
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        tiny = 1e-12 * np.maximum(np.abs(mean), 1e-300)
        self.mean_ = mean if self.with_mean else np.zeros_like(mean)
        self.scale_ = np.where(std > tiny, std, 1.0)

    def _transform(self, X: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (X - self.mean_) / self.scale_, axis
