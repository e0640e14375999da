"""Micro-batching: concurrent requests share one model call.

Requests queue up while the model is busy; the next call takes all that fit in
``max_batch_size`` spectra, optionally waiting up to ``max_wait_s`` after the first arrival
for more. That wait is skipped while requests come one at a time (the previous call served
a single request): a lone client would only pay it, as nothing arrives to share the call.
A call measured to be short (``max_inline_s``) runs on the event loop's own thread: for a
small model two thread hand-offs cost more than the call. Each request gets back exactly its
own rows. A batch that fails is retried request by
request, so one bad request never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from spectrakit.serve.errors import BadRequest

__all__ = ["MicroBatcher"]


@dataclass
class _Item:
    values: np.ndarray
    future: asyncio.Future
    arrived: float


class MicroBatcher:
    """Group concurrent prediction requests into batches run on one executor thread.

    Parameters
    ----------
    run_batch : callable
        ``run_batch(values (n, L)) -> list`` of n results, one per spectrum.
    executor : Executor
        Where ``run_batch`` runs (one thread: the model is not shared between threads).
    max_batch_size : int
        Most spectra in one call (a larger request runs alone).
    max_wait_s : float
        Longest wait for more requests after the first one of a batch.
    max_pending : int
        Requests allowed to wait; more are refused with 503.
    max_inline_s : float, default=0
        Calls whose expected duration (the running mean of the calls so far, per spectrum,
        times the batch's spectra) is at most this run inline, on the event loop; the first
        call always runs on ``executor``. Only for a ``run_batch`` that is safe to call
        from two threads (an onnxruntime session is).
    """

    def __init__(
        self,
        run_batch: Callable[[np.ndarray], list],
        executor: Executor,
        max_batch_size: int,
        max_wait_s: float,
        max_pending: int,
        max_inline_s: float = 0.0,
    ) -> None:
        self.run_batch = run_batch
        self.executor = executor
        self.max_batch_size = int(max_batch_size)
        self.max_wait_s = float(max_wait_s)
        self.max_pending = int(max_pending)
        self.max_inline_s = float(max_inline_s)
        self._per_spectrum: float | None = None  # running mean of a call's seconds per spectrum
        self.inline_calls = 0  # calls made on the event loop's thread
        self._queue: deque[_Item] = deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self.batches = 0  # model calls made (for tests and metrics)
        self.waits = 0  # times a batch waited for more requests
        self._last_requests = 0  # requests in the previous call (0: none yet)

    async def submit(self, values: np.ndarray) -> list:
        """Results for ``values`` (n, L), computed in some batch."""
        if len(self._queue) >= self.max_pending:
            raise BadRequest(
                503, f"server busy: {self.max_pending} requests are waiting; retry shortly"
            )
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._wakeup = asyncio.Event()
            self._task = loop.create_task(self._serve())
        item = _Item(values, loop.create_future(), time.monotonic())
        self._queue.append(item)
        assert self._wakeup is not None
        self._wakeup.set()
        return await item.future

    def close(self) -> None:
        """Stop the batching task."""
        if self._task is not None:
            self._task.cancel()

    def _take(self, batch: list[_Item], size: int) -> int:
        while self._queue:
            item = self._queue[0]
            if item.future.done():  # timed out or cancelled while waiting
                self._queue.popleft()
                continue
            n = item.values.shape[0]
            if batch and size + n > self.max_batch_size:
                break
            batch.append(self._queue.popleft())
            size += n
        return size

    async def _serve(self) -> None:
        assert self._wakeup is not None
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                batch: list[_Item] = []
                size = self._take(batch, 0)
                if batch and size < self.max_batch_size and self._worth_waiting():
                    left = batch[0].arrived + self.max_wait_s - time.monotonic()
                    if left > 0:
                        self.waits += 1
                        await asyncio.sleep(left)
                    size = self._take(batch, size)
                if batch:
                    self._last_requests = len(batch)
                    await self._execute(batch)

    def _worth_waiting(self) -> bool:
        """Wait for more requests unless they have been coming one at a time."""
        return self.max_wait_s > 0 and self._last_requests != 1

    def _timed(self, values: np.ndarray) -> tuple[list, float]:
        start = time.perf_counter()
        results = self.run_batch(values)
        return results, time.perf_counter() - start

    async def _run(self, values: np.ndarray) -> list:
        """``run_batch(values)``, inline when it is expected to be short, else on the executor."""
        n = values.shape[0]
        expected = None if self._per_spectrum is None else self._per_spectrum * n
        if expected is not None and expected <= self.max_inline_s:
            self.inline_calls += 1
            results, seconds = self._timed(values)
        else:
            loop = asyncio.get_running_loop()
            results, seconds = await loop.run_in_executor(self.executor, self._timed, values)
        per = seconds / n
        self._per_spectrum = (
            per if self._per_spectrum is None else 0.8 * self._per_spectrum + 0.2 * per
        )
        return results

    async def _execute(self, batch: list[_Item]) -> None:
        values = batch[0].values if len(batch) == 1 else np.concatenate([b.values for b in batch])
        self.batches += 1
        try:
            results = await self._run(values)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0], exc=exc)
                return
            for item in batch:  # find the culprit: each request alone
                await self._execute([item])
            return
        start = 0
        for item in batch:
            n = item.values.shape[0]
            _settle(item, result=results[start : start + n])
            start += n


def _settle(item: _Item, result: list | None = None, exc: BaseException | None = None) -> None:
    if item.future.done():
        return
    if exc is not None:
        item.future.set_exception(exc)
    else:
        item.future.set_result(result)
