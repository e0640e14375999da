"""Parameter checks for the dataset generators: one clear ConfigError per bad argument."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from spectrakit.core.errors import ConfigError
from spectrakit.core.numeric import as_float64

__all__ = [
    "check_choice",
    "check_count",
    "check_finite_array",
    "check_fraction",
    "check_nonnegative",
    "check_range",
]


def check_count(name: str, value: Any, *, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (bools and floats with a fraction are refused)."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or int(value) < minimum:
        raise ConfigError(
            f"invalid {name}",
            expected=f"an integer >= {minimum}",
            got=repr(value),
            fix=f"pass {name}={max(minimum, 1)} or more",
        )
    return int(value)


def check_nonnegative(name: str, value: Any) -> float:
    """A finite number ``>= 0``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v) or v < 0:
        raise ConfigError(
            f"invalid {name}",
            expected="a finite number >= 0",
            got=repr(value),
            fix=f"pass {name}=0 to switch it off",
        )
    return v


def check_fraction(name: str, value: Any) -> float:
    """A number in [0, 1]."""
    v = check_nonnegative(name, value)
    if v > 1:
        raise ConfigError(f"invalid {name}", expected="a number in [0, 1]", got=repr(value))
    return v


def check_range(name: str, value: Any, *, nonnegative: bool = True) -> tuple[float, float]:
    """A ``(low, high)`` pair with ``low <= high`` (a single number means ``(v, v)``)."""
    arr = np.atleast_1d(np.asarray(value, dtype=object))
    try:
        lo, hi = (float(arr[0]), float(arr[0])) if arr.size == 1 else map(float, arr)
    except (TypeError, ValueError):
        lo = hi = float("nan")
    bad = not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi or (nonnegative and lo < 0)
    if bad or arr.size > 2:
        raise ConfigError(
            f"invalid {name}",
            expected="a (low, high) pair of finite numbers with low <= high"
            + (", both >= 0" if nonnegative else ""),
            got=repr(value),
        )
    return lo, hi


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if value not in choices:
        raise ConfigError(
            f"unknown {name}",
            expected="one of " + ", ".join(map(repr, choices)),
            got=repr(value),
        )
    return str(value)


def check_finite_array(name: str, value: Any, *, ndim: int) -> np.ndarray:
    """A finite float64 array with ``ndim`` dimensions and at least one element."""
    arr = as_float64(
        value,
        f"{name} is not numeric",
        error=ConfigError,
        expected="numbers",
        got=lambda v: repr(v)[:80],
    )
    if arr.ndim != ndim or arr.size == 0:
        raise ConfigError(
            f"{name} has the wrong shape",
            expected=f"a non-empty {ndim}D array",
            got=f"shape {arr.shape}",
        )
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} contains NaN or infinity", expected="finite numbers")
    return arr
