import itertools

import numpy as np
import pandas as pd
import pytest

from spectrakit import ConfigError, DataError, Spectra
from spectrakit.data.splits import (
    GroupKFoldSplitter,
    KFoldSplitter,
    LeaveOneGroupOutSplitter,
    PredefinedSplits,
    StratifiedSplitter,
    TimeSeriesSplitter,
    get_splitter,
)


@pytest.fixture
def replicates() -> Spectra:
    """12 samples x 3 replicate spectra, 3 instruments, acquisition times with ties."""
    rng = np.random.default_rng(1)
    n = 36
    return Spectra(
        rng.normal(size=(n, 20)),
        np.arange(20.0),
        meta={
            "sample": [f"s{i // 3}" for i in range(n)],
            "instrument": [f"inst{i % 3}" for i in range(n)],
            "time": np.repeat(np.arange(18), 2)[rng.permutation(n)],
            "label": ["a", "b", "c"] * 12,
            "y": rng.normal(size=n),
        },
    )


def _groups_disjoint(splitter, spectra, column):
    labels = spectra.meta[column].to_numpy()
    seen_test = []
    for train, test in splitter.split(spectra):
        assert set(labels[train]).isdisjoint(labels[test])
        assert len(np.intersect1d(train, test)) == 0
        seen_test.extend(test)
    return np.sort(seen_test)


def test_group_kfold_never_splits_replicates(replicates):
    tested = _groups_disjoint(GroupKFoldSplitter("sample", 4), replicates, "sample")
    assert np.array_equal(tested, np.arange(36))  # every spectrum tested exactly once


def test_plain_kfold_would_split_replicates(replicates):
    # the failure mode the group splitter exists for
    labels = replicates.meta["sample"].to_numpy()
    shared = [set(labels[tr]) & set(labels[te]) for tr, te in KFoldSplitter(4).split(replicates)]
    assert any(shared)


def test_leave_one_instrument_out(replicates):
    sp = get_splitter("instrument")
    assert sp.get_n_splits(replicates) == 3
    inst = replicates.meta["instrument"].to_numpy()
    for train, test in sp.split(replicates):
        assert len(set(inst[test])) == 1
        assert set(inst[test]).isdisjoint(inst[train])


def test_logo_arrays_with_groups():
    X = np.zeros((6, 2))
    groups = ["a", "a", "b", "b", "c", "c"]
    folds = list(LeaveOneGroupOutSplitter().split(X, groups=groups))
    assert len(folds) == 3


def test_time_ordered_never_trains_on_future(replicates):
    times = replicates.meta["time"].to_numpy()
    folds = list(TimeSeriesSplitter("time", n_splits=4).split(replicates))
    assert len(folds) == 4
    for train, test in folds:
        assert times[train].max() < times[test].min()
    # training windows grow (forward chaining)
    assert all(len(a[0]) < len(b[0]) for a, b in itertools.pairwise(folds))


def test_stratified_keeps_class_proportions(replicates):
    y = replicates.meta["label"].to_numpy()
    for _, test in StratifiedSplitter(4).split(replicates, y):
        counts = pd.Series(y[test]).value_counts()
        assert counts.max() - counts.min() <= 1


def test_stratified_bins_continuous_target(replicates):
    y = replicates.meta["y"].to_numpy()
    folds = list(get_splitter("stratified:3").split(replicates, y))
    assert len(folds) == 3


@pytest.mark.parametrize(
    ("spec", "cls", "attrs"),
    [
        ("kfold:5", KFoldSplitter, {"n_splits": 5}),
        ("stratified:4", StratifiedSplitter, {"n_splits": 4}),
        ("group:sample", GroupKFoldSplitter, {"column": "sample", "n_splits": 5}),
        ("group:sample:3", GroupKFoldSplitter, {"column": "sample", "n_splits": 3}),
        ("logo:batch", LeaveOneGroupOutSplitter, {"column": "batch"}),
        ("instrument", LeaveOneGroupOutSplitter, {"column": "instrument"}),
        ("time:t:4", TimeSeriesSplitter, {"column": "t", "n_splits": 4}),
        (3, KFoldSplitter, {"n_splits": 3}),
    ],
)
def test_get_splitter_parses(spec, cls, attrs):
    sp = get_splitter(spec)
    assert isinstance(sp, cls)
    for k, v in attrs.items():
        assert getattr(sp, k) == v


@pytest.mark.parametrize(
    "spec", ["kfold:x", "kfold:1", "group", "group:", "bogus:3", "", "logo:a:b"]
)
def test_get_splitter_rejects_clearly(spec):
    with pytest.raises(ConfigError) as err:
        get_splitter(spec)
    assert "expected" in str(err.value)


def test_missing_group_column_is_clear(replicates):
    with pytest.raises(DataError, match="no metadata column 'patient'"):
        list(get_splitter("group:patient").split(replicates))


def test_too_few_groups(replicates):
    with pytest.raises(DataError, match="too few groups"):
        list(GroupKFoldSplitter("instrument", 5).split(replicates))


def test_predefined_splits_reuse_folds(replicates):
    fixed = PredefinedSplits.from_splitter(get_splitter("group:sample:3"), replicates)
    a = [t for _, t in fixed.split(replicates)]
    b = [t for _, t in fixed.split(replicates)]
    assert all(np.array_equal(x, z) for x, z in zip(a, b, strict=True))


def test_logo_with_one_group_is_clear():
    s = Spectra(np.zeros((4, 3)), np.arange(3.0), meta={"instrument": ["a"] * 4})
    with pytest.raises(DataError, match="at least two groups"):
        list(get_splitter("instrument").split(s))


def test_time_gap_leaves_a_buffer(replicates):
    times = replicates.meta["time"].to_numpy()
    uniq = np.unique(times)
    for train, test in TimeSeriesSplitter("time", n_splits=3, gap=2).split(replicates):
        # at least two distinct time values lie strictly between train and test
        between = (uniq > times[train].max()) & (uniq < times[test].min())
        assert between.sum() >= 2
