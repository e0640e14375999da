"""Latency and throughput of ``spectrakit serve`` against a plain FastAPI + torch service.

Both services serve the same untrained ``cnn1d_tiny`` bundle on 127.0.0.1, with the same
number of uvicorn workers, and are measured in the same run by the same lean keep-alive HTTP
client with 1, 16 and 64 concurrent connections (bounded request counts). spectrakit is
measured with JSON bodies and with binary float32 bodies; its bundle has an ONNX export, so
it serves through onnxruntime with micro-batching. The baseline is what one writes in ten
lines: a pydantic body, the torch model in a sync endpoint. Usage::

    python benchmarks/serve.py [--requests 2000] [--workers 2] [--points 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
from pydantic import BaseModel

HERE = Path(__file__).resolve().parent
CLIENTS = (1, 16, 64)


# ---------------------------------------------------------------------- the baseline service
class Body(BaseModel):
    """The baseline's request body: one spectrum as a list of floats."""

    spectrum: list[float]


def baseline_app():
    """The peer: FastAPI + pydantic + torch, one spectrum per request (uvicorn factory)."""
    import torch
    from fastapi import FastAPI

    import spectrakit as sk

    torch.set_num_threads(1)
    model = sk.load(os.environ["BASELINE_BUNDLE"]).model.eval()
    app = FastAPI()

    @app.post("/predict")
    def predict(body: Body) -> dict:
        with torch.no_grad():
            out = model(torch.tensor(body.spectrum, dtype=torch.float32)[None, None, :])
        return {"c": float(out[0, 0])}

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    return app


def _serve_baseline(port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "serve:baseline_app",
        factory=True,
        app_dir=str(HERE),
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


# ---------------------------------------------------------------------- the load client
async def _client(
    port: int, request: bytes, n: int, latencies: list[float], statuses: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(n):
            t = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t)
            statuses.append(int(head[9:12]))
    finally:
        writer.close()


async def _load(port: int, request: bytes, total: int, clients: int) -> tuple[list, list, float]:
    latencies: list[float] = []
    statuses: list[int] = []
    per = [total // clients + (i < total % clients) for i in range(clients)]
    start = time.perf_counter()
    await asyncio.gather(*(_client(port, request, k, latencies, statuses) for k in per))
    return latencies, statuses, time.perf_counter() - start


def _request(body: bytes, ctype: str) -> bytes:
    head = (
        f"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# ---------------------------------------------------------------------- orchestration
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float = 300.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("server exited while starting")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("server did not start")


def _measure(name: str, cmd: list[str], env: dict, requests: dict, total: int) -> list[dict]:
    port = _free_port()
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env)
    rows = []
    try:
        _wait_ready(port, proc)
        for label, request in requests.items():
            asyncio.run(_load(port, request, 200, 16))  # warm every worker
            for clients in CLIENTS:
                n = total if clients > 1 else max(total // 4, 50)
                lat, statuses, wall = asyncio.run(_load(port, request, n, clients))
                ms = 1e3 * np.asarray(lat)
                rows.append(
                    {
                        "service": f"{name}{label}",
                        "clients": clients,
                        "ok": statuses.count(200),
                        "n": n,
                        "p50": np.percentile(ms, 50),
                        "p90": np.percentile(ms, 90),
                        "p99": np.percentile(ms, 99),
                        "rps": n / wall,
                    }
                )
                print(_format(rows[-1]), flush=True)
    finally:
        proc.terminate()
        proc.wait(60)
    return rows


def _format(r: dict, ratio: str = "") -> str:
    return (
        f"{r['service']:<24}{r['clients']:>8}{r['p50']:>9.1f}{r['p90']:>9.1f}{r['p99']:>9.1f}"
        f"{r['rps']:>10.0f}{r['ok']:>7}/{r['n']:<6}{ratio}"
    )


def _table(rows: list[dict]) -> None:
    base = {r["clients"]: r for r in rows if r["service"] == "fastapi+torch"}
    print(
        f"\n{'service':<24}{'clients':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'req/s':>10}"
        f"{'ok':>7}        req/s ratio, p99 ratio (vs fastapi+torch)"
    )
    for r in rows:
        b = base.get(r["clients"])
        ratio = f"  {r['rps'] / b['rps']:5.2f}x  {r['p99'] / b['p99']:5.2f}x" if b else ""
        print(_format(r, ratio))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000, help="per run with 16/64 clients")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--max-batch-wait-ms", default="0.5")
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)  # run as the baseline server
    args = ap.parse_args()
    if args.port:
        _serve_baseline(args.port, args.workers)
        return
    sys.path.insert(0, str(HERE))
    from _bundles import make_bundle, make_spectra
    from spectrakit.export.onnx import export_onnx

    spectra = make_spectra(1, args.points)
    body = orjson.dumps({"spectrum": spectra.values[0].tolist()})
    binary = np.asarray(spectra.values[:1], dtype="<f4").tobytes()
    print(f"cnn1d_tiny, {args.points} points, {args.workers} workers per service, loopback")
    print(f"cores {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = make_bundle(Path(tmp) / "bundle", "cnn1d_tiny", spectra)
        export_onnx(bundle, batch_sizes=(1, 16))
        env = {**os.environ, "BASELINE_BUNDLE": str(bundle)}
        base_cmd = [sys.executable, str(HERE / "serve.py"), "--workers", str(args.workers)]
        sk_cmd = [sys.executable, "-m", "spectrakit", "serve", "--model", str(bundle)]
        sk_cmd += ["--workers", str(args.workers), "--log-level", "warning"]
        sk_cmd += ["--max-batch-wait-ms", args.max_batch_wait_ms]
        json_req = _request(body, "application/json")
        rows = _measure("fastapi+torch", base_cmd, env, {"": json_req}, args.requests)
        sk_requests = {" json": json_req, " binary": _request(binary, "application/octet-stream")}
        rows += _measure("spectrakit", sk_cmd, env, sk_requests, args.requests)
    _table(rows)
    print(f"load average after: {os.getloadavg()[0]:.2f} (other work on the machine included)")
    if any(r["ok"] != r["n"] for r in rows):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
