"""Progress bars on long work, shown only to a person watching a terminal.

:func:`progress` wraps an iterable (or gives a bar to update by hand) with a tqdm bar on
standard error. It is silent, and costs nothing, when standard error is not a terminal (logs,
pipes, CI), when ``SPECTRAKIT_NO_PROGRESS=1`` is set, or after :func:`disable_progress`
(what the command line's ``--no-progress`` does). Results never go to standard error, so a
bar never mixes with them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["ENV_VAR", "disable_progress", "progress", "progress_enabled"]

#: environment variable that silences every bar when set to ``1``.
ENV_VAR = "SPECTRAKIT_NO_PROGRESS"
T = TypeVar("T")
_disabled = False


def disable_progress(disabled: bool = True) -> bool:
    """Silence (or, with ``False``, allow again) every progress bar; returns the old setting."""
    global _disabled
    before, _disabled = _disabled, bool(disabled)
    return before


def progress_enabled() -> bool:
    """Whether a bar would be shown now: standard error is a terminal and nobody said no."""
    if _disabled or os.environ.get(ENV_VAR, "").strip() not in ("", "0"):
        return False
    stream = sys.stderr
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class _Quiet:
    """The bar when none is shown: iterates and accepts updates, prints nothing."""

    def __init__(self, iterable: Iterable[Any] | None) -> None:
        self._iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self._iterable if self._iterable is not None else ())

    def update(self, n: float = 1) -> None:
        return None

    def set_postfix_str(self, text: str) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def progress(
    iterable: Iterable[T] | None = None,
    total: float | None = None,
    desc: str | None = None,
    **options: Any,
) -> Any:
    """A progress bar over ``iterable`` (or, without one, a bar to ``update`` by hand).

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate; the bar advances by one per item. Without it, use the returned bar
        as a context manager and call ``bar.update(n)``.
    total : float, optional
        Number of items (or bytes, spectra, ...) expected; ``len(iterable)`` when omitted
        and available.
    desc : str, optional
        Short label in front of the bar (``"explain"``, ``"download ramanspy.zip"``).
    **options
        Passed to :class:`tqdm.tqdm` (``unit="B"``, ``unit_scale=True``, ...).

    Returns
    -------
    iterable or bar
        A tqdm bar on standard error, or a silent stand-in with the same methods
        (``__iter__``, ``update``, ``close``, context manager) when bars are off.

    Examples
    --------
    >>> sum(progress(range(4), desc="adding"))  # silent off a terminal
    6
    """
    if not progress_enabled():
        return iterable if iterable is not None else _Quiet(None)
    from tqdm import tqdm

    options.setdefault("leave", False)
    options.setdefault("dynamic_ncols", True)
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, **options)
