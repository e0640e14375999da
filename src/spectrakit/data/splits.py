"""Leakage-safe cross-validation splitters that read groups, instruments and times from Spectra.

Every splitter is a scikit-learn splitter (``split(X, y=None, groups=None)`` and
``get_n_splits``). When ``X`` is a :class:`~spectrakit.Spectra`, the grouping column is read
from ``X.meta``; with plain arrays, pass ``groups=`` as usual. :func:`get_splitter` parses the
command line's ``--cv`` strings.

Why groups matter: replicate spectra of one physical sample are nearly identical, so a
random split that puts one replicate in training and another in test measures memory, not
prediction. Group splits keep every sample's replicates on one side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import (
    BaseCrossValidator,
    GroupKFold,
    KFold,
    LeaveOneGroupOut,
    StratifiedKFold,
)

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.spectra import Spectra
from spectrakit.io.meta_names import resolve_column

__all__ = [
    "CV_SPECS",
    "GroupKFoldSplitter",
    "KFoldSplitter",
    "LeaveOneGroupOutSplitter",
    "PredefinedSplits",
    "StratifiedSplitter",
    "TimeSeriesSplitter",
    "get_splitter",
]

#: the ``--cv`` forms understood by :func:`get_splitter`, shown in error messages.
CV_SPECS = (
    "kfold:K",
    "stratified:K",
    "group:COL[:K]",
    "logo:COL",
    "instrument",
    "time:COL[:K]",
)


def _column(X: Any, column: str | None, given: Any, what: str) -> np.ndarray:
    """Group labels from ``groups=`` or, for Spectra, from the metadata column."""
    if given is not None:
        labels = np.asarray(given)
    elif isinstance(X, Spectra) and column is not None:
        column = resolve_column(X.meta.columns, column)
        if column not in X.meta.columns:
            raise DataError(
                f"no metadata column {column!r} for {what}",
                expected="one of " + (", ".join(map(str, X.meta.columns)) or "(no columns)"),
                got=repr(column),
                fix="name an existing column, e.g. --cv group:sample",
            )
        labels = X.meta[column].to_numpy()
    else:
        raise DataError(
            f"{what} needs group labels",
            expected=f"Spectra with a {column!r} metadata column, or groups=...",
            got=type(X).__name__,
            fix="pass Spectra or groups=",
        )
    n = X.n_spectra if isinstance(X, Spectra) else len(X)
    if len(labels) != n:
        raise DataError(
            "one group label per spectrum is needed", expected=str(n), got=str(len(labels))
        )
    if _isna(labels).any():
        raise DataError(
            f"{what}: group column has missing values",
            expected="a label for every spectrum",
            got=f"{int(_isna(labels).sum())} missing",
            fix="fill or drop those rows",
        )
    return labels


def _isna(values: np.ndarray) -> np.ndarray:
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def _n_samples(X: Any) -> int:
    return X.n_spectra if isinstance(X, Spectra) else len(X)


def _check_k(n_splits: int, n_units: int, what: str) -> None:
    if n_splits < 2:
        raise ConfigError("cross-validation needs at least 2 folds", got=str(n_splits))
    if n_units < n_splits:
        raise DataError(
            f"too few {what} for {n_splits} folds",
            expected=f"at least {n_splits} {what}",
            got=str(n_units),
            fix="use fewer folds",
        )


class KFoldSplitter(BaseCrossValidator):
    """Shuffled K-fold over spectra (use only when spectra are independent samples).

    Parameters
    ----------
    n_splits : int, default=5
    random_state : int, default=0
    """

    def __init__(self, n_splits: int = 5, random_state: int = 0) -> None:
        self.n_splits = n_splits
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds."""
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple]:
        """Yield ``(train_idx, test_idx)`` integer arrays."""
        n = _n_samples(X)
        _check_k(self.n_splits, n, "spectra")
        kf = KFold(self.n_splits, shuffle=True, random_state=self.random_state)
        yield from kf.split(np.zeros(n))

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError


class StratifiedSplitter(BaseCrossValidator):
    """Stratified K-fold: class proportions (or target quantile bins) kept in every fold.

    Parameters
    ----------
    n_splits : int, default=5
    n_bins : int, default=5
        For a continuous target, the number of quantile bins used as strata.
    random_state : int, default=0
    """

    def __init__(self, n_splits: int = 5, n_bins: int = 5, random_state: int = 0) -> None:
        self.n_splits = n_splits
        self.n_bins = n_bins
        self.random_state = random_state

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds."""
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple]:
        """Yield ``(train_idx, test_idx)``; ``y`` is required."""
        if y is None:
            raise DataError(
                "stratified splitting needs the target",
                expected="y (labels or values)",
                got="None",
                fix="pass y, or use kfold:K",
            )
        y = np.asarray(y)
        strata = y
        if y.dtype.kind == "f" and len(np.unique(y)) > max(self.n_bins, 10):
            edges = np.quantile(y, np.linspace(0, 1, self.n_bins + 1)[1:-1])
            strata = np.digitize(y, edges)
        _, counts = np.unique(strata, return_counts=True)
        if counts.min() < self.n_splits:
            raise DataError(
                f"a class has fewer members than the {self.n_splits} folds",
                expected=f"at least {self.n_splits} spectra per class",
                got=f"smallest class has {int(counts.min())}",
                fix="use fewer folds",
            )
        skf = StratifiedKFold(self.n_splits, shuffle=True, random_state=self.random_state)
        yield from skf.split(np.zeros(len(y)), strata)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError


class GroupKFoldSplitter(BaseCrossValidator):
    """K-fold over groups: all spectra of one group (sample, patient, batch) share a fold.

    Parameters
    ----------
    column : str, optional
        Metadata column with the group of each spectrum (when splitting Spectra).
    n_splits : int, default=5
    """

    def __init__(self, column: str | None = None, n_splits: int = 5) -> None:
        self.column = column
        self.n_splits = n_splits

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds."""
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple]:
        """Yield ``(train_idx, test_idx)``; no group appears on both sides."""
        labels = _column(X, self.column, groups, "group k-fold")
        _check_k(self.n_splits, len(np.unique(labels)), "groups")
        yield from GroupKFold(self.n_splits).split(np.zeros(len(labels)), groups=labels)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError


class LeaveOneGroupOutSplitter(BaseCrossValidator):
    """Each fold holds out one whole group (e.g. one instrument, one batch, one day).

    Parameters
    ----------
    column : str, optional
        Metadata column with the groups (default for instruments: ``"instrument"``).
    """

    def __init__(self, column: str | None = None) -> None:
        self.column = column

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of distinct groups (needs the data)."""
        if X is None and groups is None:
            raise DataError(
                "leave-one-group-out needs the data to count folds",
                expected="X or groups",
                got="None",
            )
        return len(np.unique(_column(X, self.column, groups, "leave-one-group-out")))

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple]:
        """Yield ``(train_idx, test_idx)``, one fold per group."""
        labels = _column(X, self.column, groups, "leave-one-group-out")
        n_groups = len(np.unique(labels))
        if n_groups < 2:
            raise DataError(
                "leave-one-group-out needs at least two groups",
                expected=f"several distinct values in {self.column or 'groups'!r}",
                got=f"only {labels[0]!r}",
                fix="choose a column with several groups (instruments, batches, days)",
            )
        yield from LeaveOneGroupOut().split(np.zeros(len(labels)), groups=labels)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError


class TimeSeriesSplitter(BaseCrossValidator):
    """Forward chaining: train on the past, test on the next block; never on the future.

    Distinct time values are cut into ``n_splits + 1`` consecutive blocks; fold ``i`` trains
    on blocks ``0..i`` and tests on block ``i + 1``. Spectra sharing a time stamp are never
    separated, so every training time is strictly earlier than every test time.

    Parameters
    ----------
    column : str, optional
        Metadata column with the acquisition time (numeric or datetime).
    n_splits : int, default=5
    gap : int, default=0
        Number of distinct time values skipped between train and test (for autocorrelation).
    """

    def __init__(self, column: str | None = None, n_splits: int = 5, gap: int = 0) -> None:
        self.column = column
        self.n_splits = n_splits
        self.gap = gap

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds."""
        return self.n_splits

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple]:
        """Yield ``(train_idx, test_idx)`` with all train times before all test times."""
        times = _column(X, self.column, groups, "time-ordered splitting")
        uniq = np.unique(times)
        _check_k(self.n_splits + 1, len(uniq) - self.gap, "distinct time values")
        blocks = np.array_split(np.arange(len(uniq)), self.n_splits + 1)
        rank = np.searchsorted(uniq, times)
        for i in range(1, self.n_splits + 1):
            last_train = blocks[i - 1][-1]
            test_block = blocks[i]
            train = np.flatnonzero(rank <= last_train - self.gap)
            test = np.flatnonzero((rank >= test_block[0]) & (rank <= test_block[-1]))
            if len(train) == 0:
                continue
            yield train, test

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError


class PredefinedSplits(BaseCrossValidator):
    """Fixed ``(train, test)`` index pairs, so several models see exactly the same folds.

    Parameters
    ----------
    splits : list of (ndarray, ndarray)
    """

    def __init__(self, splits: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.splits = splits

    @classmethod
    def from_splitter(cls, splitter: Any, X: Any, y: Any = None, groups: Any = None):
        """Materialize another splitter's folds once."""
        return cls([(np.asarray(a), np.asarray(b)) for a, b in splitter.split(X, y, groups)])

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds."""
        return len(self.splits)

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator[tuple]:
        """Yield the stored pairs."""
        for train, test in self.splits:
            yield np.asarray(train), np.asarray(test)

    def _iter_test_indices(self, X=None, y=None, groups=None):  # pragma: no cover
        raise NotImplementedError


def _parse_int(text: str, spec: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(
            f"bad --cv value {spec!r}",
            expected="a whole number of folds, e.g. kfold:5",
            got=repr(text),
        ) from None
    if value < 2:
        raise ConfigError(f"bad --cv value {spec!r}", expected="at least 2 folds", got=str(value))
    return value


def get_splitter(spec: str | int | Any) -> BaseCrossValidator:
    """Build a splitter from a ``--cv`` string.

    Parameters
    ----------
    spec : str, int or splitter
        ``"kfold:5"``, ``"stratified:5"``, ``"group:COL"`` (``"group:COL:5"`` for 5 folds),
        ``"logo:COL"`` (leave one group out), ``"instrument"`` (leave one instrument out,
        column ``instrument``), ``"time:COL"`` (forward chaining, ``"time:COL:4"``). An int
        means K-fold; an object with ``split`` is returned unchanged.

    Returns
    -------
    BaseCrossValidator

    Examples
    --------
    >>> get_splitter("group:sample:4")
    GroupKFoldSplitter(column='sample', n_splits=4)
    """
    if not isinstance(spec, str) and hasattr(spec, "split"):
        return spec
    if isinstance(spec, int | np.integer) and not isinstance(spec, bool):
        return KFoldSplitter(_parse_int(str(spec), str(spec)))
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(
            "unknown cross-validation scheme", expected=" | ".join(CV_SPECS), got=repr(spec)
        )
    kind, *rest = spec.strip().split(":")
    kind = kind.lower()
    if kind in ("kfold", "stratified"):
        if len(rest) > 1:
            raise ConfigError(f"bad --cv value {spec!r}", expected=f"{kind}:K", got=spec)
        k = _parse_int(rest[0], spec) if rest else 5
        return KFoldSplitter(k) if kind == "kfold" else StratifiedSplitter(k)
    if kind in ("group", "logo", "time"):
        return _column_splitter(kind, rest, spec)
    if kind == "instrument":
        column = rest[0] if rest else "instrument"
        return LeaveOneGroupOutSplitter(column)
    raise ConfigError(
        "unknown cross-validation scheme",
        expected=" | ".join(CV_SPECS),
        got=repr(spec),
        fix="e.g. --cv group:sample when replicate spectra share a sample id",
    )


def _column_splitter(kind: str, rest: list[str], spec: str) -> BaseCrossValidator:
    """The splitter of a ``group:COL[:K]``, ``logo:COL`` or ``time:COL[:K]`` spec."""
    if not rest or not rest[0]:
        raise ConfigError(
            f"--cv {kind} needs a metadata column",
            expected=f"{kind}:COLUMN" + ("[:K]" if kind != "logo" else ""),
            got=spec,
            fix=f"e.g. --cv {kind}:sample",
        )
    column = rest[0]
    if kind == "logo":
        if len(rest) > 1:
            raise ConfigError(f"bad --cv value {spec!r}", expected="logo:COLUMN", got=spec)
        return LeaveOneGroupOutSplitter(column)
    if len(rest) > 2:
        raise ConfigError(f"bad --cv value {spec!r}", expected=f"{kind}:COLUMN[:K]", got=spec)
    k = _parse_int(rest[1], spec) if len(rest) == 2 else 5
    if kind == "group":
        return GroupKFoldSplitter(column, k)
    return TimeSeriesSplitter(column, k)
