"""Input normalization shared by training, inference and export (no training code)."""

from __future__ import annotations

import torch

__all__ = ["normalize_spectra"]


def normalize_spectra(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Standardize each spectrum (over channels and points) to zero mean, unit variance.

    Parameters
    ----------
    x : Tensor (B, C, L)
        Batch of spectra.
    eps : float, default=1e-6
        Added to the standard deviation (flat spectra stay finite).

    Returns
    -------
    Tensor (B, C, L)
        The standardized batch.

    Examples
    --------
    >>> normalize_spectra(torch.tensor([[[1.0, 3.0]]])).round(decimals=3).tolist()
    [[[-0.707, 0.707]]]
    """
    mean = x.mean(dim=(1, 2), keepdim=True)
    std = x.std(dim=(1, 2), keepdim=True)
    return (x - mean) / (std + eps)
