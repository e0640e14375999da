"""The asPLS objective: the penalised weighted residual of a baseline at its own weights.

asPLS (Zhang et al. 2020) derives, from a baseline ``z`` of a spectrum ``y``, the residual
``r = y - z``, the spread ``sigma`` of its negative part (standard deviation, ddof=1), the
weights ``w = expit(-k (r - sigma) / sigma)`` and the local smoothness
``alpha = max(|r| / max |r|, eps)``. Its next baseline minimises
``Phi(z'; z) = sum (w / alpha) (y - z')^2 + lam |D z'|^2``, so an answer is a fixed point,
and two answers are compared by ``Phi(z; z)``: lower is better.
"""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing.baseline._fastexp import expit

__all__ = ["aspls_objective", "aspls_weights"]

_EPS = float(np.finfo(float).eps)
_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _spread(y, z):  # pragma: no cover - compiled
    """``(sigma, max |r|)`` of ``r = y - z``: ddof=1 spread of the negative residuals.

    ``sigma`` is machine epsilon when fewer than two residuals are negative or they do not
    spread; ``max |r|`` is at least machine epsilon.
    """
    count, total, absmax = 0, 0.0, 0.0
    for j in range(y.size):
        r = y[j] - z[j]
        absmax = max(absmax, abs(r))
        if r < 0:
            count += 1
            total += r
    mean = total / max(count, 1)
    ss = 0.0
    for j in range(y.size):
        r = y[j] - z[j]
        if r < 0:
            ss += (r - mean) * (r - mean)
    var = ss / max(count - 1, 1)
    sigma = np.sqrt(var) if count >= 2 and var > 0 else _EPS
    return sigma, max(absmax, _EPS)


@_jit
def _weights_rows(Y, Z, k, W, A):  # pragma: no cover - compiled
    """The weights into ``W`` and local smoothness into ``A`` (all (n_spectra, n_points))."""
    for i in range(Y.shape[0]):
        sigma, absmax = _spread(Y[i], Z[i])
        for j in range(Y.shape[1]):
            r = Y[i, j] - Z[i, j]
            W[i, j] = expit(-(k / sigma) * (r - sigma))
            A[i, j] = max(abs(r) / absmax, _EPS)


@_jit
def _objective_rows(Y, Z, lam, k, coef, out):  # pragma: no cover - compiled
    """``Phi(z; z)`` of each row into ``out`` (``coef``: the difference stencil of ``D``)."""
    d = coef.size - 1
    for i in range(Y.shape[0]):
        sigma, absmax = _spread(Y[i], Z[i])
        fid, pen = 0.0, 0.0
        for j in range(Y.shape[1]):
            r = Y[i, j] - Z[i, j]
            alpha = max(abs(r) / absmax, _EPS)
            fid += expit(-(k / sigma) * (r - sigma)) / alpha * r * r
        for j in range(d, Y.shape[1]):
            t = 0.0
            for m in range(d + 1):
                t += coef[m] * Z[i, j - d + m]
            pen += t * t
        out[i] = fid + lam * pen


def _rows(Y: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Y`` and ``Z`` as C-contiguous float64 2-D arrays of one shape."""
    Y2 = np.ascontiguousarray(np.atleast_2d(np.asarray(Y, dtype=np.float64)))
    Z2 = np.ascontiguousarray(np.broadcast_to(np.atleast_2d(np.asarray(Z, np.float64)), Y2.shape))
    return Y2, Z2


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
    Y2, Z2 = _rows(Y, Z)
    w, alpha = np.empty_like(Y2), np.empty_like(Y2)
    _weights_rows(Y2, Z2, float(asymmetric_coef), w, alpha)
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
    Y2, Z2 = _rows(Y, Z)
    coef = np.diff(np.eye(diff_order + 1), diff_order, axis=0)[0].copy()
    phi = np.empty(Y2.shape[0])
    _objective_rows(Y2, Z2, float(lam), float(asymmetric_coef), coef, phi)
    return phi if np.ndim(Y) > 1 else float(phi[0])
