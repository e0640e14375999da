"""The shared CV folds: partitions, replicate groups kept whole, classes stratified."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import DataError
from spectrakit.training.folds import cv_folds


def _is_partition(folds, n: int) -> bool:
    held = np.concatenate([va for _, va in folds])
    disjoint = all(not set(tr) & set(va) for tr, va in folds)
    return disjoint and sorted(held.tolist()) == list(range(n))


def test_plain_folds_partition_the_rows_and_follow_the_seed():
    folds = cv_folds(23, k=5, seed=3)
    assert len(folds) == 5 and _is_partition(folds, 23)
    again = cv_folds(23, k=5, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    other = cv_folds(23, k=5, seed=4)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))


def test_replicate_groups_never_straddle_a_fold():
    groups = np.repeat(np.arange(6), 3)
    folds = cv_folds(18, k=4, groups=groups)
    assert len(folds) == 4 and _is_partition(folds, 18)
    for tr, va in folds:
        assert not set(groups[tr]) & set(groups[va])


def test_classes_are_stratified_and_too_small_classes_refused():
    y = np.array([0] * 10 + [1] * 5)
    folds = cv_folds(15, k=5, y=y)
    assert _is_partition(folds, 15)
    assert all(np.bincount(y[va], minlength=2).tolist() == [2, 1] for _, va in folds)
    with pytest.raises(DataError, match="at least 2"):
        cv_folds(5, y=np.array([0, 0, 0, 0, 1]))


def test_the_recipes_module_keeps_its_re_export():
    from spectrakit.training import recipes

    assert recipes.cv_folds is cv_folds
