"""The asPLS objective: the penalised weighted residual of a baseline at its own weights.

asPLS (Zhang et al. 2020) derives, from a baseline ``z`` of a spectrum ``y``, the residual
``r = y - z``, the spread ``sigma`` of its negative part (standard deviation, ddof=1), the
weights ``w = expit(-k (r - sigma) / sigma)`` and the local smoothness
``alpha = max(|r| / max |r|, eps)``. Its next baseline minimises
``Phi(z'; z) = sum (w / alpha) (y - z')^2 + lam |D z'|^2``, so an answer is a fixed point,
and two answers are compared by ``Phi(z; z)``: lower is better.
"""

from __future__ import annotations

import numpy as np

__all__ = ["aspls_objective", "aspls_weights"]

_EPS = float(np.finfo(float).eps)


def aspls_weights(
    Y: np.ndarray, Z: np.ndarray, asymmetric_coef: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """The asPLS weights and local smoothness derived from baselines ``Z`` of spectra ``Y``.

    Parameters
    ----------
    Y, Z : ndarray of shape (n_spectra, n_points) or (n_points,)
        Spectra and baselines.
    asymmetric_coef : float, default=0.5
        asPLS's ``k``.

    Returns
    -------
    w, alpha : ndarray of the shape of ``Y``
    """
    R = np.atleast_2d(np.asarray(Y, dtype=np.float64) - np.asarray(Z, dtype=np.float64))
    neg = R < 0
    count = neg.sum(axis=1)
    negative = np.where(neg, R, 0.0)
    mean = negative.sum(axis=1) / np.maximum(count, 1)
    dev = np.where(neg, R - mean[:, None], 0.0)
    var = (dev * dev).sum(axis=1) / np.maximum(count - 1, 1)
    sigma = np.where((count >= 2) & (var > 0), np.sqrt(var), _EPS)[:, None]
    w = 0.5 * (1.0 + np.tanh(-0.5 * (asymmetric_coef / sigma) * (R - sigma)))  # expit
    absmax = np.maximum(np.abs(R).max(axis=1, keepdims=True), _EPS)
    alpha = np.maximum(np.abs(R) / absmax, _EPS)
    shape = np.shape(Y)
    return w.reshape(shape), alpha.reshape(shape)


def aspls_objective(
    Y: np.ndarray,
    Z: np.ndarray,
    lam: float,
    asymmetric_coef: float = 0.5,
    diff_order: int = 2,
) -> np.ndarray:
    """``Phi(z; z)`` of each baseline: ``sum (w / alpha) (y - z)^2 + lam |D z|^2``.

    Parameters
    ----------
    Y, Z : ndarray of shape (n_spectra, n_points) or (n_points,)
        Spectra and their baselines.
    lam : float
        Smoothness penalty.
    asymmetric_coef : float, default=0.5
        asPLS's ``k``.
    diff_order : int, default=2
        Order of the difference matrix ``D``.

    Returns
    -------
    ndarray of shape (n_spectra,), or a float for one spectrum
        Lower is the better asPLS answer.
    """
    w, alpha = aspls_weights(Y, Z, asymmetric_coef)
    Y2, Z2 = np.atleast_2d(Y).astype(np.float64), np.atleast_2d(Z).astype(np.float64)
    W, A = np.atleast_2d(w), np.atleast_2d(alpha)
    R = Y2 - Z2
    phi = (W / A * R * R).sum(axis=1) + lam * (np.diff(Z2, diff_order, axis=1) ** 2).sum(axis=1)
    return phi if np.ndim(Y) > 1 else float(phi[0])
