"""Serving a model on separately measured channels: packed rows in, one-line refusals."""

import httpx
import numpy as np
import pytest

import spectrakit as sk
from conftest import make_measured_bundle

uvicorn = pytest.importorskip("uvicorn")
from _serve_util import running  # noqa: E402
from spectrakit.serve import create_app  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "b"
    bundle, data = make_measured_bundle(path, [None, {"steps": ["SNV"]}])
    app = create_app(bundle, max_body_bytes=400_000, max_spectra=50)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client, bundle, data


def test_model_card_lists_the_channels(served):
    client, _, _ = served
    card = client.get("/model").json()
    assert [c["name"] for c in card["channels"]] == ["ex277", "ex380"]
    assert card["channels"][1]["axis"]["unit"] == "nm"


def test_packed_rows_predict_as_the_local_channel_set(served):
    client, bundle, data = served
    expected = sk.load(bundle).predict(data)["c"].to_numpy()
    rows = data.pack().values[:6].tolist()
    r = client.post("/predict", json={"spectra": rows})
    assert r.status_code == 200, r.text
    got = [p["c"] for p in r.json()["predictions"]]
    np.testing.assert_allclose(got, expected[:6], atol=1e-4)


def test_one_spectrum_on_a_physical_axis_is_refused(served):
    client, _, data = served
    s = data["ex277"]
    r = client.post(
        "/predict", json={"spectra": s.values[:2].tolist(), "axis": s.axis.values.tolist(),
                          "unit": "nm"}
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert "measured channels ex277, ex380" in r.text
