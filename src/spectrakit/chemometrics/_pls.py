"""PLS regression and PLS-DA with the number of latent variables chosen by inner CV.

The kernel is NIPALS with X-deflation (Wold et al., 2001, "PLS-regression: a basic tool of
chemometrics"); for several responses the weight vector is the first left singular vector of
``X'Y``, which is what the NIPALS inner loop converges to. One fit with ``A`` components
gives the coefficients of every smaller model, ``B_k = R[:, :k] Q[:, :k]'`` with
``R = W (P'W)^-1``, so the cross-validated error of all ``k <= A`` costs one fit per fold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from spectrakit.chemometrics._spectral import check_input, resolve_target
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.numeric import as_float64, refuse_nonfinite

__all__ = ["PLSDA", "PLSRegressor", "pls_nipals"]

_EPS = 1e-12


def pls_nipals(X: np.ndarray, Y: np.ndarray, n_components: int) -> dict[str, np.ndarray]:
    """PLS on centered data.

    Parameters
    ----------
    X : ndarray of shape (n, p), column-centered
    Y : ndarray of shape (n, m), column-centered
    n_components : int
        Maximum number of latent variables; fewer are returned when X runs out of rank.

    Returns
    -------
    dict
        ``W`` (p, A) weights, ``P`` (p, A) X-loadings, ``Q`` (m, A) Y-loadings, ``T`` (n, A)
        scores and ``R`` (p, A) rotations with ``T = X R``.
    """
    X = np.array(X, dtype=np.float64)
    Y = np.array(Y, dtype=np.float64)
    scale = max(float(np.abs(X).max()), _EPS)
    W, P, Q, T = [], [], [], []
    for _ in range(n_components):
        C = X.T @ Y
        w = C[:, 0] if C.shape[1] == 1 else np.linalg.svd(C, full_matrices=False)[0][:, 0]
        norm = np.linalg.norm(w)
        if norm < _EPS * scale:
            break
        w = w / norm
        t = X @ w
        tt = float(t @ t)
        if tt < (_EPS * scale) ** 2 * len(t):
            break
        p = X.T @ t / tt
        q = Y.T @ t / tt
        X -= np.outer(t, p)
        Y -= np.outer(t, q)
        W.append(w)
        P.append(p)
        Q.append(q)
        T.append(t)
    if not W:
        raise DataError(
            "PLS found no latent variable",
            expected="spectra that vary with the target",
            got="constant spectra or a constant target",
            fix="check the data and the preprocessing",
        )
    W_, P_, Q_, T_ = (np.stack(a, axis=1) for a in (W, P, Q, T))
    R = W_ @ np.linalg.pinv(P_.T @ W_)
    return {"W": W_, "P": P_, "Q": Q_, "T": T_, "R": R}


def _predict_all(Xc: np.ndarray, R: np.ndarray, Q: np.ndarray, y_mean: np.ndarray) -> np.ndarray:
    """Predictions of the 1..A component models, shape (A, n, m)."""
    T = Xc @ R  # (n, A)
    contrib = T[:, :, None] * Q.T[None, :, :]  # (n, A, m)
    return np.cumsum(contrib, axis=1).transpose(1, 0, 2) + y_mean


class _PLSBase(TransformerMixin, BaseEstimator):
    """Shared fitting: centering (optional scaling), inner-CV choice of components."""

    def __init__(
        self,
        n_components: int | None = None,
        *,
        max_components: int = 15,
        cv: int | Any = 10,
        selection: str = "min",
        scale: bool = False,
    ) -> None:
        self.n_components = n_components
        self.max_components = max_components
        self.cv = cv
        self.selection = selection
        self.scale = scale

    # subclasses: _encode(y) -> Y (n, m); _loss(Y_true, Y_hat_all (A, n, m)) -> (A,)
    def _center(self, X: np.ndarray, Y: np.ndarray):
        x_mean = X.mean(axis=0)
        x_std = X.std(axis=0, ddof=1) if self.scale else np.ones(X.shape[1])
        x_std = np.where(x_std > _EPS, x_std, 1.0)
        y_mean = Y.mean(axis=0)
        return (X - x_mean) / x_std, Y - y_mean, x_mean, x_std, y_mean

    def _fit_kernel(self, X: np.ndarray, Y: np.ndarray, A: int) -> dict:
        Xc, Yc, x_mean, x_std, y_mean = self._center(X, Y)
        out = pls_nipals(Xc, Yc, A)
        out.update(x_mean=x_mean, x_std=x_std, y_mean=y_mean)
        return out

    def _splitter(self, y: np.ndarray):
        if hasattr(self.cv, "split"):
            return self.cv
        k = int(self.cv)
        if k < 2:
            raise ConfigError("inner cross-validation needs at least 2 folds", got=str(k))
        return KFold(min(k, len(y)))

    def _select(self, X: np.ndarray, Y: np.ndarray, y_raw: np.ndarray) -> int:
        if self.selection not in ("min", "1se"):
            raise ConfigError(
                "unknown component selection rule",
                expected="'min' or '1se'",
                got=repr(self.selection),
            )
        splits = list(self._splitter(y_raw).split(X, y_raw))
        smallest_train = min(len(tr) for tr, _ in splits)
        A = int(min(self.max_components, smallest_train - 1, X.shape[1]))
        if A < 1:
            raise DataError(
                "too few spectra to choose PLS components by cross-validation",
                expected="at least 3 training spectra",
                got=str(len(X)),
                fix="pass n_components explicitly",
            )
        losses = np.full((len(splits), A), np.nan)
        for f, (tr, te) in enumerate(splits):
            k = self._fit_kernel(X[tr], Y[tr], A)
            preds = _predict_all((X[te] - k["x_mean"]) / k["x_std"], k["R"], k["Q"], k["y_mean"])
            loss = self._loss(Y[te], preds)
            losses[f, : len(loss)] = loss
        # models that ran out of rank in a fold repeat their last component count
        losses = np.where(np.isnan(losses), np.nanmax(losses, axis=1, keepdims=True), losses)
        self.cv_losses_ = losses
        mean = losses.mean(axis=0)
        best = int(np.argmin(mean))
        if self.selection == "1se" and len(splits) > 1:
            se = losses[:, best].std(ddof=1) / np.sqrt(len(splits))
            best = int(np.flatnonzero(mean <= mean[best] + se)[0])
        return best + 1

    def _fit(self, X: Any, y: Any):
        y_raw = resolve_target(X, y)
        Xv, y_raw = check_input(
            self, X, reset=True, y=y_raw, classifier=isinstance(self, ClassifierMixin)
        )
        Y = self._encode(y_raw)
        if self.n_components is None:
            A = self._select(Xv, Y, y_raw)
        else:
            A = int(self.n_components)
            if A < 1:
                raise ConfigError("n_components must be at least 1", got=str(A))
            A = min(A, len(Xv) - 1, Xv.shape[1])
        k = self._fit_kernel(Xv, Y, A)
        self.n_components_ = k["R"].shape[1]
        self.x_mean_, self.x_std_, self.y_mean_ = k["x_mean"], k["x_std"], k["y_mean"]
        self.x_weights_, self.x_loadings_, self.y_loadings_ = k["W"], k["P"], k["Q"]
        self.x_rotations_ = k["R"]
        self.x_scores_ = k["T"]
        # coef_ in sklearn's convention: Y = X @ coef_.T + intercept_
        B = (k["R"] @ k["Q"].T) / self.x_std_[:, None]
        self.coef_ = B.T
        self.intercept_ = self.y_mean_ - self.x_mean_ @ B
        return self

    def _decision(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        Xv = check_input(self, X, reset=False)
        return Xv @ self.coef_.T + self.intercept_

    def transform(self, X: Any) -> np.ndarray:
        """Latent-variable scores, shape (n_spectra, n_components_)."""
        check_is_fitted(self, "coef_")
        return (
            (check_input(self, X, reset=False) - self.x_mean_) / self.x_std_
        ) @ self.x_rotations_


class PLSRegressor(RegressorMixin, _PLSBase):
    """PLS regression; the number of latent variables is chosen by inner K-fold CV.

    Parameters
    ----------
    n_components : int, optional
        Fixed number of latent variables; ``None`` (default) chooses it by inner CV.
    max_components : int, default=15
        Largest number tried by inner CV.
    cv : int or splitter, default=10
        Inner folds (contiguous ``KFold``) or any scikit-learn splitter.
    selection : {"min", "1se"}, default="min"
        ``"min"``: the count with the lowest mean fold RMSE; ``"1se"``: the smallest count
        whose mean RMSE is within one standard error of that minimum (Hastie et al., 2009,
        section 7.10), which favours simpler, more robust models.
    scale : bool, default=False
        Autoscale columns (spectra are usually only mean-centered).

    Attributes
    ----------
    n_components_ : int
    coef_ : ndarray of shape (n_targets, n_features)
    intercept_ : ndarray of shape (n_targets,)
    cv_losses_ : ndarray of shape (n_folds, max_components)
        Fold RMSE of each candidate (when chosen by CV).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 30)); y = X[:, :3] @ [1.0, -2.0, 0.5]
    >>> PLSRegressor(max_components=8).fit(X, y).n_components_ <= 8
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # PLS2: several targets at once
        return tags

    def _encode(self, y: np.ndarray) -> np.ndarray:
        Y = as_float64(
            y,
            "PLS regression needs a numeric target",
            expected="numbers",
            got=lambda v: str(np.asarray(v).dtype),
            fix="use plsda for class labels",
        )
        refuse_nonfinite(
            Y,
            "target has missing values",
            expected="a value for every training spectrum",
            what="missing",
            fix="drop spectra without a reference value",
        )
        self._single_ = Y.ndim == 1
        return Y.reshape(len(Y), -1)

    def _loss(self, Y_true: np.ndarray, preds: np.ndarray) -> np.ndarray:
        return np.sqrt(np.mean((preds - Y_true[None]) ** 2, axis=(1, 2)))

    def fit(self, X: Any, y: Any) -> PLSRegressor:
        """Fit on spectra ``X`` (Spectra or array (n, p)) and targets ``y`` (n,) or (n, m)."""
        return self._fit(X, y)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets, shape (n,) for one target or (n, m)."""
        Y = self._decision(X)
        return Y[:, 0] if self._single_ else Y


class PLSDA(ClassifierMixin, _PLSBase):
    """PLS discriminant analysis: PLS2 on one-hot classes, the largest response wins.

    Parameters are those of :class:`PLSRegressor`; inner CV (stratified when possible)
    minimizes the misclassification rate.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)

    Notes
    -----
    ``predict_proba`` clips the PLS responses at zero and normalizes them to sum to one; it
    ranks classes well but is not a calibrated probability (see the ECE in reports).
    """

    def _encode(self, y: np.ndarray) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim != 1:
            raise DataError(
                "PLS-DA takes one label column", expected="shape (n,)", got=str(y.shape)
            )
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError("PLS-DA needs at least two classes", got=str(list(self.classes_)))
        return np.eye(len(self.classes_))[codes]

    def _splitter(self, y: np.ndarray):
        if hasattr(self.cv, "split"):
            return self.cv
        k = int(self.cv)
        _, counts = np.unique(y, return_counts=True)
        if counts.min() >= min(k, 2):
            return StratifiedKFold(min(k, int(counts.min())), shuffle=True, random_state=0)
        return super()._splitter(y)

    def _loss(self, Y_true: np.ndarray, preds: np.ndarray) -> np.ndarray:
        return (preds.argmax(axis=2) != Y_true.argmax(axis=1)[None]).mean(axis=1)

    def fit(self, X: Any, y: Any) -> PLSDA:
        """Fit on spectra ``X`` and class labels ``y`` (n,)."""
        return self._fit(X, y)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Normalized, non-negative PLS responses, shape (n, n_classes)."""
        Y = np.clip(self._decision(X), 0.0, None) + 1e-6
        return Y / Y.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels, shape (n,)."""
        scores = self._decision(X)
        return self.classes_[scores.argmax(axis=1)]
