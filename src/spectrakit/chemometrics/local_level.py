"""Local-level (random-walk plus noise) smoothing of a prediction time series.

Where spectra are taken in time order (an on-line process probe), the predicted
concentration ``p_t`` is modelled as a slowly moving true level plus measurement noise::

    p_t  = mu_t + e_t,          e_t ~ N(0, s_e)
    mu_t = mu_{t-1} + n_t,      n_t ~ N(0, s_n)

Both variances are estimated from the prediction series itself by maximum likelihood
(Kalman filter, diffuse start, the observation variance concentrated out), so nothing but
the unlabeled predictions is read. The smoothed level is the Rauch-Tung-Striebel
smoother's mean, which equals the penalised least-squares solution
``argmin sum (p - mu)^2 + (s_e / s_n) sum (mu_t - mu_{t-1})^2``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from spectrakit.core.errors import DataError

LOG_Q_RANGE = (-14.0, 6.0)  # signal-to-noise ratio s_n / s_e searched in exp(range)


@dataclass(frozen=True)
class LocalLevelFit:
    """Maximum-likelihood local-level fit of one series.

    Attributes
    ----------
    smoothed : ndarray of shape (n,)
        Smoothed level.
    noise_var, level_var : float
        Estimated ``s_e`` and ``s_n``.
    loglik : float
        Concentrated log-likelihood at the estimate.
    """

    smoothed: np.ndarray
    noise_var: float
    level_var: float
    loglik: float


def _filter(p: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Kalman filter with ``s_e = 1`` and ``s_n = q``; the first value starts the level.

    Returns filtered means (n,), filtered variances (n,), the sum of squared standardised
    innovations and the sum of log innovation variances (both over t >= 1).
    """
    n = p.size
    a, v = np.empty(n), np.empty(n)
    a[0], v[0] = p[0], 1.0  # diffuse start: the first observation alone
    ss, logf = 0.0, 0.0
    for t in range(1, n):
        pv = v[t - 1] + q
        f = pv + 1.0
        innov = p[t] - a[t - 1]
        k = pv / f
        a[t] = a[t - 1] + k * innov
        v[t] = pv * (1.0 - k)
        ss += innov * innov / f
        logf += np.log(f)
    return a, v, ss, logf


def _smooth(a: np.ndarray, v: np.ndarray, q: float) -> np.ndarray:
    """Rauch-Tung-Striebel backward pass over the filtered means and variances."""
    s = a.copy()
    for t in range(a.size - 2, -1, -1):
        g = v[t] / (v[t] + q)
        s[t] = a[t] + g * (s[t + 1] - a[t])
    return s


def _concentrated(p: np.ndarray, log_q: float) -> float:
    """Negative concentrated log-likelihood (``s_e`` at its ML value for this ratio)."""
    _, _, ss, logf = _filter(p, float(np.exp(log_q)))
    m = p.size - 1
    return 0.5 * (m * np.log(max(ss, 1e-300) / m) + logf)


def fit_local_level(pred: np.ndarray) -> LocalLevelFit:
    """Estimate the local-level variances by maximum likelihood and smooth the series.

    Parameters
    ----------
    pred : ndarray of shape (n,)
        Predictions in time order, equally spaced, ``n >= 3``.

    Returns
    -------
    LocalLevelFit

    Raises
    ------
    DataError
        If the series is not 1-D, has fewer than 3 values or non-finite values.
    """
    p = np.asarray(pred, dtype=np.float64)
    if p.ndim != 1 or p.size < 3 or not np.all(np.isfinite(p)):
        raise DataError(
            f"expected a finite 1-D series of at least 3 predictions, got shape {p.shape}; "
            "pass one prediction per spectrum in time order"
        )
    res = minimize_scalar(lambda lq: _concentrated(p, lq), bounds=LOG_Q_RANGE, method="bounded")
    q = float(np.exp(res.x))
    a, v, ss, _ = _filter(p, q)
    noise = ss / (p.size - 1)
    return LocalLevelFit(_smooth(a, v, q), noise, q * noise, -float(res.fun))


def smooth_local_level(pred: np.ndarray) -> np.ndarray:
    """The maximum-likelihood local-level smoothed series, shape (n,) like ``pred``."""
    return fit_local_level(pred).smoothed
