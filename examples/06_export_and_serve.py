"""Ship a model: ONNX export, PyTorch-free prediction, and the HTTP service.

What it shows, on a small glucose model trained on the built-in fermentation standards:

1. ``spectrakit.export.onnx.export_onnx``: writes ``model.onnx`` into the bundle, with the
   preprocessing steps that an ONNX graph can express, and checks that onnxruntime matches
   PyTorch at several batch sizes (the record is returned and stored as ``export.json``).
2. ``spectrakit.export.load_onnx``: predicts with NumPy + onnxruntime only; same columns
   and (within the verified tolerance) same numbers as ``spectrakit.load(...).predict``.
3. ``spectrakit.serve.create_app``: the FastAPI service, started in-process with uvicorn on
   127.0.0.1 (a free port), called with httpx: ``GET /health``, ``GET /model``,
   ``POST /predict`` (JSON with an axis, so spectra on another grid are resampled) and a bad
   request answered with HTTP 422 and one-line error.

The model is the weak CNN of example 02 (21 training spectra); the point here is shipping
it. The same from a shell: ``spectrakit export --model BUNDLE --format onnx`` and
``spectrakit serve --model BUNDLE``.

Run::

    python examples/06_export_and_serve.py --out example-output/06

Outputs: ``glucose_model/`` (bundle with ``model.onnx``), ``onnx_predictions.csv``,
``http_exchange.json`` (the requests and responses).
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import uvicorn

import spectrakit as sk
from spectrakit.datasets import load_fermentation
from spectrakit.export import load_onnx
from spectrakit.export.onnx import export_onnx
from spectrakit.io import atomic_path
from spectrakit.serve import create_app
from spectrakit.training import fit_supervised

NAME = "06_export_and_serve"
PIPELINE = {
    "steps": [
        {"step": "Crop", "params": {"low": 950.0, "high": 1500.0}},
        {"step": "Resample", "params": {"start": 950.0, "stop": 1499.0, "step": 1.343}},
        {"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}},
    ]
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("example-output") / NAME)
    p.add_argument("--quick", action="store_true", help="few epochs")
    return p.parse_args()


def serve_in_thread(app) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start uvicorn on a free loopback port; return the server, its thread and base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the HTTP service did not start")
        time.sleep(0.05)
    return server, thread, f"http://{host}:{port}"


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    train = load_fermentation("train")
    new = load_fermentation("test").select(np.arange(0, 1600, 200))  # 8 on-line spectra

    bundle = args.out / "glucose_model"
    fit_supervised(
        train,
        "glucose",
        model="cnn1d_tiny",
        pipeline=PIPELINE,
        max_epochs=5 if args.quick else 300,
        batch_size=8,
        lr=3e-3,
        out=bundle,
        progress=False,
        loggers=("csv",),
    )

    # 1-2. export, then predict without PyTorch
    record = export_onnx(bundle)
    print(
        f"exported {bundle / 'model.onnx'}: inputs {record['inputs']}, preprocessing steps "
        f"run before the graph {record['runtime_steps']}, inside it {record['graph_steps']}"
    )
    onnx_pred = load_onnx(bundle).predict(new)
    torch_pred = sk.load(bundle).predict(new)
    diff = float(np.max(np.abs(onnx_pred["glucose"].to_numpy() - torch_pred["glucose"].to_numpy())))
    print(f"onnxruntime vs PyTorch: max |difference| = {diff:.2e} g/L")
    with atomic_path(args.out / "onnx_predictions.csv") as tmp:
        onnx_pred.assign(time_min=new.meta["time_min"].to_numpy()).to_csv(tmp, index=False)

    # 3. the HTTP service, in this process
    server, thread, url = serve_in_thread(create_app(bundle))
    exchange = []
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            # another grid over the same range (the model refuses ranges it was not trained
            # on): send the axis and the service resamples
            coarse = new.resample(np.linspace(new.axis.min, new.axis.max, 700))
            calls = [
                ("GET", "/health", None),
                ("GET", "/model", None),
                (
                    "POST",
                    "/predict",
                    {
                        "spectra": coarse.values[:3].tolist(),
                        "axis": coarse.axis.values.tolist(),
                        "ids": ["t0", "t1", "t2"],
                    },
                ),
                ("POST", "/predict", {"spectra": [[1.0, 2.0, 3.0]]}),  # wrong length: 422
            ]
            for method, path, body in calls:
                response = client.request(method, path, json=body)
                answer = response.json()
                print(f"{method} {path} -> {response.status_code}: {json.dumps(answer)[:110]}")
                shown = {k: v for k, v in (body or {}).items() if k == "ids"}
                exchange.append(
                    {"request": f"{method} {path}", "body": shown or None,
                     "status": response.status_code, "response": answer}
                )  # fmt: skip
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    with atomic_path(args.out / "http_exchange.json") as tmp:
        tmp.write_text(json.dumps(exchange, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
