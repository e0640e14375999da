"""Where batch work runs: ``dask://HOST:PORT`` (a running scheduler) or ``local:N``.

``local:N`` starts a :class:`distributed.LocalCluster` of N single-threaded worker
processes on this machine (``processes=False`` keeps them as threads of this process, for
tests and notebooks); ``dask://HOST:PORT`` connects to a scheduler started elsewhere with
``dask scheduler`` / ``dask worker`` (or dask-jobqueue on SLURM). The cluster is closed when
the block ends; a connected scheduler is left running.

The compiled kernels split a block into row blocks on threads. In a worker process they use
``SPECTRAKIT_KERNEL_THREADS`` threads (:data:`KERNEL_THREADS_ENV`): ``local:N`` sets it to
this machine's cores divided by N, so N workers do not start N times as many threads as
there are cores; set it on ``dask worker`` hosts the same way (cores per worker process).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from spectrakit.core.errors import ConfigError

__all__ = ["KERNEL_THREADS_ENV", "connect", "kernel_threads_in_worker", "parse_cluster"]

#: environment variable: threads of the compiled kernels in a worker process
KERNEL_THREADS_ENV = "SPECTRAKIT_KERNEL_THREADS"

_REMOTE = re.compile(r"^dask://([A-Za-z0-9_.\-\[\]:]+):(\d{1,5})$")
_LOCAL = re.compile(r"^local:(\d{1,4})$")
_FORMS = "dask://HOST:PORT (a running scheduler) or local:N (N local workers)"


def parse_cluster(spec: str) -> tuple[str, Any]:
    """``("remote", "tcp://HOST:PORT")`` or ``("local", N)``; anything else is refused."""
    text = str(spec).strip()
    if m := _REMOTE.match(text):
        port = int(m.group(2))
        if not 0 < port < 65536:
            raise ConfigError("invalid --cluster port", expected="1-65535", got=str(port))
        return "remote", f"tcp://{m.group(1)}:{port}"
    if m := _LOCAL.match(text):
        n = int(m.group(1))
        if n < 1:
            raise ConfigError("invalid --cluster", expected="local:N with N >= 1", got=text)
        return "local", n
    raise ConfigError("invalid --cluster", expected=_FORMS, got=repr(text)[:80])


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def kernel_threads_in_worker() -> None:
    """In a worker process started with ``SPECTRAKIT_KERNEL_THREADS``, use that many threads.

    Called at the start of every task; does nothing elsewhere (the client, in-process
    workers), so results and threads of this process are untouched.
    """
    value = os.environ.get(KERNEL_THREADS_ENV, "")
    if value.isdigit() and int(value) >= 1:
        from spectrakit.core import threads

        threads.N_THREADS = min(int(value), threads.N_THREADS)


@contextmanager
def connect(spec: str, *, processes: bool = True, timeout: float = 10.0) -> Iterator[Any]:
    """A ``distributed.Client`` for ``spec`` (see :func:`parse_cluster`), closed on exit."""
    kind, target = parse_cluster(spec)
    from distributed import Client, LocalCluster

    if kind == "local":
        per_worker = {KERNEL_THREADS_ENV: str(max(1, _cores() // target))}
        cluster = LocalCluster(
            n_workers=target, threads_per_worker=1, processes=processes,
            dashboard_address=None, silence_logs=40, **({"env": per_worker} if processes else {}),
        )  # fmt: skip
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(target, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            "cannot reach the Dask scheduler",
            expected=f"a scheduler listening at {target}",
            got=str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__,
            fix="start one with `dask scheduler` (and `dask worker`), or use --cluster local:N",
        ) from exc
    with client:
        yield client
