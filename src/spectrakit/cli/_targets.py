"""Checks of training data (targets, test axis), before any training.

A target that cannot teach anything (a constant, a single class, text for a regression)
is refused with the column named, instead of producing a model that looks valid and
predicts nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spectrakit.core.errors import DataError

if TYPE_CHECKING:  # reading loads pandas: only when a command trains
    import pandas as pd

    from spectrakit.core.spectra import Spectra

__all__ = ["check_same_axis", "check_targets"]


def _column(spectra: Spectra, name: str, role: str) -> pd.Series:
    if name not in spectra.meta.columns:
        raise DataError(
            f"target column {name!r} not found in the {role} spectra",
            expected="one of " + (", ".join(map(str, spectra.meta.columns)) or "(no metadata)"),
            got=name,
            fix="pass --target with a metadata column of the data",
        )
    return spectra.meta[name]


def _check_regression(name: str, col: pd.Series, training: bool) -> None:
    import numpy as np
    import pandas as pd

    values = pd.to_numeric(col, errors="coerce")
    bad = col[values.isna() & col.notna()]
    if len(bad):
        raise DataError(
            f"target {name!r} is not numeric, so it cannot be a regression target",
            expected="numbers",
            got=f"{len(bad)} text value(s) such as {str(bad.iloc[0])[:40]!r}",
            fix="pass --task classification, or fix the column",
        )
    finite = values[np.isfinite(values.to_numpy(dtype=float))]
    if training and finite.nunique() < 2:
        raise DataError(
            f"target {name!r} is constant, so there is nothing to learn",
            expected="at least two distinct values",
            got=f"{finite.nunique()} distinct value(s) in {len(col)} spectra",
            fix="check the --target column or the data file",
        )


def _check_classes(name: str, col: pd.Series) -> None:
    labels = col.dropna().astype(str)
    if labels.nunique() < 2:
        found = sorted(labels.unique())[:3]
        raise DataError(
            f"target {name!r} has a single class, so there is nothing to separate",
            expected="at least two classes",
            got=", ".join(found) or "no labels",
            fix="add spectra of other classes, or check the --target column",
        )


def check_targets(
    spectra: Spectra, targets: list[str], task: str, *, training: bool = True
) -> None:
    """Refuse targets that cannot train a meaningful model.

    Parameters
    ----------
    spectra : Spectra
        Spectra whose ``meta`` holds the target columns.
    targets : list of str
        Target column names.
    task : str
        ``regression``, ``classification`` or ``multilabel``.
    training : bool, default=True
        False for validation or test spectra: only presence and type are checked (a
        single class or value is fine there).

    Raises
    ------
    DataError
        A missing column, a text or constant regression target, or fewer than two classes.

    Examples
    --------
    >>> import numpy as np
    >>> from spectrakit import Spectra
    >>> s = Spectra(np.ones((3, 4)), np.arange(4.0), meta={"y": [1.0, 1.0, 1.0]})
    >>> try:
    ...     check_targets(s, ["y"], "regression")
    ... except ValueError as exc:
    ...     print(str(exc).split(":")[0])
    target 'y' is constant, so there is nothing to learn
    """
    role = "training" if training else "validation or test"
    for name in targets:
        col = _column(spectra, name, role)
        if task == "regression":
            _check_regression(name, col, training)
        elif task == "classification" and training:
            _check_classes(name, col)


def check_same_axis(train: Spectra, other: Spectra, option: str) -> None:
    """Refuse ``other`` spectra (``--test``) on another axis than the training spectra.

    Checked before any cross-validation, so that a mismatch costs nothing; the rule is
    the chemometric models' own (the same grid, to rounding).

    Raises
    ------
    AxisError
        When the axes differ.
    """
    from spectrakit.core.errors import AxisError

    if not other.axis.allclose(train.axis, rtol=1e-7, atol=1e-9):
        raise AxisError(
            f"{option} spectra are on another axis than the training spectra",
            expected=train.axis.describe(),
            got=other.axis.describe(),
            fix="resample them onto the training axis first",
        )
