"""Row-wise linear maps whose result for a spectrum does not depend on its block."""

from __future__ import annotations

import numpy as np

__all__ = ["apply_rows", "dot_rows"]


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


def dot_rows(block: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``block @ vectors.T`` for long rows: each entry the sum of one row's products.

    The same per-row summation as :func:`apply_rows` guarantees, for operators with many
    columns (whole spectra) and few rows.

    Parameters
    ----------
    block : ndarray of shape (n_spectra, p)
    vectors : ndarray of shape (m, p)

    Returns
    -------
    ndarray of shape (n_spectra, m)
    """
    block = np.ascontiguousarray(block)
    out = np.empty((block.shape[0], vectors.shape[0]))
    for i, vector in enumerate(vectors):
        out[:, i] = (block * vector).sum(axis=1)
    return out
