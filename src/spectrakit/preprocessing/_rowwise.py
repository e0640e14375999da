"""Row-wise linear maps whose result for a spectrum does not depend on its block."""

from __future__ import annotations

import numpy as np

__all__ = ["apply_rows"]


def apply_rows(block: np.ndarray, operator: np.ndarray) -> np.ndarray:
    """``block @ operator.T`` with every row summed in the same fixed order.

    A BLAS product may round a row differently depending on how many rows share the call,
    so the result of a spectrum would depend on its block; this sum of column products
    gives each row the same value whatever the block.

    Parameters
    ----------
    block : ndarray of shape (n_spectra, k)
    operator : ndarray of shape (m, k)

    Returns
    -------
    ndarray of shape (n_spectra, m)
    """
    out = block[:, :1] * operator[:, 0]
    for j in range(1, operator.shape[1]):
        out += block[:, j : j + 1] * operator[:, j]
    return out
