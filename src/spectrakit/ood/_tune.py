"""DIME's number of components k and false-rejection rate alpha, tuned on training data only.

There are no out-of-distribution spectra among the training data, so each class in turn
plays the unknown one (leave one class out): DIME is fitted with k components on the
fitting spectra of the other classes, its threshold is set at alpha on half of their
held-out spectra, and it is judged on the other half (total sensitivity, TSNS: known
spectra kept) and on every spectrum of the left-out class (total specificity, TSPS:
unknown spectra rejected). The pair with the highest total efficiency
``TEFF = sqrt(TSNS * TSPS)`` (pychemauth's open-set figure of merit) decides, by the
one-standard-error rule: the most components whose TEFF is within one binomial standard
error of the best, and of those the alpha with the best TEFF. (Left-out classes are
usually farther from the rest than a novel material is, so among equally good choices the
one modelling the known variation most fully is kept.) No test spectrum takes part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.errors import DataError

__all__ = ["ALPHAS", "tune_dime"]

#: candidate false-rejection rates
ALPHAS = (0.01, 0.025, 0.05, 0.1, 0.2)
_KS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)


def _residuals(fit: np.ndarray, other: np.ndarray, ks: Sequence[int]) -> dict[int, np.ndarray]:
    mean = fit.mean(axis=0)
    _, _, vt = np.linalg.svd(fit - mean, full_matrices=False)
    d = other - mean
    return {k: np.linalg.norm(d - (d @ vt[:k].T) @ vt[:k], axis=1) for k in ks}


def _split_halves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    return order[: n // 2], order[n // 2 :]


def _one_standard_error(grid: pd.DataFrame, n_eval: int) -> pd.Series:
    """The pair chosen by the one-standard-error rule.

    The most components whose TEFF is within one binomial standard error of the best (the
    in-distribution variation modelled as fully as the data allow, as DIME's 99 %
    explained-variance default does); of that k, the alpha with the best TEFF.
    """
    top = grid["TEFF"].max()
    # binomial standard error, floored at that of a 5 % rate (a perfect score has none)
    se = float(np.sqrt(max(top * (1.0 - top), 0.05 * 0.95) / max(n_eval, 1)))
    k = grid.loc[grid["TEFF"] >= top - se, "k"].max()
    rows = grid[grid["k"] == k]
    return rows.sort_values(["TEFF", "alpha"], ascending=[False, True]).iloc[0]


def tune_dime(
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_held: np.ndarray,
    y_held: np.ndarray,
    *,
    ks: Sequence[int] | None = None,
    alphas: Sequence[float] = ALPHAS,
    seed: int = 0,
) -> dict[str, Any]:
    """Leave-one-class-out choice of DIME's ``k`` and ``alpha`` (see the module docstring).

    Parameters
    ----------
    X_fit, X_held : ndarray of shape (n_fit, D), (n_held, D)
        Embeddings of the fitting and held-out training spectra.
    y_fit, y_held : ndarray of shape (n_fit,), (n_held,)
        Their class labels (at least two classes).
    ks : sequence of int, optional
        Candidate numbers of components (default 1, 2, 3, 4, 6, 8, ... up to what the
        smallest leave-one-out fitting set supports).
    alphas : sequence of float
        Candidate false-rejection rates.
    seed : int, default=0
        Seed of the held-out halves.

    Returns
    -------
    dict
        ``k``, ``alpha``, ``TEFF``/``TSNS``/``TSPS`` of the choice and ``grid`` (a list of
        records: one per pair).
    """
    classes = _classes(y_fit, y_held)
    ks = _candidate_ks(ks, X_fit, y_fit, classes)
    rng = np.random.default_rng(seed)
    tsns, tsps, n_eval = _leave_one_class_out(
        X_fit, y_fit, X_held, y_held, classes, ks, alphas, rng
    )
    grid = pd.DataFrame(
        [(k, a, tsns[i, j], tsps[i, j]) for i, k in enumerate(ks) for j, a in enumerate(alphas)],
        columns=["k", "alpha", "TSNS", "TSPS"],
    )
    grid["TEFF"] = np.sqrt(grid["TSNS"] * grid["TSPS"])
    best = _one_standard_error(grid, n_eval)
    return {
        "k": int(best["k"]),
        "alpha": float(best["alpha"]),
        "TEFF": float(best["TEFF"]),
        "TSNS": float(best["TSNS"]),
        "TSPS": float(best["TSPS"]),
        "method": "leave-one-class-out on held-out training spectra",
        "grid": grid.round(6).to_dict("records"),
    }


def _classes(y_fit: np.ndarray, y_held: np.ndarray) -> np.ndarray:
    """The sorted classes of both sets; at least two are needed."""
    classes = np.unique(np.concatenate([y_fit, y_held]))
    if classes.size < 2:
        raise DataError(
            "tuning DIME needs at least two classes",
            expected="class labels of the training spectra (a classification target)",
            got=f"{classes.size} class",
            fix="fit DIME with fixed n_components and false_rejection instead",
        )
    return classes


def _candidate_ks(
    ks: Sequence[int] | None, X_fit: np.ndarray, y_fit: np.ndarray, classes: np.ndarray
) -> list[int]:
    """The candidate ``k`` the smallest leave-one-class-out fitting set supports (at least 1)."""
    smallest = min(int(np.sum(y_fit != c)) for c in classes)
    limit = min(smallest - 1, X_fit.shape[1])
    return sorted({k for k in (ks or _KS) if 1 <= k <= limit}) or [1]


def _leave_one_class_out(
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    X_held: np.ndarray,
    y_held: np.ndarray,
    classes: np.ndarray,
    ks: Sequence[int],
    alphas: Sequence[float],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Sensitivity and specificity of every (k, alpha), each left-out class in turn.

    Returns
    -------
    tsns, tsps : ndarray of shape (len(ks), len(alphas))
        Known spectra kept and unknown spectra rejected, averaged over the left-out classes.
    n_eval : int
        Number of known spectra they were judged on (all folds together).
    """
    n_eval = 0
    tsns = np.zeros((len(ks), len(alphas)))
    tsps = np.zeros_like(tsns)
    for c in classes:
        known = X_held[y_held != c]
        if len(known) < 4:
            raise DataError("too few held-out spectra to tune DIME", expected=">= 4 per fold",
                            got=f"{len(known)} without class {c!r}")  # fmt: skip
        cal, ev = _split_halves(len(known), rng)
        n_eval += len(ev)
        novel = np.concatenate([X_fit[y_fit == c], X_held[y_held == c]])
        scored = _residuals(X_fit[y_fit != c], np.concatenate([known, novel]), ks)
        for i, k in enumerate(ks):
            s_known, s_novel = scored[k][: len(known)], scored[k][len(known) :]
            for j, a in enumerate(alphas):
                thr = np.quantile(s_known[cal], 1.0 - a)
                tsns[i, j] += np.mean(s_known[ev] <= thr) / classes.size
                tsps[i, j] += np.mean(s_novel > thr) / classes.size
    return tsns, tsps, n_eval
