"""Numeric input: one conversion to float64 that refuses text and objects in one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spectrakit.core.errors import DataError, SpectraError

__all__ = ["as_float64"]


def _type_name(value: Any) -> str:
    return type(value).__name__


def as_float64(
    values: Any,
    message: str,
    *,
    error: type[SpectraError] = DataError,
    expected: str | None = None,
    got: Callable[[Any], str] = _type_name,
    fix: str | None = None,
) -> np.ndarray:
    """``values`` as a float64 array of any shape, else one ``error`` saying ``message``.

    Parameters
    ----------
    values : array-like
        Numbers (nested sequences, arrays, scalars).
    message, expected, fix : str
        The error's text when ``values`` is not numeric.
    error : SpectraError subclass, default=DataError
        The error raised.
    got : callable, default: the type name
        Describes ``values`` for the message (called only on failure).

    Returns
    -------
    ndarray of float64
        Same shape as ``values``; no copy when it already is a float64 array.
    """
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise error(message, expected=expected, got=got(values), fix=fix) from exc
