"""Read limits: no small or hostile file makes a reader allocate without bound or spin.

Every read runs under one :class:`ReadLimits` (default, or from the environment variable
``SPECTRAKIT_READ_LIMITS``, or passed as ``limits=`` to :func:`spectrakit.read`). A reader
charges what it is about to decode against the read's byte budget *before* decoding it; the
budget is ``max(min_budget_mb, max_expansion x file size)``, capped at ``max_budget_mb``.
Formats that cannot be checked up front (native HDF5 decoding) also run under a time bound.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import os
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from spectrakit.core.errors import ConfigError, FormatError

__all__ = [
    "ENV_VAR",
    "ReadLimits",
    "charge",
    "check_count",
    "check_distinct_offsets",
    "current_read",
    "reading",
    "within_read",
]

#: environment variable holding limit overrides, e.g. ``max_expansion=200,timeout_s=120``.
ENV_VAR = "SPECTRAKIT_READ_LIMITS"
_MB = 1024 * 1024
T = TypeVar("T")


@dataclass(frozen=True)
class ReadLimits:
    """How much a reader may decode and for how long.

    Parameters
    ----------
    max_expansion : float, default=20
        Decoded bytes allowed per byte of file (compressed or run-length coded data).
    min_budget_mb : float, default=16
        Decoded megabytes always allowed, whatever the file size.
    max_budget_mb : float, default=8192
        Decoded megabytes never exceeded, whatever the file size.
    max_blocks : int, default=10000
        Most blocks, subfiles, archive members or directory entries in one file.
    timeout_s : float, default=30
        Longest a native decoder (HDF5, MATLAB v7.3) may run before the read is stopped.

    Examples
    --------
    >>> ReadLimits().budget_bytes(1_000_000) // 1_000_000
    20
    >>> ReadLimits.parse("max_expansion=100, timeout_s=5").timeout_s
    5.0
    """

    max_expansion: float = 20.0
    min_budget_mb: float = 16.0
    max_budget_mb: float = 8192.0
    max_blocks: int = 10_000
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(
                    f"read limit {f.name} must be a positive number",
                    got=repr(value),
                    fix=f"pass {f.name}=<number > 0>",
                )

    def budget_bytes(self, file_size: int) -> int:
        """Decoded bytes allowed for a file of ``file_size`` bytes."""
        floor = self.min_budget_mb * _MB
        return int(min(self.max_budget_mb * _MB, max(floor, self.max_expansion * file_size)))

    @classmethod
    def parse(cls, text: str, base: ReadLimits | None = None) -> ReadLimits:
        """Limits from ``"name=value,name=value"`` text (the environment variable's form)."""
        base = base or cls()
        names = {f.name: f.type for f in dataclasses.fields(cls)}
        changes: dict[str, float | int] = {}
        for item in filter(None, (t.strip() for t in text.split(","))):
            key, _, value = item.partition("=")
            key = key.strip()
            if key not in names:
                raise ConfigError(
                    f"unknown read limit {key!r} in {ENV_VAR}",
                    expected="one of " + ", ".join(names),
                    got=repr(item),
                )
            try:
                changes[key] = int(value) if key == "max_blocks" else float(value)
            except ValueError:
                raise ConfigError(
                    f"read limit {key} is not a number", got=repr(value), fix=f"set {key}=<number>"
                ) from None
        return dataclasses.replace(base, **changes)

    @classmethod
    def from_env(cls) -> ReadLimits:
        """Defaults with the overrides of ``SPECTRAKIT_READ_LIMITS`` applied."""
        return cls.parse(os.environ.get(ENV_VAR, ""))


@dataclass
class _Read:
    """State of one read in progress: its limits, byte budget and options."""

    name: str
    limits: ReadLimits
    file_size: int
    allow_nan: bool = False
    used: int = 0

    @property
    def budget(self) -> int:
        return self.limits.budget_bytes(self.file_size)


_CURRENT: ContextVar[_Read | None] = ContextVar("spectrakit_read", default=None)


def _size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.iterdir() if p.is_file())
    return path.stat().st_size


@contextlib.contextmanager
def reading(
    path: Path, limits: ReadLimits | None = None, *, allow_nan: bool = False
) -> Iterator[_Read]:
    """Run the body as one read of ``path`` (the budget every :func:`charge` draws on)."""
    if limits is not None and not isinstance(limits, ReadLimits):
        raise ConfigError("limits must be a spectrakit.io.ReadLimits", got=type(limits).__name__)
    state = _Read(path.name, limits or ReadLimits.from_env(), _size_of(path), allow_nan)
    token = _CURRENT.set(state)
    try:
        yield state
    finally:
        _CURRENT.reset(token)


def current_read(path: Path | None = None) -> _Read:
    """The read in progress (a default one when a reader is called directly)."""
    state = _CURRENT.get()
    if state is None:
        size = _size_of(path) if path is not None and path.exists() else 0
        state = _Read(path.name if path else "input", ReadLimits.from_env(), size)
    return state


def within_read(reader: Callable[..., T]) -> Callable[..., T]:
    """Wrap a reader so that a direct call also runs as one read with its own budget."""

    @functools.wraps(reader)
    def wrapped(path: Path, *args: Any, **kwargs: Any) -> T:
        if _CURRENT.get() is not None:
            return reader(path, *args, **kwargs)
        with reading(Path(path)):
            return reader(path, *args, **kwargs)

    return wrapped


def _mb(n: float) -> str:
    return f"{n / _MB:.1f} MB" if n >= 0.1 * _MB else f"{int(n)} bytes"


def charge(nbytes: float, what: str, path: Path | None = None) -> None:
    """Count ``nbytes`` about to be decoded against the read's budget, or refuse the file.

    Raises
    ------
    FormatError
        When the read would decode more than its budget; the message names the limit and
        how to raise it.
    """
    state = current_read(path)
    total = state.used + max(0.0, float(nbytes))
    if total > state.budget:
        lim = state.limits
        raise FormatError(
            f"{state.name}: {what} would decode to {_mb(total)} from a {state.file_size}-byte file",
            expected=f"at most {_mb(state.budget)} (read limits max_expansion="
            f"{lim.max_expansion:g} x file size, min_budget_mb={lim.min_budget_mb:g})",
            got=_mb(total),
            fix="the file is damaged or hostile; if you trust it, raise the limit with "
            "read(..., limits=ReadLimits(max_expansion=...)) or the environment variable "
            f"{ENV_VAR}='max_expansion=...'",
        )
    state.used = int(total)


def check_count(count: int, what: str, path: Path | None = None) -> None:
    """Refuse a file declaring more blocks/entries than ``max_blocks``."""
    state = current_read(path)
    if count > state.limits.max_blocks:
        raise FormatError(
            f"{state.name} declares {count} {what}",
            expected=f"at most {state.limits.max_blocks} (read limit max_blocks)",
            got=str(count),
            fix="the file is damaged or hostile; if you trust it, raise the limit with "
            f"read(..., limits=ReadLimits(max_blocks=...)) or {ENV_VAR}='max_blocks=...'",
        )


def check_distinct_offsets(spans: list[tuple[int, int]], what: str, path: Path) -> None:
    """Refuse directory entries whose byte ranges ``(offset, size)`` coincide or overlap.

    A directory pointing many entries at one stored block would decode that block again
    for each entry: memory out of proportion to the file.
    """
    ordered = sorted((o, s) for o, s in spans if s > 0)
    for (a, sa), (b, sb) in itertools.pairwise(ordered):
        if b < a + sa:
            raise FormatError(
                f"{path.name}: two {what} entries point at the same bytes",
                expected=f"{what} stored at distinct offsets",
                got=f"bytes {a}-{a + sa} and {b}-{b + sb}",
                fix="the file directory is damaged or hostile; export the file again",
            )
