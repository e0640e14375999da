"""The HTTP service, started for real on loopback, answered as a new user would call it."""

import json
import threading

import httpx
import numpy as np
import pytest

import spectrakit as sk

uvicorn = pytest.importorskip("uvicorn")
from _serve_util import CLASSES, classifier_bundle, labelled_spectra, running  # noqa: E402
from spectrakit.serve import create_app  # noqa: E402


@pytest.fixture(scope="module")
def spectra():
    return labelled_spectra()


@pytest.fixture(scope="module")
def server(tmp_path_factory, spectra):
    bundle = classifier_bundle(tmp_path_factory.mktemp("b") / "bundle", spectra)
    app = create_app(bundle, max_body_bytes=200_000, max_spectra=50)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, bundle


def test_health_and_model_card(server):
    client, _ = server
    assert client.get("/health").json()["status"] == "ok"
    card = client.get("/model").json()
    assert card["classes"] == CLASSES
    assert card["axis"]["n_points"] == 200 and card["axis"]["unit"] == "cm-1"
    assert "/predict" in client.get("/openapi.json").json()["paths"]
    index = client.get("/").json()  # what a browser pointed at the service sees
    assert index["task"] == "classification" and "POST /predict" in index["endpoints"]
    paths = {e.split()[1] for e in index["endpoints"]}
    assert paths <= set(client.get("/openapi.json").json()["paths"]) | {"/docs"}


def test_predict_matches_local_predictor(server, spectra):
    client, bundle = server
    expected = sk.load(bundle).predict(spectra[:5])
    r = client.post(
        "/predict",
        json={"spectra": spectra.values[:5].tolist(), "axis": spectra.axis.values.tolist()},
    )
    assert r.status_code == 200, r.text
    got = r.json()["predictions"]
    assert [p["predicted"] for p in got] == expected["predicted"].tolist()
    np.testing.assert_allclose([p["proba_peak"] for p in got], expected["proba_peak"], atol=1e-5)


def test_single_spectrum_on_model_axis_and_other_grid(server, spectra):
    client, _ = server
    r = client.post("/predict", json={"spectrum": spectra.values[0].tolist(), "ids": ["a"]})
    assert r.status_code == 200 and r.json()["n"] == 1
    assert r.json()["predictions"][0]["id"] == "a"
    fine = spectra[:2].resample(np.linspace(400.0, 1800.0, 351))
    r = client.post(
        "/predict", json={"spectra": fine.values.tolist(), "axis": fine.axis.values.tolist()}
    )
    assert r.status_code == 200, r.text


def test_file_upload(server, spectra, tmp_path):
    client, _ = server
    path = tmp_path / "upload.csv"
    sk.write(spectra[:3], path)
    r = client.post("/predict", files={"file": ("upload.csv", path.read_bytes(), "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["n"] == 3


def _post_raw(client, body: bytes, ctype="application/json"):
    return client.post("/predict", content=body, headers={"content-type": ctype})


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"", 400, "empty body"),
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2, 3]", 422, "JSON object"),
        (json.dumps({"spectra": [[1.0, 2.0]]}).encode(), 422, "expected 200 values"),
        (json.dumps({"spectra": [[1.0] * 200], "colour": 1}).encode(), 422, "unknown field"),
        (b'{"spectrum": [NaN' + b", 1.0" * 199 + b"]}", 400, "NaN and Infinity are not JSON"),
        (json.dumps({"spectra": [[1.0] * 200, [1.0] * 199]}).encode(), 422, "different lengths"),
        (json.dumps({"spectra": []}).encode(), 422, "no intensities"),
        (json.dumps({"spectra": [["a"] * 200]}).encode(), 422, "spectra"),
        (json.dumps({}).encode(), 422, "exactly one of"),
        (
            json.dumps({"spectrum": [1.0] * 10, "axis": list(range(10))}).encode(),
            422,
            "do not cover",
        ),
        (json.dumps({"spectra": [[1.0] * 200] * 51}).encode(), 422, "too many spectra"),
        (json.dumps({"spectra": [[1.0] * 200] * 49, "pad": "x" * 300_000}).encode(), 413, "large"),
    ],
)
def test_bad_requests_get_helpful_4xx(server, payload, status, message):
    client, _ = server
    r = _post_raw(client, payload)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    assert client.get("/health").status_code == 200  # still alive


def test_bad_upload(server):
    client, _ = server
    r = client.post("/predict", files={"file": ("x.csv", b"1,2,3\n1,x,3\n", "text/csv")})
    assert r.status_code == 422 and "non-numeric" in r.json()["error"]
    r = client.post("/predict", files={"other": ("x.csv", b"1,2\n", "text/csv")})
    assert r.status_code == 422 and "'file' field" in r.json()["error"]


def test_explain_endpoint(server, spectra):
    client, _ = server
    r = client.post("/explain", json={"spectra": spectra.values[:2].tolist(), "method": "saliency"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["attributions"]) == 2 and len(body["axis"]) == len(body["attributions"][0])
    r = client.post("/explain", json={"spectra": spectra.values[:1].tolist(), "target": "unicorn"})
    assert r.status_code == 422 and "unicorn" in r.json()["error"]


def test_concurrent_requests_lose_nothing(server, spectra):
    client, _ = server
    body = {"spectrum": spectra.values[0].tolist()}
    results = []

    def worker():
        for _ in range(10):
            results.append(client.post("/predict", json=body).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(200) == 80
