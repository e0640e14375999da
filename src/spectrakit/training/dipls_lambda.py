r"""A data-driven choice of the di-PLS penalty: CV on the source plus a target criterion.

The raw penalty :math:`\lambda` of :class:`~spectrakit.baselines.DIPLS` has the units of
:math:`y^\top y / \|D\|`, so one fixed default (1.0) means "no penalty" on absorbances near 1
and "only invariance" on counts: that is why di-PLS at its default reproduced plain
mean-centering. Here the penalty is searched on a scale-free grid
:math:`\lambda = \gamma\, y^\top y / \|D\|_2` with :math:`\gamma \in \{0, 0.01, \dots, 100\}`
jointly with the number of latent variables:

1. every pair is scored by K-fold CV RMSE on the labelled source spectra (the unlabeled
   target spectra take part in every fold's fit, as they would in use);
2. the pairs within ``tolerance`` (default 10 %) of the best CV RMSE are admissible;
3. among those the one whose latent scores differ least between the domains wins
   (``sum_a |var_s(t_a) - var_t(t_a)| / (var_s(t_a) + var_t(t_a))``, averaged): the most
   domain-invariant model that the source data cannot tell apart from the most accurate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectrakit.chemometrics.dipls import DIPLS, difference_eig, dipls_weights
from spectrakit.core.errors import DataError

__all__ = ["GAMMAS", "DIPLSChoice", "choose_dipls"]

#: scale-free penalty grid (0 = per-domain centering only).
GAMMAS = (0.0, 0.01, 0.1, 1.0, 10.0, 100.0)


@dataclass
class DIPLSChoice:
    """The chosen di-PLS model and the table behind the choice."""

    model: DIPLS
    gamma: float
    lam: float
    n_components: int
    cv_rmse: float
    table: list[dict]


def _scale(Xs: np.ndarray, y: np.ndarray, Xt: np.ndarray) -> float:
    vals, _ = difference_eig(Xs - Xs.mean(0), Xt - Xt.mean(0))
    yc = y - y.mean()
    return float(yc @ yc) / max(float(np.abs(vals).max()), 1e-300)


def _path(Xs: np.ndarray, y: np.ndarray, Xt: np.ndarray, lam: float, amax: int) -> np.ndarray:
    """Source-domain coefficients of the 1..amax component di-PLS models, shape (amax, p).

    One deflation sequence serves every size (the first ``a`` latent variables do not depend
    on how many follow), so a CV over sizes costs one fit per fold.
    """
    Xs, Xt = Xs - Xs.mean(0), Xt - Xt.mean(0)
    yc = y - y.mean()
    W, P, C, out = [], [], [], []
    for _ in range(amax):
        w = dipls_weights(Xs, yc, Xt, lam)
        ts, tt = Xs @ w, Xt @ w
        tss = float(ts @ ts)
        if tss < 1e-20:
            break
        P.append(Xs.T @ ts / tss)
        C.append(float(yc @ ts) / tss)
        W.append(w)
        Xs = Xs - np.outer(ts, P[-1])
        Xt = Xt - np.outer(tt, Xt.T @ tt / max(float(tt @ tt), 1e-300))
        yc = yc - C[-1] * ts
        W_, P_ = np.stack(W, 1), np.stack(P, 1)
        out.append(W_ @ np.linalg.pinv(P_.T @ W_) @ np.asarray(C))
    while len(out) < amax:  # ran out of rank: larger sizes repeat the last model
        out.append(out[-1])
    return np.stack(out)


def _discrepancy(model: DIPLS, Xs: np.ndarray, Xt: np.ndarray) -> float:
    ts = (Xs - model.source_mean_) @ model.x_weights_
    tt = (Xt - model.target_mean_) @ model.x_weights_
    vs, vt = ts.var(axis=0), tt.var(axis=0)
    return float(np.mean(np.abs(vs - vt) / np.maximum(vs + vt, 1e-300)))


def choose_dipls(
    Xs: np.ndarray,
    y: np.ndarray,
    Xt: np.ndarray,
    folds: list,
    *,
    max_components: int = 8,
    gammas: tuple[float, ...] = GAMMAS,
    tolerance: float = 0.10,
    max_target: int = 150,
) -> DIPLSChoice:
    """Choose penalty and latent variables of di-PLS (see the module notes), then refit.

    Parameters
    ----------
    Xs : ndarray of shape (n_s, p)
        Preprocessed labelled source spectra.
    y : ndarray of shape (n_s,)
    Xt : ndarray of shape (n_t, p)
        Preprocessed unlabeled target spectra.
    folds : list of (train, val) index arrays over the source rows
    max_components : int
    gammas : tuple of float
    tolerance : float
        Relative CV-RMSE slack of the admissible models.
    max_target : int
        Target spectra used (an evenly spaced subset of larger sets).

    Returns
    -------
    DIPLSChoice
    """
    Xs, Xt = np.asarray(Xs, np.float64), np.asarray(Xt, np.float64)
    y = np.asarray(y, np.float64).ravel()
    if len(Xs) != len(y) or len(Xt) < 2:
        raise DataError("di-PLS choice needs one y per source spectrum and target spectra")
    if len(Xt) > max_target:  # evenly spaced subset: the penalty needs covariances only
        Xt = Xt[np.linspace(0, len(Xt) - 1, max_target).round().astype(int)]
    unit = _scale(Xs, y, Xt)
    smallest = min(len(tr) for tr, _ in folds)
    amax = int(min(max_components, smallest - 1))
    table = []
    for g in gammas:
        oof = np.zeros((amax, len(y)))
        for tr, va in folds:
            B = _path(Xs[tr], y[tr], Xt, g * unit, amax)
            oof[:, va] = B @ (Xs[va] - Xs[tr].mean(0)).T + y[tr].mean()
        rmse = np.sqrt(np.mean((oof - y) ** 2, axis=1))
        a = int(np.argmin(rmse)) + 1
        table.append({"gamma": g, "n_components": a, "cv_rmse": float(rmse[a - 1])})
    best = min(r["cv_rmse"] for r in table)
    for r in table:
        m = DIPLS(n_components=r["n_components"], lam=r["gamma"] * unit).fit(Xs, y, Xt)
        r["discrepancy"] = _discrepancy(m, Xs, Xt)
        r["admissible"] = r["cv_rmse"] <= (1 + tolerance) * best
    pick = min((r for r in table if r["admissible"]), key=lambda r: r["discrepancy"])
    lam = pick["gamma"] * unit
    model = DIPLS(n_components=pick["n_components"], lam=lam).fit(Xs, y, Xt)
    return DIPLSChoice(model, pick["gamma"], lam, pick["n_components"], pick["cv_rmse"], table)
