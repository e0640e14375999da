"""Hotelling T² and Q residuals of a PLS model, with their confidence limits, combined.

The detector scores the features of a PLS bundle: the A latent scores ``t`` and the
residual norm ``sqrt(Q)`` (``Q = |x - t P'|²``, the squared prediction error).

- T² limit (a new observation, Jackson 1991; Nomikos & MacGregor 1995):
  ``A (n - 1)(n + 1) / (n (n - A)) F(1 - alpha; A, n - A)``.
- Q limit: Box's (1954) approximation ``g chi²(1 - alpha; h)`` with ``g = var / (2 mean)``,
  ``h = 2 mean² / var`` of the training Q values (Nomikos & MacGregor 1995).

The score is ``max(T² / T²_lim, Q / Q_lim)``: above 1 one of the two statistics is beyond
its limit. :meth:`calibrate` then sets the threshold on held-out in-distribution spectra
(cross-validated ones in a chemometric bundle) at the stated false-rejection rate, because
training residuals understate those of new spectra.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.ood._base import OODDetector, register_detector

__all__ = ["HotellingQ"]


@register_detector
class HotellingQ(OODDetector):
    """Hotelling T² and Q residuals with F / Box limits at ``confidence``.

    Parameters
    ----------
    confidence : float, default=0.95
        Confidence level of the two limits (before calibration of the threshold).
    """

    name = "t2q"
    input_kind = "embedding"

    def __init__(self, confidence: float = 0.95) -> None:
        self.confidence = confidence

    def _fit(self, X: np.ndarray, y: np.ndarray | None) -> None:
        if not 0.5 <= float(self.confidence) < 1.0:
            raise ConfigError(
                "invalid T2/Q confidence", expected="a level in [0.5, 1)", got=str(self.confidence)
            )
        n, width = X.shape
        a = width - 1
        if a < 1 or n <= a + 1:
            raise DataError(
                "T2/Q needs more spectra than latent variables",
                expected=f"more than {a + 1} spectra and at least one latent variable",
                got=f"{n} spectra, {a} latent variables",
                fix="add training spectra or use fewer PLS components",
            )
        t, q = X[:, :a], X[:, a] ** 2
        self.score_var_ = np.maximum(t.var(axis=0, ddof=1), 1e-300)
        alpha = 1.0 - float(self.confidence)
        f = stats.f.ppf(1.0 - alpha, a, n - a)
        t2_limit = a * (n - 1) * (n + 1) / (n * (n - a)) * f
        mean, var = float(q.mean()), float(q.var(ddof=1))
        if var <= 0 or mean <= 0:
            q_limit = max(mean, 1e-300) * 2.0
        else:
            g, h = var / (2.0 * mean), 2.0 * mean**2 / var
            q_limit = g * stats.chi2.ppf(1.0 - alpha, h)
        self.limits_ = np.array([t2_limit, max(q_limit, 1e-300)])

    def statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """T² and Q of each row of ``X`` (n, A + 1)."""
        X = self._check(X)
        a = X.shape[1] - 1
        return (X[:, :a] ** 2 / self.score_var_).sum(axis=1), X[:, a] ** 2

    def _score(self, X: np.ndarray) -> np.ndarray:
        t2, q = self.statistics(X)
        return np.maximum(t2 / self.limits_[0], q / self.limits_[1])

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"score_var": self.score_var_, "limits": self.limits_}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.score_var_, self.limits_ = arrays["score_var"], arrays["limits"]
