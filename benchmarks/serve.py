"""Bounded load test of the HTTP service on loopback: latency percentiles and throughput.

Starts ``spectrakit serve`` in a subprocess on 127.0.0.1, sends N requests (default 2,000)
with C concurrent clients (default 16), and checks that none is lost. Usage:
python benchmarks/serve.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from _bundles import make_bundle, make_spectra


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, body: dict, n: int, concurrency: int) -> tuple[list[float], list[int]]:
    latencies: list[float] = []
    statuses: list[int] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while True:
            try:
                queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t = time.perf_counter()
            try:
                r = await client.post(url, json=body)
                statuses.append(r.status_code)
            except httpx.HTTPError:
                statuses.append(0)
            latencies.append(time.perf_counter() - t)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    return latencies, statuses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--model", default="cnn1d_tiny")
    ap.add_argument("--points", type=int, default=1000)
    args = ap.parse_args()
    spectra = make_spectra(1, args.points)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = make_bundle(Path(tmp) / "bundle", args.model, spectra)
        port = _free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "spectrakit",
                "serve",
                "--model",
                str(bundle),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while True:
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.time() > deadline or proc.poll() is not None:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            body = {"spectrum": spectra.values[0].tolist()}
            start = time.perf_counter()
            lat, statuses = asyncio.run(
                _load(base + "/predict", body, args.requests, args.concurrency)
            )
            wall = time.perf_counter() - start
        finally:
            stop = time.perf_counter()
            proc.terminate()  # uvicorn drains in-flight requests, then exits
            proc.wait(30)
            stop_s = time.perf_counter() - stop
    lat_ms = 1e3 * np.asarray(lat)
    ok = statuses.count(200)
    print(
        f"model {args.model}, {args.points} points, {args.requests} requests, "
        f"{args.concurrency} concurrent clients"
    )
    print(f"{'answered 200':<16}{ok}/{args.requests} (lost or failed: {args.requests - ok})")
    print(f"{'p50 latency':<16}{np.percentile(lat_ms, 50):.1f} ms")
    print(f"{'p99 latency':<16}{np.percentile(lat_ms, 99):.1f} ms")
    print(f"{'throughput':<16}{args.requests / wall:.0f} requests/s")
    print(f"{'shutdown':<16}stopped {stop_s:.1f} s after SIGTERM")
    if ok != args.requests:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
