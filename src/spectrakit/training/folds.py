"""Cross-validation folds shared by every recipe, the screening and the automatic choice."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

from spectrakit.core.errors import DataError

__all__ = ["cv_folds"]


def cv_folds(
    n: int, *, k: int = 5, y: np.ndarray | None = None, groups: np.ndarray | None = None, seed=0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold splits of ``n`` training rows: grouped when ``groups``, stratified for classes.

    Parameters
    ----------
    n : int
    k : int
        Folds (reduced to the number of groups / smallest class when needed, at least 2).
    y : ndarray of shape (n,), optional
        Class labels (integers) for stratification.
    groups : ndarray of shape (n,), optional
        Replicate groups: all rows of a group fall into the same fold.
    seed : int
    """
    idx = np.arange(n)
    if groups is not None:
        k = min(k, len(np.unique(groups)))
        splitter = GroupKFold(n_splits=max(k, 2))
        return list(splitter.split(idx, groups=groups))
    if y is not None:
        k = min(k, int(np.bincount(np.asarray(y)).min()))
        if k < 2:
            raise DataError("every class needs at least 2 labelled spectra for CV", got=str(k))
        return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(idx, y))
    if n < 4:
        raise DataError("cross-validation needs at least 4 labelled spectra", got=str(n))
    return list(KFold(min(k, n), shuffle=True, random_state=seed).split(idx))
