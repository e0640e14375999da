"""Row-block parallelism for kernels that release the GIL (numba, SciPy, LAPACK).

Spectra are independent rows, so a block of them splits into contiguous row blocks that
threads process at the same time; the kernels release the GIL, so the blocks truly run in
parallel. Small blocks run in a single call, where starting threads would cost more.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["N_THREADS", "PARALLEL_MIN_SIZE", "map_rows", "run_rows"]

#: threads for row blocks: the CPU cores this process may use, at most 4.
N_THREADS = max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))
#: below this many values a block is processed in one call.
PARALLEL_MIN_SIZE = 400_000


def _bounds(n_rows: int, size: int, min_size: int) -> np.ndarray | None:
    """Row bounds of the blocks, or None when one call is better."""
    n_blocks = min(N_THREADS, n_rows)
    if n_blocks < 2 or size < min_size:
        return None
    return np.linspace(0, n_rows, n_blocks + 1).astype(np.intp)


def map_rows(
    func: Callable[[np.ndarray], np.ndarray], X: np.ndarray, min_size: int = PARALLEL_MIN_SIZE
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
    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        parts = list(pool.map(func, [X[a:b] for a, b in itertools.pairwise(bounds)]))
    return np.concatenate(parts, axis=0)


def run_rows(
    kernel: Callable[..., None],
    X: np.ndarray,
    out: np.ndarray,
    *args: object,
    min_size: int = PARALLEL_MIN_SIZE,
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
    min_size : int
        Blocks with fewer values run in one call.
    """
    bounds = _bounds(X.shape[0], X.size, min_size)
    if bounds is None:
        kernel(X, *args, out)
        return
    with ThreadPoolExecutor(len(bounds) - 1) as pool:
        jobs = [pool.submit(kernel, X[a:b], *args, out[a:b]) for a, b in itertools.pairwise(bounds)]
        for job in jobs:
            job.result()
