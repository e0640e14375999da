r"""Outlier screening of the training spectra by Hotelling :math:`T^2` and Q (SPE), inside CV.

Mishra & Passos (2021, Chemom. Intell. Lab. Syst. 212, 104287) removed outlying training
spectra with a PLS model's Hotelling :math:`T^2` and Q residual before training their
networks. :class:`OutlierScreen` does this on one training set: a PCA (or PLS) model of
the mean-centered spectra, then

- :math:`T^2_i = \sum_a t_{ia}^2 / \lambda_a` with the limit
  :math:`A (n - 1) / (n - A) \, F_{c}(A, n - A)` (Jackson 1991, eq. 1.7.5);
- :math:`Q_i = \lVert x_i - \hat x_i \rVert^2` with the limit of Jackson & Mudholkar (1979)
  from the residual eigenvalues :math:`\theta_k = \sum_{j > A} \lambda_j^k`, or Box's (1954)
  :math:`g \chi^2_c(h)` with :math:`g = \theta_2 / \theta_1`, :math:`h = \theta_1^2 / \theta_2`;

a spectrum over either limit at confidence ``c`` is an outlier. :func:`screen_cv` chooses
the confidence, or no screening, by cross-validation: in every fold the screen is fitted on
the training rows only, the flagged rows are dropped from that fold's training rows only,
and the model is scored on all held-out rows (which never enter the screen).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from spectrakit.core.errors import ConfigError, DataError

__all__ = [
    "CONFIDENCES",
    "OutlierScreen",
    "ScreenChoice",
    "check_screen",
    "pls_factory",
    "q_limit",
    "screen_cv",
    "screen_training",
    "t2_limit",
]

#: confidences :func:`screen_cv` tries besides no screening.
CONFIDENCES = (0.99, 0.975, 0.95)
_METHODS = ("pca", "pls")
_Q_LIMITS = ("jackson-mudholkar", "box")


def check_screen(value: Any) -> float | str | None:
    """``None``/``"off"`` (no screening), ``"cv"`` (chosen by CV) or a confidence in (0.5, 1)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("off", "none")):
        return None
    if isinstance(value, str) and value.strip().lower() in ("cv", "auto"):
        return "cv"
    try:
        conf = float(value)
    except (TypeError, ValueError):
        conf = float("nan")
    if not 0.5 < conf < 1.0 or isinstance(value, bool):
        raise ConfigError(
            "invalid outlier screening",
            expected="off, cv, or a confidence in (0.5, 1) such as 0.99",
            got=repr(value),
        )
    return conf


def t2_limit(n: int, n_components: int, confidence: float) -> float:
    """Hotelling :math:`T^2` limit ``A (n - 1) / (n - A) F_c(A, n - A)``."""
    a = int(n_components)
    return float(a * (n - 1) / (n - a) * stats.f.ppf(confidence, a, n - a))


def q_limit(residual_eigenvalues: np.ndarray, confidence: float, method: str) -> float:
    """Q (SPE) limit from the eigenvalues (k,) of the residual covariance.

    ``method``: ``"jackson-mudholkar"`` (normal approximation, Jackson & Mudholkar 1979)
    or ``"box"`` (scaled chi-square, Box 1954).
    """
    lam = np.asarray(residual_eigenvalues, dtype=np.float64)
    th1, th2, th3 = (float(np.sum(lam**k)) for k in (1, 2, 3))
    if th1 <= 0 or th2 <= 0:
        return 0.0  # the model reproduces the training spectra exactly
    if method == "box":
        return float(th2 / th1 * stats.chi2.ppf(confidence, th1**2 / th2))
    h0 = max(1.0 - 2.0 * th1 * th3 / (3.0 * th2**2), 1e-3)
    z = stats.norm.ppf(confidence)
    inner = z * np.sqrt(2.0 * th2 * h0**2) / th1 + 1.0 + th2 * h0 * (h0 - 1.0) / th1**2
    return float(th1 * max(inner, 0.0) ** (1.0 / h0))


@dataclass
class OutlierScreen:
    """Hotelling :math:`T^2` / Q outlier screen fitted on one training set.

    Parameters
    ----------
    confidence : float, default=0.99
        Confidence of both limits.
    n_components : int, optional
        Latent variables A (default: the fewest PCA components explaining 99 % of the
        variance, at most 10 and at most n - 3).
    method : {"pca", "pls"}, default="pca"
        PLS needs the targets in :meth:`fit`.
    q_method : {"jackson-mudholkar", "box"}, default="jackson-mudholkar"

    Attributes
    ----------
    t2_limit_, q_limit_ : float
    n_components_ : int
    outliers_ : ndarray of bool, shape (n,)
        The training spectra over a limit.
    """

    confidence: float = 0.99
    n_components: int | None = None
    method: str = "pca"
    q_method: str = "jackson-mudholkar"
    outliers_: np.ndarray = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        if check_screen(self.confidence) in (None, "cv"):
            raise ConfigError("a screen needs a confidence", expected="a value in (0.5, 1)",
                              got=repr(self.confidence))  # fmt: skip
        if self.method not in _METHODS or self.q_method not in _Q_LIMITS:
            raise ConfigError(
                "unknown screening model or Q limit",
                expected=f"method in {_METHODS}, q_method in {_Q_LIMITS}",
                got=f"{self.method!r}, {self.q_method!r}",
            )

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> OutlierScreen:
        """Fit the latent model and both limits on training spectra X (n, L)."""
        X = _checked(X)
        n = len(X)
        if n < 5:
            raise DataError("outlier screening needs at least 5 training spectra", got=str(n))
        self.mean_ = X.mean(axis=0)
        Xc = X - self.mean_
        a = self._components(Xc)
        if self.method == "pls":
            self._fit_pls(Xc, y, a)
        else:
            vt = np.linalg.svd(Xc, full_matrices=False)[2]
            self.rotations_ = self.loadings_ = vt[:a].T
        T = Xc @ self.rotations_
        self.score_var_ = np.maximum(T.var(axis=0, ddof=1), 1e-12)
        resid = Xc - T @ self.loadings_.T
        eig = np.linalg.svd(resid, compute_uv=False) ** 2 / (n - 1)
        self.n_components_ = a
        self.t2_limit_ = t2_limit(n, a, self.confidence)
        self.q_limit_ = q_limit(eig, self.confidence, self.q_method)
        self.outliers_ = self.flags(X)
        return self

    def _components(self, Xc: np.ndarray) -> int:
        cap = max(min(10, len(Xc) - 3), 1)
        if self.n_components is not None:
            a = int(self.n_components)
            if not 1 <= a <= len(Xc) - 2:
                raise ConfigError("invalid screening components", expected=f"1..{len(Xc) - 2}",
                                  got=str(a))  # fmt: skip
            return a
        s2 = np.linalg.svd(Xc, compute_uv=False) ** 2
        share = np.cumsum(s2) / max(s2.sum(), 1e-300)
        return int(min(np.searchsorted(share, 0.99) + 1, cap))

    def _fit_pls(self, Xc: np.ndarray, y: np.ndarray | None, a: int) -> None:
        from sklearn.cross_decomposition import PLSRegression

        if y is None:
            raise ConfigError("a PLS screen needs the targets", fix="fit(X, y) or method='pca'")
        yy = np.asarray(y)
        if yy.dtype.kind not in "biuf":  # class labels: one-hot (PLS-DA)
            yy = (yy.reshape(-1, 1) == np.unique(yy)[None, :]).astype(np.float64)
        yy = yy.astype(np.float64).reshape(len(Xc), -1)
        pls = PLSRegression(n_components=a, scale=False).fit(Xc, yy)
        self.rotations_, self.loadings_ = pls.x_rotations_, pls.x_loadings_

    def statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hotelling :math:`T^2` (n,) and Q (n,) of spectra X (n, L)."""
        Xc = _checked(X, len(self.mean_)) - self.mean_
        T = Xc @ self.rotations_
        t2 = np.sum(T**2 / self.score_var_, axis=1)
        q = np.sum((Xc - T @ self.loadings_.T) ** 2, axis=1)
        return t2, q

    def flags(self, X: np.ndarray) -> np.ndarray:
        """True (n,) where a spectrum exceeds the :math:`T^2` or the Q limit."""
        t2, q = self.statistics(X)
        return (t2 > self.t2_limit_) | (q > self.q_limit_ * (1 + 1e-9))


def _checked(X: Any, n_points: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or (n_points is not None and X.shape[1] != n_points):
        raise DataError("spectra of the wrong shape for the screen",
                        expected=f"(n, {n_points or 'L'})", got=str(X.shape))  # fmt: skip
    if not np.isfinite(X).all():
        raise DataError("spectra hold NaN or infinite values", fix="clean or drop them first")
    return X


@dataclass
class ScreenChoice:
    """The screening confidence chosen by CV.

    Attributes
    ----------
    confidence : float or None
        None: no screening won.
    cv_error : dict of str to float
        CV error (RMSE or error rate) per candidate (``"off"``, ``"0.99"``, ...).
    dropped : dict of str to float
        Mean share of each training fold flagged, per candidate.
    predictions : dict of str to ndarray
        Out-of-fold predictions (n,) per candidate.
    """

    confidence: float | None
    cv_error: dict[str, float]
    dropped: dict[str, float]
    predictions: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_config(self) -> dict[str, Any]:
        """JSON-able record."""
        return {"confidence": self.confidence, "cv_error": self.cv_error, "dropped": self.dropped}


def _key(conf: float | None) -> str:
    return "off" if conf is None else f"{conf:g}"


def screen_cv(
    make_model: Callable[[], Any],
    X: np.ndarray,
    y: np.ndarray,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    confidences: Sequence[float] = CONFIDENCES,
    task: str = "regression",
    **screen: Any,
) -> ScreenChoice:
    """Choose the screening confidence (or none) by CV of ``make_model()`` on ``X, y``.

    Parameters
    ----------
    make_model : callable
        Returns an unfitted estimator with ``fit(X, y)`` and ``predict(X)`` on arrays.
    X : ndarray of shape (n, L)
    y : ndarray of shape (n,)
    folds : sequence of (train, val) index arrays
    confidences : sequence of float
    task : {"regression", "classification"}
    **screen
        :class:`OutlierScreen` options (``n_components``, ``method``, ``q_method``).

    Returns
    -------
    ScreenChoice
        The lowest CV error wins; a tie keeps the earlier candidate (``off`` first).
    """
    X, y = _checked(X), np.asarray(y)
    errors, dropped, preds = {}, {}, {}
    for conf in (None, *confidences):
        oof = np.empty(y.shape, dtype=object if task == "classification" else np.float64)
        share = []
        for tr, va in folds:
            keep = np.ones(len(tr), dtype=bool)
            if conf is not None:
                keep = ~OutlierScreen(conf, **screen).fit(X[tr], y[tr]).outliers_
            share.append(1.0 - keep.mean())
            model = make_model().fit(X[tr][keep], y[tr][keep])
            oof[va] = np.asarray(model.predict(X[va])).reshape(oof[va].shape)
        errors[_key(conf)], preds[_key(conf)] = _error(oof, y, task), oof
        dropped[_key(conf)] = float(np.mean(share))
    best = min(errors, key=lambda k: errors[k])
    return ScreenChoice(None if best == "off" else float(best), errors, dropped, preds)


def _error(pred: np.ndarray, y: np.ndarray, task: str) -> float:
    if task == "classification":
        return float(np.mean(pred != y))
    return float(np.sqrt(np.mean((pred.astype(np.float64) - y) ** 2)))


def screen_training(
    train: Any,
    targets: Sequence[str],
    screen: Any,
    *,
    task: str = "regression",
    groups: str | None = None,
    seed: int = 0,
) -> tuple[Any, dict[str, Any] | None]:
    """Training spectra without their T2/Q outliers, and the record of what was done.

    Parameters
    ----------
    train : Spectra
        Training spectra (the validation spectra are never screened or used).
    targets : sequence of str
        Target columns (the PLS/PLS-DA model of ``screen="cv"``).
    screen : "off", "cv" or a confidence
        See :func:`check_screen`; ``"cv"``: 5-fold CV of PLS (PLS-DA for classes) on
        ``train`` chooses off or one of :data:`CONFIDENCES`.
    task : str
    groups : str, optional
        Metadata column whose groups never straddle a fold.
    seed : int

    Returns
    -------
    (Spectra, dict or None)
        The kept spectra; ``None`` when screening is off, else ``confidence``, the rows
        ``dropped`` (positions in ``train``) and, with ``"cv"``, the CV table.
    """
    conf = check_screen(screen)
    if conf is None:
        return train, None
    record: dict[str, Any] = {}
    if conf == "cv":
        conf, record = _cv_choice(train, targets, task, groups, seed)
    if conf is None:
        return train, {"confidence": None, "dropped": [], **record}
    flags = OutlierScreen(conf).fit(train.values).outliers_
    if flags.all() or len(train) - flags.sum() < 5:
        raise DataError("outlier screening would leave fewer than 5 training spectra",
                        got=f"{int(flags.sum())} of {len(train)} flagged",
                        fix="screen off or a higher confidence")  # fmt: skip
    dropped = np.flatnonzero(flags).tolist()
    return train.select(np.flatnonzero(~flags)), {**record, "confidence": conf,
                                                   "dropped": dropped}  # fmt: skip


def pls_factory(task: str) -> Callable[[], Any]:
    """A maker of unfitted PLS (regression) or PLS-DA, LVs by inner 5-fold CV.

    Its CV error chooses the screening confidence.
    """
    from spectrakit.chemometrics import PLSDA, PLSRegressor

    return (lambda: PLSRegressor(cv=5)) if task == "regression" else (lambda: PLSDA(cv=5))


def _cv_choice(train: Any, targets, task, groups, seed) -> tuple[float | None, dict]:
    from spectrakit.chemometrics import resolve_target
    from spectrakit.training.folds import cv_folds

    if task not in ("regression", "classification"):
        raise ConfigError("screen cv needs regression or classification targets",
                          got=task, fix="give a confidence, e.g. screen 0.99")  # fmt: skip
    y = resolve_target(train, list(targets))
    y = y[:, 0] if y.shape[1] == 1 else y
    codes = np.unique(y, return_inverse=True)[1] if task == "classification" else None
    g = None if groups is None else train.meta[groups].to_numpy()
    folds = cv_folds(len(train), y=codes, groups=g, seed=seed)
    choice = screen_cv(pls_factory(task), train.values, y if codes is None else codes, folds,
                       task=task)  # fmt: skip
    return choice.confidence, choice.to_config()
