"""Numeric helpers: one float64 conversion, one refusal of NaN and infinity, one patch window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from spectrakit.core.errors import DataError, SpectraError

__all__ = ["as_float64", "central_span", "refuse_nonfinite"]


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


def refuse_nonfinite(
    arr: np.ndarray, message: str, *, expected: str, what: str, fix: str | None = None
) -> None:
    """Raise one :class:`DataError` saying ``message`` when ``arr`` holds NaN or infinity.

    Parameters
    ----------
    arr : ndarray of shape (n,) or (n, ...)
        One row per spectrum.
    message, expected, fix : str
        The error's text.
    what : str
        What a bad row is, after its count in the message (``"3 bad spectra"``).
    """
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = int(bad.reshape(len(bad), -1).any(axis=1).sum())
        raise DataError(message, expected=expected, got=f"{rows} {what}", fix=fix)


def central_span(n: int, multiple: int) -> tuple[int, int]:
    """(start, stop) of the central whole multiples of ``multiple`` among ``n`` points.

    The one centre-crop rule of patch models, shared by preprocessing, pretraining data and
    the any-grid predictors so that they cut the same points. ``start == stop`` when ``n`` is
    shorter than one multiple (the caller refuses that in its own terms).

    Parameters
    ----------
    n : int
        Points available.
    multiple : int
        Patch length (> 0).
    """
    usable = (int(n) // int(multiple)) * int(multiple)
    start = (int(n) - usable) // 2
    return start, start + usable
