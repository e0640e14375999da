"""Argument types that validate at parse time: a bad value stops before any work.

Each factory returns a callable for ``argparse``'s ``type=``; a bad value raises
:class:`argparse.ArgumentTypeError`, which the parser prints as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "bounded_float",
    "bounded_int",
    "fraction",
    "new_folder",
    "port",
    "positive_int",
    "suffix_path",
]


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text.strip())
    except (TypeError, ValueError, AttributeError):
        name = "an integer" if kind is int else "a number"
        raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _range_text(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high:g}")
    return " and ".join(parts)


def _bounded(
    kind: type, low: float | None, high: float | None, low_open: bool, high_open: bool
) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        value = _number(text, kind)
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            raise argparse.ArgumentTypeError(
                f"expected a value {_range_text(low, high, low_open, high_open)}, got {text}"
            )
        return value

    parse.__name__ = "integer" if kind is int else "number"  # argparse names it in errors
    return parse


def bounded_int(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An integer in ``[low, high]`` (either bound optional).

    Examples
    --------
    >>> bounded_int(1)("3")
    3
    """
    return _bounded(int, low, high, False, False)  # type: ignore[return-value]


def bounded_float(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> Callable[[str], float]:
    """A finite float between ``low`` and ``high``; ``*_open`` excludes the bound.

    Examples
    --------
    >>> bounded_float(0, 1, low_open=True, high_open=True)("0.1")
    0.1
    """
    return _bounded(float, low, high, low_open, high_open)  # type: ignore[return-value]


#: an integer >= 1 (a count, a batch size)
positive_int = bounded_int(1)
#: a number strictly between 0 and 1 (a rate, a miscoverage)
fraction = bounded_float(0, 1, low_open=True, high_open=True)
#: a TCP port a server may bind (0 lets the system choose a free one)
port = bounded_int(0, 65535)


def suffix_path(*suffixes: str) -> Callable[[str], str]:
    """A path whose extension is one of ``suffixes`` (case-insensitive).

    Examples
    --------
    >>> suffix_path(".png", ".svg")("plot.png")
    'plot.png'
    """

    def parse(text: str) -> str:
        if not text or Path(text).suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(
                f"expected a file ending in {', '.join(suffixes)}, got {text!r}"
            )
        return text

    parse.__name__ = "path"
    return parse


def new_folder(text: str) -> str:
    """A folder path that is neither empty, nor the working folder, nor one of its parents.

    Examples
    --------
    >>> new_folder("deployed/glucose")
    'deployed/glucose'
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder name, got ''")
    here = Path.cwd().resolve()
    real = Path(text).resolve()
    if real == here or real in here.parents:
        raise argparse.ArgumentTypeError(
            f"expected a new folder, got {text!r} (the working folder or one of its parents; "
            "its files would be replaced)"
        )
    return text


new_folder.__name__ = "folder"
