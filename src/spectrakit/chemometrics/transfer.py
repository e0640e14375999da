"""Calibration transfer: make a model built on one instrument work on another.

With transfer standards (the same samples measured on the master and the slave instrument):

* :class:`SlopeBiasCorrection` corrects the *predictions* (Bouveresse et al., 1994).
* :class:`DirectStandardization` maps slave spectra to master spectra with one global linear
  map ``F`` (Wang, Veltkamp & Kowalski, 1991).
* :class:`PiecewiseDirectStandardization` (PDS) fits one small regularized regression per
  master channel from a window of slave channels, plus an additive background term
  (Wang et al., 1991; Bouveresse & Massart, 1996).
* :class:`SpectralSpaceTransformation` (SST) decomposes the joined ``[master, slave]``
  spectra and maps the slave spectral space onto the master one (Du et al., 2011,
  Anal. Chim. Acta 690, 64-70).

Without standards, only unlabeled spectra of the new instrument:

* :class:`InstrumentMeanCentering` removes each instrument's mean spectrum.
* :class:`~spectrakit.chemometrics.dipls.DIPLS` (domain-invariant PLS).

Every standardizer is fitted with ``fit(master, slave)`` and maps new slave spectra with
``transform(slave_spectra)``; the result can go straight into the master's model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from spectrakit.chemometrics._spectral import as_values
from spectrakit.core.errors import AxisError, ConfigError, DataError
from spectrakit.core.spectra import Spectra

__all__ = [
    "DirectStandardization",
    "InstrumentMeanCentering",
    "PiecewiseDirectStandardization",
    "SlopeBiasCorrection",
    "SpectralSpaceTransformation",
]


def _check_same_axis(a: Any, b: Any, what: str) -> None:
    both = isinstance(a, Spectra) and isinstance(b, Spectra)
    if both and not a.axis.allclose(b.axis, rtol=1e-7, atol=1e-9):
        raise AxisError(
            f"{what}: master and slave spectra are on different axes",
            expected=a.axis.describe(),
            got=b.axis.describe(),
            fix="bring both onto one grid first, e.g. spectrakit.combine([master, slave])",
        )
    na, nb = as_values(a).shape[1], as_values(b).shape[1]
    if na != nb:
        raise AxisError(
            f"{what}: master and slave spectra have different lengths",
            expected=f"{na} points (master)",
            got=f"{nb} points (slave)",
            fix="resample both onto one grid first",
        )


def _check_standards(master: Any, slave: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    M, S = as_values(master), as_values(slave)
    if M.shape[0] != S.shape[0]:
        raise DataError(
            f"{what}: transfer standards differ in count",
            expected=f"the same samples on both instruments ({M.shape[0]} master spectra)",
            got=f"{S.shape[0]} slave spectra",
            fix="pair each master spectrum with the slave spectrum of the same sample, in order",
        )
    if M.shape[0] < 2:
        raise DataError(f"{what} needs at least 2 transfer standards", got=str(M.shape[0]))
    _check_same_axis(master, slave, what)
    return M, S


class _Standardizer(TransformerMixin, BaseEstimator):
    """fit(master, slave) on paired standards; transform(slave spectra) -> master-like."""

    def fit(self, master: Any, slave: Any) -> _Standardizer:
        """Learn the slave-to-master map from paired standards.

        Parameters
        ----------
        master : Spectra or array-like of shape (n_standards, n_points)
        slave : Spectra or array-like of shape (n_standards, n_points)
            The same samples, in the same order, measured on the slave instrument.

        Returns
        -------
        self
        """
        M, S = _check_standards(master, slave, type(self).__name__)
        self.axis_ = master.axis if isinstance(master, Spectra) else None
        self.n_features_in_ = S.shape[1]
        self._fit(M, S)
        return self

    def transform(self, X: Any) -> Any:
        """Map slave spectra to the master's response.

        Parameters
        ----------
        X : Spectra or array-like of shape (n, n_points)

        Returns
        -------
        Spectra or ndarray of shape (n, n_points)
        """
        check_is_fitted(self, "n_features_in_")
        Xv = as_values(X)
        if Xv.shape[1] != self.n_features_in_:
            raise AxisError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} points",
                expected=f"{self.n_features_in_} points",
                got=str(Xv.shape[1]),
                fix="resample the slave spectra onto the standards' grid",
            )
        if isinstance(X, Spectra) and self.axis_ is not None:
            _check_same_axis(
                X, Spectra(np.zeros((1, self.axis_.n_points)), self.axis_), "transform"
            )
        out = self._apply(Xv)
        return X.with_values(out.astype(np.float32)) if isinstance(X, Spectra) else out


def _ridge_solve(A: np.ndarray, B: np.ndarray, ridge: float, rank: int | None) -> np.ndarray:
    """Least squares ``A @ F ~ B`` via SVD with rank truncation and relative ridge."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    keep = s > s[0] * 1e-10 if s.size and s[0] > 0 else np.zeros_like(s, dtype=bool)
    if rank is not None:
        keep &= np.arange(s.size) < rank
    lam = ridge * (s[0] ** 2 if s.size else 0.0)
    filt = np.where(keep, s / (s**2 + lam), 0.0)
    return (Vt.T * filt) @ (U.T @ B)


def _local_pls(A: np.ndarray, b: np.ndarray, n_components: int) -> np.ndarray:
    """PLS1 coefficients of centered ``b`` on centered ``A`` (zero when ``b`` is flat)."""
    from spectrakit.chemometrics._pls import pls_nipals

    if not np.any(b) or not np.any(A):
        return np.zeros(A.shape[1])
    k = min(n_components, A.shape[1], A.shape[0] - 1)
    try:
        fit = pls_nipals(A, b[:, None], k)
    except DataError:
        return np.zeros(A.shape[1])
    return (fit["R"] @ fit["Q"].T)[:, 0]


class DirectStandardization(_Standardizer):
    """Direct standardization: ``x_master ~ m + (x_slave - s) F`` with one global ``F``.

    ``F = pinv(S_c) M_c`` from the centered standards (Wang, Veltkamp & Kowalski, 1991),
    computed by SVD. With few standards ``F`` is badly determined, so ``rank`` keeps only
    the leading singular directions and ``ridge`` damps small ones.

    Parameters
    ----------
    rank : int, optional
        Number of singular directions kept (default: all non-zero).
    ridge : float, default=0.0
        Tikhonov penalty relative to the largest squared singular value.

    Attributes
    ----------
    F_ : ndarray of shape (n_points, n_points)
    master_mean_, slave_mean_ : ndarray of shape (n_points,)
    """

    def __init__(self, rank: int | None = None, ridge: float = 0.0) -> None:
        self.rank = rank
        self.ridge = ridge

    def _fit(self, M: np.ndarray, S: np.ndarray) -> None:
        if self.rank is not None and self.rank < 1:
            raise ConfigError("DS rank must be at least 1", got=str(self.rank))
        self.master_mean_, self.slave_mean_ = M.mean(axis=0), S.mean(axis=0)
        self.F_ = _ridge_solve(S - self.slave_mean_, M - self.master_mean_, self.ridge, self.rank)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return (X - self.slave_mean_) @ self.F_ + self.master_mean_


class PiecewiseDirectStandardization(_Standardizer):
    """Piecewise direct standardization with an additive background term.

    Master channel ``j`` is regressed on slave channels ``j - half_width .. j + half_width``
    with an intercept. Each local regression is regularized, which keeps PDS stable with few
    standards: a ridge regression (penalty relative to the window's mean squared centered
    intensity) or a PLS regression with a few latent variables (the original proposal).

    Parameters
    ----------
    half_width : int, default=3
        Window half-width in points (window = 2 * half_width + 1, truncated at the ends).
    ridge : float, default=1e-3
        Relative ridge penalty of each local regression (``local="ridge"``).
    local : {"ridge", "pls"}, default="ridge"
        Kind of local regression.
    n_components : int, default=2
        Latent variables of each local PLS (``local="pls"``).

    Attributes
    ----------
    F_ : ndarray of shape (n_points, n_points)
        Banded transformation matrix.
    b_ : ndarray of shape (n_points,)
        Additive background term.
    """

    def __init__(
        self, half_width: int = 3, ridge: float = 1e-3, local: str = "ridge", n_components: int = 2
    ) -> None:
        self.half_width = half_width
        self.ridge = ridge
        self.local = local
        self.n_components = n_components

    def _fit(self, M: np.ndarray, S: np.ndarray) -> None:
        if self.half_width < 0:
            raise ConfigError("PDS half_width must be >= 0", got=str(self.half_width))
        if self.ridge < 0:
            raise ConfigError("PDS ridge must be >= 0", got=str(self.ridge))
        if self.local not in ("ridge", "pls"):
            raise ConfigError(
                "unknown PDS local model", expected="'ridge' or 'pls'", got=self.local
            )
        if self.local == "pls" and self.n_components < 1:
            raise ConfigError("PDS n_components must be >= 1", got=str(self.n_components))
        p = S.shape[1]
        m_mean, s_mean = M.mean(axis=0), S.mean(axis=0)
        Mc, Sc = M - m_mean, S - s_mean
        F = np.zeros((p, p))
        b = np.empty(p)
        k = int(self.half_width)
        for j in range(p):
            lo, hi = max(0, j - k), min(p, j + k + 1)
            A = Sc[:, lo:hi]
            if self.local == "pls":
                f = _local_pls(A, Mc[:, j], self.n_components)
            else:
                G = A.T @ A
                lam = self.ridge * max(float(np.trace(G)) / G.shape[0], 1e-300)
                f = np.linalg.solve(G + lam * np.eye(G.shape[0]), A.T @ Mc[:, j])
            F[lo:hi, j] = f
            b[j] = m_mean[j] - s_mean[lo:hi] @ f
        self.F_, self.b_ = F, b

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return X @ self.F_ + self.b_


class SpectralSpaceTransformation(_Standardizer):
    """Spectral space transformation (Du et al., 2011).

    The centered standards are joined side by side, ``[M_c, S_c] ~ T [P_m', P_s']``
    (truncated SVD, ``n_components`` factors). A slave spectrum's scores are estimated as
    ``t = x_c pinv(P_s')`` and its slave-specific part is swapped for the master's:
    ``x_master = m + x_c + t (P_m - P_s)'``.

    Parameters
    ----------
    n_components : int, optional
        Factors kept; default: the smallest number explaining 99.9 % of the joined
        variance.

    Attributes
    ----------
    P_master_, P_slave_ : ndarray of shape (n_points, n_components_)
    """

    def __init__(self, n_components: int | None = None) -> None:
        self.n_components = n_components

    def _fit(self, M: np.ndarray, S: np.ndarray) -> None:
        self.master_mean_, self.slave_mean_ = M.mean(axis=0), S.mean(axis=0)
        joined = np.hstack([M - self.master_mean_, S - self.slave_mean_])
        _, s, Vt = np.linalg.svd(joined, full_matrices=False)
        rank = int(np.sum(s > (s[0] if s.size else 0.0) * 1e-10))
        if rank == 0:
            raise DataError(
                "SST standards do not vary", expected="different samples", got="identical"
            )
        if self.n_components is None:
            frac = np.cumsum(s[:rank] ** 2) / np.sum(s[:rank] ** 2)
            k = int(np.searchsorted(frac, 0.999) + 1)
        else:
            k = int(self.n_components)
            if k < 1:
                raise ConfigError("SST n_components must be at least 1", got=str(k))
        k = min(k, rank)
        P = Vt[:k].T
        p = M.shape[1]
        self.P_master_, self.P_slave_ = P[:p], P[p:]
        self.n_components_ = k
        self._map = np.linalg.pinv(self.P_slave_.T) @ (self.P_master_ - self.P_slave_).T

    def _apply(self, X: np.ndarray) -> np.ndarray:
        Xc = X - self.slave_mean_
        return self.master_mean_ + Xc + Xc @ self._map


class SlopeBiasCorrection(BaseEstimator):
    """Correct slave *predictions*: ``y = a + b * y_pred`` fitted on transfer standards.

    Parameters
    ----------
    slope : bool, default=True
        Fit the slope; ``False`` corrects the bias only (safer with very few standards).

    Attributes
    ----------
    slope_, bias_ : float
    """

    def __init__(self, slope: bool = True) -> None:
        self.slope = slope

    def fit(self, y_pred: Any, y_true: Any) -> SlopeBiasCorrection:
        """Fit on the master model's predictions of slave standards and their references.

        Parameters
        ----------
        y_pred, y_true : array-like of shape (n_standards,)

        Returns
        -------
        self
        """
        p = np.asarray(y_pred, dtype=np.float64).ravel()
        t = np.asarray(y_true, dtype=np.float64).ravel()
        if p.shape != t.shape:
            raise DataError(
                "slope/bias correction: predictions and references differ in count",
                expected=str(t.size),
                got=str(p.size),
            )
        if p.size < (3 if self.slope else 1):
            raise DataError(
                "too few standards for slope/bias correction",
                expected="at least 3 (or 1 with slope=False)",
                got=str(p.size),
            )
        if self.slope and np.var(p) > 0:
            b = float(np.cov(p, t, ddof=1)[0, 1] / np.var(p, ddof=1))
        else:
            b = 1.0
        self.slope_ = b
        self.bias_ = float(t.mean() - b * p.mean())
        return self

    def transform(self, y_pred: Any) -> np.ndarray:
        """Corrected predictions, shape (n,)."""
        check_is_fitted(self, "slope_")
        return self.bias_ + self.slope_ * np.asarray(y_pred, dtype=np.float64)

    predict = transform


class InstrumentMeanCentering(TransformerMixin, BaseEstimator):
    """Move the slave's mean spectrum onto the master's, from unlabeled spectra only.

    ``x -> x - mean(slave) + mean(master)``: removes a constant instrument offset (baseline,
    background) when both instruments measured comparable populations of samples.

    Attributes
    ----------
    master_mean_, slave_mean_ : ndarray of shape (n_points,)
    """

    def fit(self, master: Any, slave: Any, keep: Any = None) -> InstrumentMeanCentering:
        """Learn both means; the two sets need not contain the same samples.

        Parameters
        ----------
        master : Spectra or array-like of shape (n_master, n_points)
        slave : Spectra or array-like of shape (n_slave, n_points)
        keep : array-like of shape (n_points,), optional
            The part of the mean difference that is a real change of the samples (the
            analyte's, from :func:`spectrakit.chemometrics.label_shift.estimate_label_shift`),
            left in the transformed spectra: ``slave_mean_`` is the slave's mean minus it.

        Returns
        -------
        self
        """
        _check_same_axis(master, slave, "InstrumentMeanCentering")
        self.master_mean_ = as_values(master).mean(axis=0)
        self.slave_mean_ = as_values(slave).mean(axis=0)
        if keep is not None:
            keep = np.asarray(keep, dtype=np.float64).ravel()
            if keep.shape != self.slave_mean_.shape:
                raise AxisError(
                    "the kept mean change has another length than the spectra",
                    expected=str(self.slave_mean_.size),
                    got=str(keep.size),
                )
            self.slave_mean_ = self.slave_mean_ - keep
        self.n_features_in_ = self.master_mean_.size
        return self

    def transform(self, X: Any) -> Any:
        """Slave spectra shifted to the master's mean; Spectra in, Spectra out."""
        check_is_fitted(self, "master_mean_")
        Xv = as_values(X)
        if Xv.shape[1] != self.n_features_in_:
            raise AxisError(
                "spectra have another length than at fit",
                expected=str(self.n_features_in_),
                got=str(Xv.shape[1]),
            )
        out = Xv - self.slave_mean_ + self.master_mean_
        return X.with_values(out.astype(np.float32)) if isinstance(X, Spectra) else out
