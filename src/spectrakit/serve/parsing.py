"""Untrusted input parsed in worker processes that can be stopped.

An uploaded file goes through a format reader, some of which run native code that cannot be
interrupted; a large JSON body takes longer to decode than the event loop may stall. Both run
in a small pool of spawned processes: a job that exceeds its time is answered with 503 and its
process is killed and replaced, so neither the event loop nor a worker is ever left stuck.
Replies come back as :func:`spectrakit.serve.codec.pack` bytes (never pickle).

A process joins the idle queue only once it reports itself ready (its readers loaded), so a
request's time limit never includes a parser's start-up: the service starts its parsers
while it starts, and a replacement loads while the others keep serving.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import orjson

from spectrakit.serve._parse_child import READY, read_frame, write_frame
from spectrakit.serve.codec import Decoded, unpack
from spectrakit.serve.errors import BadRequest

__all__ = ["ParsePool"]

log = logging.getLogger("spectrakit.serve")


class _Worker:
    """One parsing process, spoken to over its stdin and stdout."""

    def __init__(self, memory_mb: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "spectrakit.serve._parse_child", str(int(memory_mb))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )

    def wait_ready(self) -> bool:
        """Block until the process reports its readers loaded (False: it ended first)."""
        assert self.process.stdout is not None
        try:
            return read_frame(self.process.stdout) == READY
        except (OSError, ValueError):  # killed and its pipe closed meanwhile
            return False

    def roundtrip(self, request: bytes) -> bytes:
        """Send one job and wait for its reply (runs in a helper thread)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        write_frame(self.process.stdin, request)
        reply = read_frame(self.process.stdout)
        if reply is None:
            raise EOFError("parsing process ended")
        return reply

    def kill(self) -> None:
        """Stop the process at once (SIGKILL) and reap it."""
        self.process.kill()
        self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class ParsePool:
    """A fixed number of parsing processes, each doing one job at a time.

    Parameters
    ----------
    n_workers : int
        Processes (and so the most jobs at once).
    memory_mb : int
        Address-space growth each process may use (Linux; a job over it fails with 422).
    """

    def __init__(self, n_workers: int, memory_mb: int) -> None:
        self.n_workers = int(n_workers)
        self.memory_mb = int(memory_mb)
        self._threads = ThreadPoolExecutor(self.n_workers, thread_name_prefix="spectrakit-parse")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()

    def start(self) -> None:
        """Start the processes (on a running event loop; idempotent).

        The service calls it while it starts; without that, the first job does. Each process
        becomes idle (takes jobs) once it has reported ready.
        """
        if self._idle is not None:
            return
        self._idle = asyncio.Queue()
        for _ in range(self.n_workers):
            self._spawn()

    @property
    def n_ready(self) -> int:
        """Processes idle and ready for a job now."""
        return 0 if self._idle is None else self._idle.qsize()

    def _spawn(self) -> None:
        """Start a process; it joins the idle queue when ready (it is waited for in a thread)."""
        worker = _Worker(self.memory_mb)
        self._all.add(worker)
        loop = asyncio.get_running_loop()
        assert self._idle is not None
        idle = self._idle

        def when_ready() -> None:
            if worker.wait_ready():
                try:
                    loop.call_soon_threadsafe(idle.put_nowait, worker)
                except RuntimeError:  # the service stopped meanwhile
                    worker.kill()
            elif worker in self._all:  # not killed by close(): it failed to start
                self._all.discard(worker)
                log.error("a parsing process ended while starting (exit %s)", worker.process.poll())

        threading.Thread(target=when_ready, name="spectrakit-parse-start", daemon=True).start()

    def _retire(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.kill()
        self._spawn()

    def close(self) -> None:
        """Stop every process."""
        for worker in list(self._all):
            worker.kill()
        self._all.clear()
        self._threads.shutdown(wait=False, cancel_futures=True)

    async def parse_file(
        self, data: bytes, suffix: str, max_abs: float, timeout_s: float
    ) -> Decoded:
        """Read an uploaded file (its name's suffix picks the reader)."""
        header = {"job": "file", "suffix": suffix, "max_abs": max_abs}
        return await self._run(header, data, timeout_s, "the upload")

    async def decode_json(
        self,
        body: bytes,
        allowed: tuple[str, ...],
        max_spectra: int,
        max_abs: float,
        timeout_s: float,
    ) -> Decoded:
        """:func:`spectrakit.serve.codec.decode_json` in a parsing process."""
        header = {
            "job": "json",
            "allowed": list(allowed),
            "max_spectra": max_spectra,
            "max_abs": max_abs,
        }
        return await self._run(header, body, timeout_s, "the JSON body")

    async def _run(self, header: dict, payload: bytes, timeout_s: float, what: str) -> Decoded:
        self.start()
        assert self._idle is not None
        deadline = time.monotonic() + timeout_s
        try:
            worker = await asyncio.wait_for(self._idle.get(), timeout_s)
        except TimeoutError:
            raise BadRequest(
                503, f"all {self.n_workers} parsers stayed busy for {timeout_s:g} s; retry later"
            ) from None
        head = orjson.dumps(header)
        request = len(head).to_bytes(8, "little") + head + payload
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(self._threads, worker.roundtrip, request)
        try:
            reply = await asyncio.wait_for(job, max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            log.warning("parsing %s exceeded %g s: parser process stopped", what, timeout_s)
            self._retire(worker)
            raise BadRequest(
                503,
                f"parsing {what} took longer than {timeout_s:g} s and was stopped; send a smaller "
                "or undamaged file (the limit is the service's --timeout)",
            ) from None
        except (EOFError, OSError):
            self._retire(worker)
            raise BadRequest(
                422,
                f"{what} could not be parsed: the parser stopped (damaged input, or more than "
                f"{self.memory_mb} MiB needed to read it)",
            ) from None
        self._idle.put_nowait(worker)
        return _reply(reply)


def _reply(reply: bytes) -> Decoded:
    if reply[:1] == b"E":
        err = orjson.loads(reply[1:])
        raise BadRequest(err["status"], err["error"])
    return unpack(reply[1:])
