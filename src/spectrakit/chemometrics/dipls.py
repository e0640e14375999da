r"""Domain-invariant PLS (di-PLS): calibrate on one instrument, stay valid on another.

Nikzad-Langerodi, Zellinger, Lughofer & Saminger-Platz (2018), "Domain-Invariant Partial
Least Squares Regression", Anal. Chem. 90, 6693-6701.

Only labeled source spectra :math:`X_s, y` and *unlabeled* target spectra :math:`X_t` are
needed; each domain is centered by its own mean. Each latent variable maximizes covariance
with :math:`y` while penalizing the difference of the score variances in both domains,

.. math::
    \max_w \; \frac{(w^\top X_s^\top y)^2}{y^\top y} - \lambda\, w^\top D\, w, \quad
    D = \tfrac{1}{n_s-1} X_s^\top X_s - \tfrac{1}{n_t-1} X_t^\top X_t,

whose closed-form solution (eq. 10 of the paper) is

.. math::
    w^\top = \frac{y^\top X_s}{y^\top y}
             \left(I + \frac{\lambda}{y^\top y} D\right)^{-1}, \quad w \leftarrow w/\|w\|.

With ``relaxation=True`` :math:`D` is replaced by its convex relaxation :math:`|D|` (same
eigenvectors, absolute eigenvalues), which keeps the inverse well defined for any
:math:`\lambda`. Both domains are deflated with their own loadings. :math:`D` has rank at
most :math:`n_s + n_t`, so the inverse is applied in that subspace (no ``p x p`` matrix).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from spectrakit.chemometrics._spectral import as_values, resolve_target
from spectrakit.core.errors import AxisError, ConfigError, DataError

__all__ = ["DIPLS", "difference_eig", "dipls_weights"]


def difference_eig(Xs: np.ndarray, Xt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-zero eigenpairs of ``D = Xs'Xs/(ns-1) - Xt'Xt/(nt-1)`` via the joint row space."""
    Z = np.vstack([Xs, Xt])  # (n, p); D = Z' G Z
    g = np.concatenate(
        [np.full(len(Xs), 1.0 / (len(Xs) - 1)), np.full(len(Xt), -1.0 / (len(Xt) - 1))]
    )
    Q, R = np.linalg.qr(Z.T)  # Z' = Q R, Q (p, n)
    K = (R * g) @ R.T  # R G R'
    vals, V = np.linalg.eigh((K + K.T) / 2)
    return vals, Q @ V


def dipls_weights(
    Xs: np.ndarray, y: np.ndarray, Xt: np.ndarray, lam: float, relaxation: bool = True
) -> np.ndarray:
    r"""Domain-invariant weight vector of one latent variable (unit norm), shape (p,).

    Parameters
    ----------
    Xs : ndarray of shape (n_s, p)
        Centered (deflated) labeled source spectra.
    y : ndarray of shape (n_s,)
        Centered (deflated) response.
    Xt : ndarray of shape (n_t, p)
        Centered (deflated) unlabeled target spectra.
    lam : float
        Invariance penalty :math:`\\lambda`; 0 gives the ordinary PLS weight.
    relaxation : bool, default=True
        Use :math:`|D|` (convex relaxation).
    """
    yy = float(y @ y)
    w = (Xs.T @ y) / yy
    if lam > 0:
        vals, U = difference_eig(Xs, Xt)
        if relaxation:
            vals = np.abs(vals)
        c = lam / yy * vals
        denom = 1.0 + c
        if np.any(np.abs(denom) < 1e-12):
            raise ConfigError(
                "di-PLS penalty makes the system singular",
                expected="relaxation=True or another lam",
                got=f"lam={lam}",
            )
        # (I + U diag(c) U')^-1 w = w - U diag(c / (1 + c)) U' w   (U has orthonormal columns)
        w = w - U @ ((c / denom) * (U.T @ w))
    norm = np.linalg.norm(w)
    if norm == 0:
        raise DataError("di-PLS found no latent variable", got="zero weight vector")
    return w / norm


class DIPLS(RegressorMixin, BaseEstimator):
    r"""Domain-invariant PLS regression (Nikzad-Langerodi et al., 2018).

    Parameters
    ----------
    n_components : int, default=2
    lam : float, default=1.0
        Domain-invariance penalty :math:`\\lambda` (0: PLS with per-domain centering).
    relaxation : bool, default=True
        Convex relaxation of the covariance-difference matrix.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    source_mean_, target_mean_ : ndarray of shape (n_features,)
    y_mean_ : float
    x_weights_ : ndarray of shape (n_features, n_components)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Xs = rng.normal(size=(30, 20)); y = Xs[:, 0]; Xt = rng.normal(size=(25, 20)) + 1
    >>> m = DIPLS(n_components=2, lam=10.0).fit(Xs, y, Xt)
    >>> m.predict(Xt).shape
    (25,)
    """

    def __init__(self, n_components: int = 2, lam: float = 1.0, relaxation: bool = True) -> None:
        self.n_components = n_components
        self.lam = lam
        self.relaxation = relaxation

    def fit(self, X: Any, y: Any, X_target: Any) -> DIPLS:
        """Fit on labeled source spectra and unlabeled target spectra.

        Parameters
        ----------
        X : Spectra or array-like of shape (n_s, p)
            Labeled source-domain spectra.
        y : array-like of shape (n_s,) or a metadata column name
        X_target : Spectra or array-like of shape (n_t, p)
            Unlabeled spectra of the target domain (new instrument), same axis.

        Returns
        -------
        self
        """
        Xs = as_values(X)
        Xt = as_values(X_target)
        t = np.asarray(resolve_target(X, y), dtype=np.float64).ravel()
        A = self._check_fit_inputs(Xs, t, Xt)
        self.source_mean_, self.target_mean_ = Xs.mean(axis=0), Xt.mean(axis=0)
        self.y_mean_ = float(t.mean())
        Xs = Xs - self.source_mean_
        Xt = Xt - self.target_mean_
        yc = t - self.y_mean_
        W, P, C = self._extract_components(Xs, yc, Xt, A)
        W_, P_ = np.stack(W, axis=1), np.stack(P, axis=1)
        self.x_weights_, self.x_loadings_ = W_, P_
        self.coef_ = W_ @ np.linalg.pinv(P_.T @ W_) @ np.asarray(C)
        self.n_components_ = W_.shape[1]
        self.n_features_in_ = W_.shape[0]
        return self

    def _check_fit_inputs(self, Xs: np.ndarray, t: np.ndarray, Xt: np.ndarray) -> int:
        """Refuse mismatched or too few spectra and bad settings; return ``n_components``."""
        if Xs.shape[1] != Xt.shape[1]:
            raise AxisError(
                "di-PLS: source and target spectra differ in length",
                expected=f"{Xs.shape[1]} points",
                got=str(Xt.shape[1]),
                fix="resample both onto one grid",
            )
        if len(t) != len(Xs):
            raise DataError(
                "one target per source spectrum", expected=str(len(Xs)), got=str(len(t))
            )
        if len(Xs) < 3 or len(Xt) < 2:
            raise DataError(
                "di-PLS needs labeled source and unlabeled target spectra",
                expected="at least 3 source and 2 target spectra",
                got=f"{len(Xs)} source, {len(Xt)} target",
            )
        if self.lam < 0:
            raise ConfigError("di-PLS lam must be >= 0", got=str(self.lam))
        A = int(self.n_components)
        if A < 1:
            raise ConfigError("n_components must be at least 1", got=str(A))
        return A

    def _extract_components(
        self, Xs: np.ndarray, yc: np.ndarray, Xt: np.ndarray, A: int
    ) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
        """Deflate centred source/target blocks component by component: weights, loadings, c."""
        W, P, C = [], [], []
        for _ in range(min(A, len(Xs) - 1)):
            if float(yc @ yc) < 1e-20:
                break
            w = dipls_weights(Xs, yc, Xt, self.lam, self.relaxation)
            ts, tt = Xs @ w, Xt @ w
            tss = float(ts @ ts)
            if tss < 1e-20:
                break
            c = float(yc @ ts) / tss
            ps = Xs.T @ ts / tss
            pt = Xt.T @ tt / max(float(tt @ tt), 1e-300)
            Xs = Xs - np.outer(ts, ps)
            Xt = Xt - np.outer(tt, pt)
            yc = yc - c * ts
            W.append(w)
            P.append(ps)
            C.append(c)
        return W, P, C

    def predict(self, X: Any, domain: str = "target") -> np.ndarray:
        """Predict, centering with the mean of the given domain.

        Parameters
        ----------
        X : Spectra or array-like of shape (n, p)
        domain : {"target", "source"}, default="target"

        Returns
        -------
        ndarray of shape (n,)
        """
        check_is_fitted(self, "coef_")
        if domain not in ("target", "source"):
            raise ConfigError("unknown domain", expected="'target' or 'source'", got=repr(domain))
        Xv = as_values(X)
        if Xv.shape[1] != self.n_features_in_:
            raise AxisError(
                "spectra have another length than in training",
                expected=str(self.n_features_in_),
                got=str(Xv.shape[1]),
            )
        mean = self.target_mean_ if domain == "target" else self.source_mean_
        return (Xv - mean) @ self.coef_ + self.y_mean_
