"""Streaming a stateless pipeline over a large store: read, transform and write overlap.

A reader thread and a writer thread run beside the transform, each joined to it by a
queue of at most ``depth`` blocks, so reading block ``k + 1``, transforming block ``k`` and
writing block ``k - 1`` happen at the same time (the file libraries and the compiled
kernels release the GIL) and memory stays bounded by a few blocks whatever the size of
the store.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from spectrakit.core.errors import ConfigError

if TYPE_CHECKING:
    from spectrakit.core.spectra import Spectra
    from spectrakit.preprocessing._pipeline import Pipeline

__all__ = ["is_stateless", "stream_transform"]

_DONE = object()


def is_stateless(pipeline: Pipeline) -> bool:
    """True when no step learns from data (each block can be transformed on its own)."""
    return all(not getattr(step, "_state_attrs", ()) for _, step in pipeline.steps)


def _producer(blocks: Iterable[Any], out: queue.Queue, stop: threading.Event) -> None:
    try:
        for block in blocks:
            while not stop.is_set():
                try:
                    out.put(block, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if stop.is_set():
                return
        out.put(_DONE)
    except BaseException as exc:  # handed to the consumer, raised there
        out.put(exc)


def _prefetch(blocks: Iterable[Any], depth: int) -> Iterator[Any]:
    """Iterate ``blocks`` with up to ``depth`` items read ahead in a thread."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    thread = threading.Thread(target=_producer, args=(blocks, q, stop), daemon=True)
    thread.start()
    try:
        while (item := q.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def stream_transform(
    pipeline: Pipeline,
    blocks: Iterable[Spectra],
    write: Callable[[Spectra], None],
    depth: int = 2,
) -> int:
    """Transform every block with ``pipeline`` and hand the results to ``write`` in order.

    Parameters
    ----------
    pipeline : Pipeline
        Stateless (:func:`is_stateless`); fitted (axis recorded) on the first block.
    blocks : iterable of Spectra
        The input, block by block (e.g. row groups of a Parquet file).
    write : callable
        Called with each transformed block, in input order, from a writer thread.
    depth : int, default=2
        Blocks read ahead and blocks waiting to be written (memory bound).

    Returns
    -------
    int
        Spectra written.
    """
    if not is_stateless(pipeline):
        raise ConfigError(
            "this pipeline learns from the data, so it cannot be applied block by block",
            got=", ".join(n for n, s in pipeline.steps if getattr(s, "_state_attrs", ())),
            fix="fit it on the whole data set in memory, or save a fitted pipeline first",
        )
    results: queue.Queue = queue.Queue(maxsize=depth)
    failure: list[BaseException] = []

    def writer() -> None:
        while (item := results.get()) is not _DONE:
            if not failure:
                try:
                    write(item)
                except BaseException as exc:
                    failure.append(exc)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    count, fitted = 0, False
    try:
        for block in _prefetch(blocks, depth):
            if failure:
                break
            if not fitted:
                pipeline.fit(block)
                fitted = True
            out = pipeline.transform(block)
            results.put(out)
            count += out.n_spectra
    finally:
        results.put(_DONE)
        thread.join()
    if failure:
        raise failure[0]
    return count
