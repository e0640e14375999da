"""The interferent-augmented PLS candidate of the automatic choice.

PLS fitted on the standards plus copies of them carrying the analyte-free variation of the
unlabeled target spectra (:mod:`spectrakit.chemometrics.interferent_augment`). Its settings
(directions kept ``k``, mean-offset weight, latent variables) are chosen without any target
label: the target spectra are split into two halves of alternating time blocks; inside every
CV fold the basis is built from the fold's standards and one half, and the model is scored on
the held-out standards placed in backgrounds of the *other* half (a target-like validation),
both ways round. The candidate's ``cv_error`` is the plain out-of-fold RMSE of the chosen
setting on the held-out standards, so it ranks beside the other candidates on equal terms;
the target-like error is kept in ``info``.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np

from spectrakit.chemometrics import pls_nipals, resolve_pipeline
from spectrakit.chemometrics.interferent_augment import (
    augment_with_interferents,
    interferent_basis,
    process_like,
)
from spectrakit.core.spectra import Spectra
from spectrakit.training.auto_candidate import Candidate, transformed_values

__all__ = [
    "GRID",
    "InterferentPLS",
    "choose_setting",
    "fit_pls_net_interferents",
    "interferent_candidate",
]

#: (directions kept, largest weight of the mean offset) tried
GRID = tuple(itertools.product((0, 2, 5, 10), (0.0, 1.5)))
MAX_LV = 10
N_BLOCKS = 10


class InterferentPLS:
    """A linear read-out ``b' (z - mean) + y_mean`` behind a fitted preprocessing."""

    def __init__(self, pre: Any, coef: np.ndarray, x_mean: np.ndarray, y_mean: float) -> None:
        self.pre, self.coef, self.x_mean, self.y_mean = pre, coef, x_mean, y_mean

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        """Predictions (n,); the same model serves both domains."""
        return (transformed_values(self.pre, X) - self.x_mean) @ self.coef + self.y_mean


def _fit_path(Xa: np.ndarray, ya: np.ndarray, n_lv: int) -> tuple[np.ndarray, ...]:
    """Coefficients of the 1..A latent-variable PLS models (p, A), x mean, y mean."""
    xm, ym = Xa.mean(axis=0), float(ya.mean())
    k = pls_nipals(Xa - xm, (ya - ym)[:, None], n_lv)
    B = np.cumsum(k["R"] * k["Q"][0], axis=1)
    return B, xm, ym


def _halves(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Alternating time blocks of the target rows: two halves covering the whole run."""
    block = np.arange(m) * N_BLOCKS // max(m, 1)
    return np.flatnonzero(block % 2 == 0), np.flatnonzero(block % 2 == 1)


def _fold_errors(Zs, y, Zt, tr, va, setting, seed) -> tuple[np.ndarray, np.ndarray]:
    """Squared errors per LV: target-like (both halves) and plain, on the fold ``va``."""
    k, off = setting
    plain, like = [], []
    for fit_half, val_half in itertools.permutations(_halves(len(Zt))):
        basis = interferent_basis(Zs[tr], y[tr], Zt[fit_half], k)
        Xa, ya = augment_with_interferents(Zs[tr], y[tr], basis, max_offset=off, seed=seed)
        B, xm, ym = _fit_path(Xa, ya, min(MAX_LV, len(tr) - 2))
        Xv, rows = process_like(Zs[va], Zt[val_half], basis.unit, Zs[tr].mean(axis=0),
                                seed=seed)  # fmt: skip
        like.append((((Xv - xm) @ B + ym - y[va][rows, None]) ** 2).mean(axis=0))
        plain.append((((Zs[va] - xm) @ B + ym - y[va][:, None]) ** 2).sum(axis=0))
    return np.mean(like, axis=0), np.mean(plain, axis=0)


def choose_setting(Zs, y, Zt, folds, seed: int = 0) -> dict[str, Any]:
    """The setting and LV count with the lowest target-like CV error (no target label read).

    Returns
    -------
    dict
        ``k``, ``max_offset``, ``n_lv``, ``target_like_rmse``, ``cv_rmse`` (plain, on the
        held-out standards) and the target-like RMSE of every setting.
    """
    best, table = None, {}
    for setting in GRID:
        errs = [_fold_errors(Zs, y, Zt, tr, va, setting, seed) for tr, va in folds]
        n_lv = min(len(e[0]) for e in errs)
        like = np.sqrt(np.mean([e[0][:n_lv] for e in errs], axis=0))
        plain = np.sqrt(np.sum([e[1][:n_lv] for e in errs], axis=0) / len(y))
        a = int(np.argmin(like))
        table[f"k={setting[0]},offset={setting[1]:g}"] = float(like[a])
        if best is None or like[a] < best["target_like_rmse"]:
            best = {"k": setting[0], "max_offset": setting[1], "n_lv": a + 1,
                    "target_like_rmse": float(like[a]), "cv_rmse": float(plain[a])}  # fmt: skip
    assert best is not None
    return best | {"table": table}


def interferent_candidate(
    name: str,
    pipeline: Any,
    X: Spectra,
    y: np.ndarray,
    folds: list,
    target: Spectra,
    seed: int = 0,
) -> Candidate:
    """PLS on standards augmented with the target's analyte-free variation (module notes).

    Parameters
    ----------
    name : str
    pipeline : pipeline spec
        Preprocessing (the best PLS candidate's), fitted on ``X``.
    X : Spectra
        Labelled standards.
    y : ndarray of shape (n,)
    folds : list of (train, val) index arrays
    target : Spectra
        Unlabeled target (process) spectra; never any label of them.
    seed : int

    Returns
    -------
    Candidate
        Kind ``pls+interferents``; ``oof`` are NaN (the error is pooled over the settings'
        folds), ``info`` holds the chosen setting and its target-like error.
    """
    t0 = time.perf_counter()
    pre = resolve_pipeline(pipeline)
    if pre is not None:
        pre.fit(X)
    Zs, Zt = transformed_values(pre, X), transformed_values(pre, target)
    y = np.asarray(y, np.float64)
    info = choose_setting(Zs, y, Zt, folds, seed)
    basis = interferent_basis(Zs, y, Zt, info["k"])
    Xa, ya = augment_with_interferents(Zs, y, basis, max_offset=info["max_offset"], seed=seed)
    B, xm, ym = _fit_path(Xa, ya, info["n_lv"])
    model = InterferentPLS(pre, B[:, info["n_lv"] - 1], xm, ym)
    oof = np.full(len(y), np.nan)
    seconds = time.perf_counter() - t0
    return Candidate(name, "pls+interferents", info["cv_rmse"], oof, model, seconds, info)


class _NetOnPreprocessed:
    """A network fitted on preprocessed values, behind the fitted preprocessing."""

    def __init__(self, pre: Any, net: Any, axis: np.ndarray) -> None:
        self.pre, self.net, self.axis = pre, net, axis

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        return np.asarray(
            self.net.predict(Spectra(transformed_values(self.pre, X), self.axis))
        ).ravel()


def _augmented_folds(folds: list, source_row: np.ndarray) -> list:
    """The standards' folds carried to their augmented copies (a copy follows its standard)."""
    return [(np.flatnonzero(np.isin(source_row, tr)), np.flatnonzero(np.isin(source_row, va)))
            for tr, va in folds]  # fmt: skip


def fit_pls_net_interferents(ctx: dict) -> tuple[Any, float, np.ndarray, dict]:
    """``pls_net`` on the standards augmented with the target's analyte-free variation.

    The setting comes from :func:`choose_setting` (target-like validation); the network's
    steps are chosen by CV over the augmented copies of the held-out standards, and the
    returned error is the plain RMSE on the held-out standards themselves.

    Parameters
    ----------
    ctx : dict
        :func:`~spectrakit.training.deep_recipes.fit_deep`'s context (``X``, ``y``,
        ``pipeline``, ``folds``, ``target``, ``seed``, ``quick``) plus ``estimator``, the
        unfitted PLS front end of the network.

    Returns
    -------
    model, cv_error, oof (n,), info
    """
    from spectrakit.training.scorenet import ScoreRecipe, fit_scorenet

    X, y, seed = ctx["X"], np.asarray(ctx["y"], np.float64), ctx["seed"]
    pre = resolve_pipeline(ctx["pipeline"])
    if pre is not None:
        pre.fit(X)
    Zs, Zt = transformed_values(pre, X), transformed_values(pre, ctx["target"])
    axis = (pre.transform(X) if pre is not None else X).axis.values
    info = choose_setting(Zs, y, Zt, ctx["folds"], seed)
    basis = interferent_basis(Zs, y, Zt, info["k"])
    n_per = 10
    Xa, ya = augment_with_interferents(Zs, y, basis, n_per=n_per, max_offset=info["max_offset"],
                                       seed=seed)  # fmt: skip
    source_row = np.concatenate([np.arange(len(y)), np.repeat(np.arange(len(y)), n_per)])
    rec = ScoreRecipe(steps=(0, 100, 300), ensemble=2) if ctx["quick"] else ScoreRecipe()
    net = fit_scorenet(ctx["estimator"], Spectra(Xa, axis), ya, recipe=rec,
                       folds=_augmented_folds(ctx["folds"], source_row), seed=seed)  # fmt: skip
    oof = np.asarray(net.cv_predictions, np.float64)[: len(y)]
    info = info | {"steps": net.steps, "n_lv": net.n_components, "recipe": rec.to_config()}
    return _NetOnPreprocessed(pre, net, axis), float(np.sqrt(np.mean((oof - y) ** 2))), oof, info
