"""The service contract: documented bodies, content types, strict types, magnitudes, fuzzing."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx
import numpy as np
import pytest

pytest.importorskip("uvicorn")
import spectrakit as sk
from _serve_util import classifier_bundle, labelled_spectra, running
from spectrakit.cli import main
from spectrakit.serve import create_app

POINTS = 64


@pytest.fixture(scope="module")
def spectra():
    return labelled_spectra(n=20, points=POINTS)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, spectra):
    return classifier_bundle(tmp_path_factory.mktemp("b") / "bundle", spectra, steps=())


@pytest.fixture(scope="module")
def app(bundle):
    return create_app(bundle, max_spectra=8, max_body_bytes=100_000, timeout_s=20)


@pytest.fixture(scope="module")
def client(app):
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as c:
        yield c


def test_openapi_documents_request_bodies(client):
    doc = client.get("/openapi.json").json()
    body = doc["paths"]["/predict"]["post"]["requestBody"]
    assert set(body["content"]) == {
        "application/json",
        "application/octet-stream",
        "multipart/form-data",
    }
    schema = doc["components"]["schemas"]["PredictRequest"]
    spectrum = schema["properties"]["spectrum"]
    assert spectrum["minItems"] == spectrum["maxItems"] == POINTS  # sized to the bundle
    assert spectrum["items"]["type"] == "number"
    assert schema["properties"]["spectra"]["maxItems"] == 8
    explain = doc["paths"]["/explain"]["post"]["requestBody"]["content"]
    assert set(explain) == {"application/json"}
    assert "method" in doc["components"]["schemas"]["ExplainRequest"]["properties"]


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""]
)
def test_wrong_content_type_is_415(client, spectra, ctype):
    body = json.dumps({"spectrum": spectra.values[0].tolist()}).encode()
    headers = {"content-type": ctype} if ctype else {}
    r = client.post("/predict", content=body, headers=headers)
    assert r.status_code == 415, r.text
    assert "application/json" in r.json()["error"]
    r = client.post(
        "/explain", content=b"\0" * 16, headers={"content-type": "application/octet-stream"}
    )
    assert r.status_code == 415


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("spectrum", [True] * POINTS, "boolean"),
        ("spectrum", ["1.0"] * POINTS, "string"),
        ("spectrum", [1.0] * (POINTS - 1) + [False], "boolean"),
        ("spectrum", "1,2,3", "list of numbers"),
        ("ids", [1], "list of strings"),
        ("unit", 5, "expected a string"),
        ("axis", None, "null"),
        ("spectra", [[True] * POINTS], "boolean"),
    ],
)
def test_no_coercion(client, spectra, field, value, message):
    payload = {"spectrum": spectra.values[0].tolist()}
    if field == "spectra":
        payload = {}
    payload[field] = value
    r = client.post("/predict", json=payload)
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]


def test_explain_options_are_strict(client, spectra):
    body = {"spectrum": spectra.values[0].tolist()}
    r = client.post("/explain", json={**body, "target": True})
    assert r.status_code == 422 and "target" in r.json()["error"]
    r = client.post("/explain", json={**body, "method": 3})
    assert r.status_code == 422 and "method" in r.json()["error"]


@pytest.mark.parametrize("depth", [2_000, 50_000])
def test_deeply_nested_body_is_4xx(client, depth):
    body = b'{"spectrum": ' + b"[" * depth + b"]" * depth + b"}"
    r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500, r.text
    assert "error" in r.json()


@pytest.mark.parametrize("value", [1e30, -1e13, 3e38])
def test_absurd_magnitude_is_refused(client, spectra, value):
    row = spectra.values[0].copy()
    row[3] = value
    r = client.post("/predict", json={"spectrum": row.tolist()})
    assert r.status_code == 422, r.text
    assert "magnitude" in r.json()["error"] and "point 3" in r.json()["error"]
    r = client.post(
        "/predict",
        content=np.asarray(row, dtype="<f4").tobytes(),
        headers={"content-type": "application/octet-stream"},
    )
    assert r.status_code == 422, r.text


def test_binary_body_matches_json(client, spectra):
    block = spectra.values[:3]
    r_json = client.post("/predict", json={"spectra": block.astype(np.float32).tolist()})
    r_bin = client.post(
        "/predict",
        content=np.asarray(block, dtype="<f4").tobytes(),
        headers={"content-type": "application/octet-stream"},
    )
    assert r_json.status_code == r_bin.status_code == 200, r_bin.text
    assert r_bin.json() == r_json.json()
    # another grid, with the axis as the first row
    fine = spectra[:2].resample(np.linspace(400.0, 1800.0, 90))
    body = np.vstack([fine.axis.values, fine.values]).astype("<f4").tobytes()
    r = client.post(
        "/predict",
        content=body,
        headers={
            "content-type": "application/octet-stream",
            "x-spectrum-points": "90",
            "x-axis": "first-row",
        },
    )
    assert r.status_code == 200 and r.json()["n"] == 2, r.text
    r = client.post(
        "/predict",
        content=b"\0" * 10,
        headers={"content-type": "application/octet-stream"},
    )
    assert r.status_code == 400 and "whole number of spectra" in r.json()["error"]


def test_predictions_match_the_local_predictor(client, bundle, spectra):
    expected = sk.load(bundle).predict(spectra[:4])
    r = client.post("/predict", json={"spectra": spectra.values[:4].tolist()})
    got = r.json()["predictions"]
    assert [p["predicted"] for p in got] == expected["predicted"].tolist()
    np.testing.assert_allclose([p["proba_peak"] for p in got], expected["proba_peak"], atol=1e-6)


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-body-mb", "-1"],
        ["--port", "99999"],
        ["--workers", "0"],
        ["--timeout", "nan"],
        ["--max-batch-wait-ms", "abc"],
    ],
)
def test_serve_refuses_bad_options_at_start(bundle, capsys, argv):
    assert main(["serve", "--model", str(bundle), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    assert argv[0] in err[-1]


def test_serve_functions_are_small():
    root = Path(sk.__file__).parent
    files = [*(root / "serve").glob("*.py"), root / "cli" / "serve.py"]
    long = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 60:
                    long.append(f"{path.name}:{node.name} ({n} lines)")
    assert not long


def test_schemathesis_all_checks(app):
    """Every built-in check, positive and negative data, every operation: no failure."""
    schemathesis = pytest.importorskip("schemathesis")

    config = schemathesis.config.SchemathesisConfig.from_dict(
        {
            "checks": {
                # semantic rules that JSON Schema cannot state (an 'axis' must be monotonic and
                # cover the model's range, 'ids' must have one entry per spectrum, a binary body
                # must hold whole spectra) make some schema-valid bodies 400/422
                "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "422"]},
            }
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    failures, statuses = [], set()
    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes[: 1 if operation.method.upper() == "GET" else 2]:  # GETs take no input
            failure = _fuzz(operation, mode, statuses)
            if failure:
                failures.append(failure)
    assert not failures, "\n".join(failures)
    assert ("POST /predict", "positive", 200) in statuses  # valid calls were made and answered
    assert ("POST /predict", "negative", 422) in statuses


def _fuzz(operation, mode, statuses: set) -> str | None:
    from hypothesis import HealthCheck, given, settings

    label = operation.label

    @settings(
        max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        statuses.add((label, mode.value, case.call_and_validate().status_code))

    try:
        run()
    except Exception as exc:  # report every operation's failures together
        return f"{label} ({mode.value}): {exc}"
    return None
