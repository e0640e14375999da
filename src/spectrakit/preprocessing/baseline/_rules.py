"""Weighting rules of the Whittaker baselines, separate from the lane engine that runs them.

A rule is two compiled functions: ``prepare(params, lane, s, it)`` sets lane ``s``'s
scalars from the statistics of its last solution (iteration ``it``, counted from 0), and
``weight(params, lane, s, y, z) -> (w, alpha)`` gives the new weight of one point (``y``
the spectrum, ``z`` the solution) and the row scale ``alpha`` of the next system
``(W + diag(alpha) lam D'D) z = W y`` (1 for all but asPLS). Each follows the
corresponding :mod:`pybaselines` method. ``params`` is a float64 array of the method's
options; the rule scalars live after the shared statistics (``N_STATS``) in ``lane``.
"""

from __future__ import annotations

import numba
import numpy as np

from spectrakit.preprocessing.baseline._fastexp import exp, expit
from spectrakit.preprocessing.baseline._lanes import ABSMAX, LANES, MEAN, N_STATS, STD, TOTAL, u

__all__ = [
    "AIRPLS",
    "ARPLS",
    "ASLS",
    "ASPLS",
    "DRPLS",
    "N_SCALARS",
    "W_DIV",
    "Y_L1",
    "prepare",
    "weight_airpls",
    "weight_arpls",
    "weight_asls",
    "weight_aspls",
    "weight_drpls",
]

#: rule ids (the engine dispatches on them once per step, outside the point loops)
ASLS, ARPLS, ASPLS, DRPLS, AIRPLS = range(5)
SLOPE, SHIFT, Y_L1, W_DIV = ((N_STATS + k) * LANES for k in range(4))
N_SCALARS = N_STATS + 4
_EPS = float(np.finfo(float).eps)
_inline = numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")


@numba.njit(cache=True, nogil=True, error_model="numpy")
def prepare(rule, params, lane, s, it):  # pragma: no cover - compiled
    """Lane ``s``'s rule scalars for the next weights (after :func:`._lanes.negative_stats`)."""
    std, mean = lane[STD + s], lane[MEAN + s]
    if rule == ARPLS:  # logistic in the residual, centred 2 noise sigmas below the mean
        lane[SLOPE + s] = -(2.0 / std)
        lane[SHIFT + s] = 2.0 * std - mean
    elif rule == ASPLS:  # logistic with steepness asymmetric_coef / sigma
        lane[SLOPE + s] = -(params[0] / std)
    elif rule == DRPLS:  # exp(t) turns the logistic weighting into a step as t grows
        lane[SLOPE + s] = np.exp(min(it + 1, 100)) / std
        lane[SHIFT + s] = 2.0 * std - mean
    elif rule == AIRPLS:  # exp(t |r| / |sum r-|) on negative residuals at iteration t
        neg_l1 = lane[TOTAL + s]
        lane[SLOPE + s] = min(it + 1, 50) / neg_l1 if neg_l1 < 0 else 0.0
        lane[Y_L1 + s] = 0.0
        lane[W_DIV + s] = 0.0


@_inline
def weight_asls(params, lane, s, y, z):  # pragma: no cover - compiled
    """AsLS: ``p`` above the baseline, ``1 - p`` below."""
    p = params[0]
    return (p if y > z else 1.0 - p), 1.0


@_inline
def weight_arpls(params, lane, s, y, z):  # pragma: no cover - compiled
    """arPLS: ``expit(-2 (r - (2 sigma - mean)) / sigma)`` of the negative residuals."""
    return expit(lane[u(SLOPE + s)] * ((y - z) - lane[u(SHIFT + s)])), 1.0


@_inline
def weight_aspls(params, lane, s, y, z):  # pragma: no cover - compiled
    """asPLS: ``expit(-k (r - sigma) / sigma)``; ``alpha = |r| / max |r|`` (>= eps)."""
    r = y - z
    alpha = max(abs(r) / lane[u(ABSMAX + s)], _EPS)  # < eps only where r is rounding level
    return expit(lane[u(SLOPE + s)] * (r - lane[u(STD + s)])), alpha


@_inline
def weight_drpls(params, lane, s, y, z):  # pragma: no cover - compiled
    """drPLS: ``0.5 (1 - t / (1 + |t|))``, ``t = e^it (r - (2 sigma - mean)) / sigma``."""
    inner = lane[u(SLOPE + s)] * ((y - z) - lane[u(SHIFT + s)])
    return 0.5 * (1.0 - inner / (1.0 + abs(inner))), 1.0


@_inline
def weight_airpls(params, lane, s, y, z):  # pragma: no cover - compiled
    """airPLS: ``exp(t |r| / |sum r-|)`` below the baseline, 0 above (before normalising)."""
    r = y - z
    return (exp(max(lane[u(SLOPE + s)] * r, 0.0)) if r < 0 else 0.0), 1.0  # <= e**709
