"""Row-block parallelism for kernels that release the GIL (numba, SciPy, LAPACK).

Spectra are independent rows, so a block of them splits into contiguous row blocks that
threads process at the same time; the kernels release the GIL, so the blocks truly run in
parallel. Small blocks run in a single call, where starting threads would cost more.

A large block is cut into chunks of about :data:`CHUNK_SIZE` values, which the threads
take in turn. A kernel's temporaries then stay at a few MB: they are reused by the
allocator and stay in cache, where one chunk per thread made every temporary a fresh
mapping of tens of MB whose page faults cost as much as the arithmetic. Every step's
result for a spectrum does not depend on the other rows of its call, so the chunking
changes no value.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["CHUNK_SIZE", "N_THREADS", "PARALLEL_MIN_SIZE", "map_rows", "run_rows"]

#: threads for row blocks: the CPU cores this process may use, at most 4.
N_THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))
#: below this many values a block is processed in one call.
PARALLEL_MIN_SIZE = 400_000
#: values per chunk of a large block (8 MB of float64).
CHUNK_SIZE = 1_048_576


def _bounds(n_rows: int, size: int, min_size: int | None) -> np.ndarray | None:
    """Row bounds of the chunks, or None when one call is better."""
    min_size = PARALLEL_MIN_SIZE if min_size is None else min_size
    n_chunks = min(n_rows, max(N_THREADS, -(-size // CHUNK_SIZE)))
    if size < min_size or n_chunks < 2:
        return None
    return np.linspace(0, n_rows, n_chunks + 1).astype(np.intp)


def _workers(bounds: np.ndarray) -> int:
    return min(N_THREADS, len(bounds) - 1)


def map_rows(
    func: Callable[[np.ndarray], np.ndarray], X: np.ndarray, min_size: int | None = None
) -> np.ndarray:
    """Apply a row-wise function to ``X`` of shape (n, p), split across threads when it pays.

    Returns
    -------
    ndarray of shape (n, ...)
        The row blocks' results, concatenated in order.
    """
    bounds = _bounds(X.shape[0], X.size, min_size)
    if bounds is None:
        return func(X)
    with ThreadPoolExecutor(_workers(bounds)) as pool:
        parts = list(pool.map(func, [X[a:b] for a, b in itertools.pairwise(bounds)]))
    return np.concatenate(parts, axis=0)


def run_rows(
    kernel: Callable[..., None],
    X: np.ndarray,
    out: np.ndarray,
    *args: object,
    min_size: int | None = None,
) -> None:
    """Call ``kernel(X_block, *args, out_block)`` on row blocks of ``X`` in parallel threads.

    Parameters
    ----------
    kernel : callable
        A row kernel that releases the GIL and writes its result into ``out``.
    X : ndarray of shape (n, p)
    out : ndarray of shape (n, ...)
        Receives the result, row block by row block.
    *args
        Extra arguments passed between the block and ``out``.
    min_size : int, optional
        Blocks with fewer values run in one call (default :data:`PARALLEL_MIN_SIZE`).
    """
    bounds = _bounds(X.shape[0], X.size, min_size)
    if bounds is None:
        kernel(X, *args, out)
        return
    with ThreadPoolExecutor(_workers(bounds)) as pool:
        jobs = [pool.submit(kernel, X[a:b], *args, out[a:b]) for a, b in itertools.pairwise(bounds)]
        for job in jobs:
            job.result()
