"""One name for metadata columns that files spell several ways (the fold index)."""

from __future__ import annotations

import pandas as pd

__all__ = ["FOLD", "FOLD_ALIASES", "canonical_meta", "find_fold_column", "resolve_column"]

#: the name every reader gives the cross-validation fold column
FOLD = "fold"
#: other spellings found in files (compared lower-case, stripped); read as :data:`FOLD`
FOLD_ALIASES = ("fold_idx", "folds", "fold_id", "fold_index", "cv_fold")


def find_fold_column(columns: pd.Index | list) -> object | None:
    """The column holding the fold index: ``fold`` itself, else the first alias present."""
    if FOLD in columns:
        return FOLD
    return next((c for c in columns if str(c).strip().lower() in FOLD_ALIASES), None)


def canonical_meta(meta: pd.DataFrame) -> pd.DataFrame:
    """``meta`` with its fold column named :data:`FOLD` (unchanged when there is none).

    A file that holds both ``fold`` and an alias keeps both: nothing is overwritten.
    """
    found = find_fold_column(meta.columns)
    if found is None or found == FOLD:
        return meta
    return meta.rename(columns={found: FOLD})


def resolve_column(columns: pd.Index | list, name: str) -> object:
    """``name`` if present; a fold name (``fold``, ``fold_idx``, ...) finds the fold column.

    So ``--groups fold_idx`` keeps working on spectra whose reader named the column ``fold``.
    """
    if name in columns:
        return name
    if str(name).strip().lower() in (FOLD, *FOLD_ALIASES):
        found = find_fold_column(columns)
        if found is not None:
            return found
    return name
