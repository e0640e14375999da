"""The service under load and attack: off-loop parsing, timeouts, micro-batching, workers, ONNX."""

from __future__ import annotations

import asyncio
import os
import re
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
import os, time
import spectrakit.io as _io

_read = _io.read

def read(path, *args, **kwargs):  # a reader stuck on a hostile file
    if str(path).endswith(".slow"):
        here = os.path.dirname(os.path.abspath(__file__))
        open(os.path.join(here, f"stuck-{os.getpid()}"), "w").close()  # now it is stuck
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


def _until(condition, what: str, timeout: float = 300.0, proc=None, log: Path | None = None):
    """Wait for ``condition`` (polled), failing after ``timeout`` s; returns its value.

    With ``proc``, also fail as soon as that server process exits (showing its ``log``).
    """
    deadline = time.monotonic() + timeout
    tail = (lambda: log.read_text()[-2000:]) if log is not None else (lambda: "")
    while not (value := condition()):
        assert proc is None or proc.poll() is None, f"server exited before {what}: {tail()}"
        assert time.monotonic() < deadline, f"no {what} within {timeout:g} s: {tail()}"
        time.sleep(0.02)
    return value


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_health_answers_while_a_hostile_upload_is_parsed(tmp_path, monkeypatch, bundle, spectra):
    """Each step waits on an event (parser ready, parser stuck, replacement ready), not a time."""
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(textwrap.dedent(SLOW_READER))
    monkeypatch.syspath_prepend(str(plugin))  # the parsing processes start with this path
    app = create_app(bundle, timeout_s=3.0)
    pool = app.state.service.pool
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        _until(lambda: pool.n_ready == 1, "ready parser")  # started with the service
        finished = threading.Event()
        upload: dict = {}

        def send_hostile() -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                upload["r"] = c.post("/predict", files={"file": ("x.slow", b"1,2\n", "text/csv")})
            finished.set()

        thread = threading.Thread(target=send_hostile)
        thread.start()
        marker = _until(lambda: list(plugin.glob("stuck-*")), "stuck parser", timeout=60)
        stuck = int(marker[0].name.split("-")[1])
        during = 0
        while not finished.is_set():
            assert client.get("/health", timeout=10).status_code == 200
            during += not finished.is_set() and _running(stuck)  # answered while it was stuck
        thread.join()
        r = upload["r"]
        assert r.status_code == 503, r.text
        assert "took longer than 3 s" in r.json()["error"]
        assert during >= 1
        assert not _running(stuck)  # the stuck parser was killed (and reaped), not left spinning
        _until(lambda: pool.n_ready == 1, "replacement parser")
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


def test_lone_requests_do_not_wait_for_company():
    """Requests one at a time skip the batching wait; concurrent ones bring it back."""

    async def scenario() -> list[int]:
        batcher = MicroBatcher(lambda v: v[:, 0].tolist(), ThreadPoolExecutor(1), 64, 0.05, 100)
        waits = []
        for _ in range(3):  # one client: the first request waits, the next ones need not
            assert await batcher.submit(np.ones((1, 2))) == [1.0]
            waits.append(batcher.waits)
        together = await asyncio.gather(*(batcher.submit(np.full((1, 2), v)) for v in (2, 3)))
        assert together == [[2.0], [3.0]] and batcher.batches == 4  # one shared call
        await batcher.submit(np.ones((1, 2)))  # after company, a lone request waits again
        waits.append(batcher.waits)
        batcher.close()
        return waits

    assert asyncio.run(scenario()) == [1, 1, 1, 2]


def test_short_calls_run_on_the_event_loop_thread():
    """Once a call is measured short, the next ones skip the hand-off to the model thread."""
    threads: list[int] = []

    def run_batch(values: np.ndarray) -> list:
        threads.append(threading.get_ident())
        if (values < 0).any():
            raise ValueError("negative")
        if (values > 100).any():
            time.sleep(0.05)  # a long call
        return values[:, 0].tolist()

    async def scenario(limit: float) -> tuple[list, int, int]:
        batcher = MicroBatcher(run_batch, ThreadPoolExecutor(1), 64, 0.0, 100, limit)
        out = [await batcher.submit(np.full((1, 2), v)) for v in (1.0, 2.0, 3.0)]
        bad = await asyncio.gather(batcher.submit(np.full((1, 2), -1.0)), return_exceptions=True)
        out.append(bad[0])
        batcher.close()
        return out, batcher.inline_calls, threading.get_ident()

    threads.clear()
    out, inline, loop_thread = asyncio.run(scenario(10.0))
    assert out[:3] == [[1.0], [2.0], [3.0]] and isinstance(out[3], ValueError)
    assert inline == 3 and threads[0] != loop_thread  # the first call measures on the executor
    assert threads[1:] == [loop_thread] * 3
    threads.clear()
    out, inline, _ = asyncio.run(scenario(0.0))  # 0: never inline
    assert inline == 0 and out[:3] == [[1.0], [2.0], [3.0]]

    async def slow() -> int:  # a call measured long goes back to the model thread
        batcher = MicroBatcher(run_batch, ThreadPoolExecutor(1), 64, 0.0, 100, 0.01)
        for v in (200.0, 1.0, 1.0):
            await batcher.submit(np.full((1, 2), v))
        batcher.close()
        return batcher.inline_calls

    assert asyncio.run(slow()) == 0


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


def _health_pid(url: str) -> int | None:
    try:
        with httpx.Client(timeout=30) as c:  # a fresh connection: any worker may take it
            return c.get(url).json()["pid"]
    except httpx.HTTPError:
        return None


@pytest.mark.slow  # starts three processes that each import the inference stack
def test_workers_option_starts_that_many_processes(tmp_path, spectra):
    """Two workers report their start-up complete (each loaded and warmed the model), then both
    answer. Waits on those events, not on a fixed time: start-up takes what the machine allows."""
    from spectrakit.export.onnx import export_onnx

    bundle = classifier_bundle(tmp_path / "bundle", spectra)
    export_onnx(bundle, batch_sizes=(1, 4))  # served by onnxruntime: workers load no torch
    port = free_port()
    src = str(Path(sk.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "spectrakit", "serve", "--model", str(bundle)]
    cmd += ["--port", str(port), "--workers", "2", "--log-level", "info"]
    log_path = tmp_path / "serve.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/health"
    try:

        def two_ready() -> bool:  # each worker logs it after its lifespan start-up
            return log_path.read_text().count("Application startup complete.") >= 2

        _until(two_ready, "two ready workers", 600, proc, log_path)
        started = {
            int(p) for p in re.findall(r"Started server process \[(\d+)\]", log_path.read_text())
        }
        assert len(started) == 2 and proc.pid not in started  # workers, not the supervisor
        answered: set[int] = set()

        def both_answer() -> bool:
            with ThreadPoolExecutor(8) as ex:
                answered.update(p for p in ex.map(lambda _: _health_pid(url), range(16)) if p)
            return answered >= started

        _until(both_answer, "answer from each worker", 600, proc, log_path)
        assert answered == started, (answered, started)
    finally:
        proc.terminate()
        try:
            proc.wait(120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)
            pytest.fail(f"server did not stop on SIGTERM: {log_path.read_text()[-2000:]}")
        finally:
            log.close()
