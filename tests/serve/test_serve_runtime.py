"""The service under load and attack: off-loop parsing, timeouts, micro-batching, workers, ONNX."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

pytest.importorskip("uvicorn")
import spectrakit as sk
from _serve_util import classifier_bundle, free_port, labelled_spectra, running
from spectrakit.serve import create_app
from spectrakit.serve.batching import MicroBatcher

SLOW_READER = """
import time
import spectrakit.io as _io

_read = _io.read

def read(path, *args, **kwargs):  # a reader stuck on a hostile file
    if str(path).endswith(".slow"):
        time.sleep(600)
    return _read(path, *args, **kwargs)

_io.read = read
"""


@pytest.fixture(scope="module")
def spectra():
    return labelled_spectra(n=30, points=200)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, spectra):
    return classifier_bundle(tmp_path_factory.mktemp("b") / "bundle", spectra)


def test_health_answers_while_a_hostile_upload_is_parsed(tmp_path, monkeypatch, bundle, spectra):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(textwrap.dedent(SLOW_READER))
    monkeypatch.syspath_prepend(str(plugin))  # the parsing processes start with this path
    app = create_app(bundle, timeout_s=3.0)
    pool = app.state.service.pool
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        stuck_pids: set[int] = set()
        finished = threading.Event()
        upload: dict = {}

        def send_hostile() -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                upload["r"] = c.post("/predict", files={"file": ("x.slow", b"1,2\n", "text/csv")})
            finished.set()

        thread = threading.Thread(target=send_hostile)
        thread.start()
        during = 0
        while not finished.is_set():
            r = client.get("/health", timeout=10)
            assert r.status_code == 200
            during += not finished.is_set()  # this reply arrived while the upload was in flight
            stuck_pids = stuck_pids or {w.process.pid for w in pool._all}
        thread.join()
        r = upload["r"]
        assert r.status_code == 503, r.text
        assert "took longer than 3 s" in r.json()["error"]
        assert during >= 3 and len(stuck_pids) == 1
        for pid in stuck_pids:  # the stuck parser was killed, not left spinning
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        path = tmp_path / "ok.csv"  # and a fresh parser serves the next upload
        sk.write(spectra[:2], path)
        r = client.post("/predict", files={"file": ("ok.csv", path.read_bytes(), "text/csv")})
        assert r.status_code == 200 and r.json()["n"] == 2, r.text


def test_large_json_bodies_decode_in_a_parser(bundle, spectra):
    app = create_app(bundle, max_spectra=1000)
    many = np.repeat(spectra.values, 10, axis=0)  # 300 spectra, about 1.2 MB of JSON
    expected = sk.load(bundle).predict(sk.Spectra(many, spectra.axis))
    with running(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        r = client.post("/predict", json={"spectra": many.tolist()})
        assert r.status_code == 200, r.text
        got = r.json()["predictions"]
        np.testing.assert_allclose(
            [p["proba_peak"] for p in got], expected["proba_peak"], atol=1e-6
        )
        bad = many.tolist()
        bad[250][7] = True
        r = client.post("/predict", json={"spectra": bad})
        assert r.status_code == 422 and "spectra[250]" in r.json()["error"]
    assert app.state.service.pool.n_workers == 1


def test_concurrent_requests_share_batches(bundle, spectra):
    app = create_app(bundle, max_batch_wait_ms=300, max_batch_size=64)
    local = sk.load(bundle).predict(spectra[:16])
    batcher = app.state.service.batcher
    with running(app) as url:
        before = batcher.batches
        barrier = threading.Barrier(16)

        def one(i: int) -> dict:
            with httpx.Client(base_url=url, timeout=30) as c:
                barrier.wait()
                body = {"spectrum": spectra.values[i].tolist(), "ids": [f"s{i}"]}
                return c.post("/predict", json=body).json()

        with ThreadPoolExecutor(16) as ex:
            answers = list(ex.map(one, range(16)))
        calls = batcher.batches - before
    assert calls < 16  # requests were grouped into shared model calls
    for i, answer in enumerate(answers):  # and each got exactly its own row back
        (row,) = answer["predictions"]
        assert row["id"] == f"s{i}"
        assert row["predicted"] == local["predicted"][i]
        assert row["proba_peak"] == pytest.approx(local["proba_peak"][i], abs=1e-6)


def test_a_failing_request_does_not_fail_its_batch():
    def run_batch(values: np.ndarray) -> list:
        if (values < 0).any():
            raise ValueError("negative")
        return values[:, 0].tolist()

    async def scenario() -> list:
        batcher = MicroBatcher(run_batch, ThreadPoolExecutor(1), 64, 0.2, 100)
        jobs = [batcher.submit(np.full((2, 3), v)) for v in (1.0, -1.0, 3.0)]
        out = await asyncio.gather(*jobs, return_exceptions=True)
        batcher.close()
        return [*out, batcher.batches]

    first, second, third, batches = asyncio.run(scenario())
    assert first == [1.0, 1.0] and third == [3.0, 3.0]
    assert isinstance(second, ValueError)
    assert batches == 4  # one shared call, then each request alone


def test_exported_bundle_is_served_by_onnxruntime(tmp_path, spectra):
    pytest.importorskip("onnxruntime")
    from spectrakit.export.onnx import export_onnx

    bundle = classifier_bundle(tmp_path / "bundle", spectra)
    export_onnx(bundle, batch_sizes=(1, 4))
    expected = sk.load(bundle).predict(spectra[:4])
    app = create_app(bundle)
    assert type(app.state.predictor).__name__ == "OnnxPredictor"
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/model").json()["runtime"] == "onnx"
        r = client.post("/predict", json={"spectra": spectra.values[:4].tolist()})
        assert r.status_code == 200, r.text
        got = r.json()["predictions"]
        assert [p["predicted"] for p in got] == expected["predicted"].tolist()
        np.testing.assert_allclose(
            [p["proba_peak"] for p in got], expected["proba_peak"], atol=1e-4
        )
        r = client.post("/explain", json={"spectrum": spectra.values[0].tolist()})
        assert r.status_code == 200, r.text  # explanations fall back to the PyTorch model


@pytest.mark.slow  # starts three processes that each import the inference stack
def test_workers_option_starts_that_many_processes(tmp_path, bundle):
    port = free_port()
    src = str(Path(sk.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "spectrakit", "serve", "--model", str(bundle)]
    cmd += ["--port", str(port), "--workers", "2", "--log-level", "warning"]
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/health"
    pids: set[int] = set()
    try:
        deadline = time.time() + 180  # slow only on a loaded machine
        while len(pids) < 2 and time.time() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]

            def ask(_: int) -> int | None:
                try:
                    with httpx.Client(timeout=5) as c:  # a fresh connection each time
                        return c.get(url).json()["pid"]
                except httpx.HTTPError:
                    return None

            with ThreadPoolExecutor(8) as ex:
                pids |= {p for p in ex.map(ask, range(16)) if p is not None}
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()
    assert len(pids) == 2, (pids, (tmp_path / "serve.log").read_text()[-2000:])
    assert proc.pid not in pids  # the workers answer, not the supervising process
