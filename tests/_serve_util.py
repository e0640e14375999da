"""Helpers for the service tests: tiny bundles and a real uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.models import create
from spectrakit.preprocessing.channels import ChannelPreprocessor

CLASSES = ["blank", "peak"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def labelled_spectra(n: int = 40, points: int = 200, seed: int = 1) -> sk.Spectra:
    rng = np.random.default_rng(seed)
    axis = np.linspace(400.0, 1800.0, points)
    label = rng.integers(0, 2, n)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 12.0) ** 2)
    vals = label[:, None] * peak + rng.normal(0, 0.02, (n, points)) + 0.5
    return sk.Spectra(vals, axis, meta={"label": np.array(CLASSES)[label]})


def classifier_bundle(out: Path, spectra: sk.Spectra, steps=("SNV",)) -> Path:
    import torch

    torch.manual_seed(0)
    pre = ChannelPreprocessor([{"steps": list(steps)} if steps else None]).fit(spectra)
    model = create("cnn1d_tiny", input_length=spectra.n_points, n_outputs=2).eval()
    return save(
        out,
        model=model,
        task="classification",
        axis=spectra.axis,
        targets=["label"],
        classes=CLASSES,
        output={"task": "classification", "n_targets": 2},
        preprocessor=pre,
    )


@contextmanager
def running(app, **config) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        assert time.time() < deadline, "server did not start"
        assert thread.is_alive(), "server stopped while starting"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        assert not thread.is_alive(), "server did not shut down gracefully"
