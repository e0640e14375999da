"""Serving a model on separately measured channels: packed rows in, one-line refusals."""

import httpx
import numpy as np
import orjson
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


def _channels_body(data, rows: slice, axis_of: str | None = None) -> dict:
    body = {}
    for name, s in data.items():
        one = {"spectra": s.values[rows].tolist()}
        if name == axis_of:
            one.update(axis=s.axis.values.tolist(), unit=s.axis.unit)
        body[name] = one
    return {"channels": body}


def test_per_channel_json_predicts_as_the_local_channel_set(served):
    client, bundle, data = served
    local = sk.load(bundle)
    expected = local.predict(data)["c"].to_numpy()
    r = client.post("/predict", json={**_channels_body(data, slice(0, 5)), "ids": list("abcde")})
    assert r.status_code == 200, r.text
    got = r.json()["predictions"]
    assert [p["id"] for p in got] == list("abcde")
    np.testing.assert_allclose([p["c"] for p in got], expected[:5], atol=1e-4)
    # one channel on a finer grid of its own range, with its axis: resampled onto its own
    fine = data["ex380"].resample(np.linspace(420.0, 560.0, 201))
    moved = sk.ChannelSet({"ex277": data["ex277"], "ex380": fine}, data.meta)
    r = client.post("/predict", json=_channels_body(moved, slice(0, 5), axis_of="ex380"))
    assert r.status_code == 200, r.text
    want = local.predict(moved)["c"].to_numpy()[:5]
    np.testing.assert_allclose([p["c"] for p in r.json()["predictions"]], want, atol=1e-4)


def test_a_large_per_channel_body_is_decoded_in_a_parsing_process(served):
    from spectrakit.serve.service import INLINE_JSON_BYTES

    client, bundle, data = served
    fine = data["ex380"].resample(np.linspace(420.0, 560.0, 1001))
    moved = sk.ChannelSet({"ex277": data["ex277"], "ex380": fine}, data.meta)
    body = orjson.dumps(_channels_body(moved, slice(None), axis_of="ex380"))
    assert INLINE_JSON_BYTES < len(body) < 400_000  # past the inline limit: a parsing process
    r = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    want = sk.load(bundle).predict(moved)["c"].to_numpy()
    np.testing.assert_allclose([p["c"] for p in r.json()["predictions"]], want, atol=1e-4)


def test_per_channel_explanations_come_on_each_channel_axis(served):
    client, _, data = served
    r = client.post("/explain", json={**_channels_body(data, slice(0, 2)), "method": "saliency"})
    assert r.status_code == 200, r.text
    out = r.json()["channels"]
    assert list(out) == ["ex277", "ex380"]
    assert out["ex380"]["axis"][0] == pytest.approx(420.0)
    assert np.asarray(out["ex277"]["attributions"]).shape == (2, 64)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda b: b["channels"].pop("ex380"), "channel ex380 is missing"),
        (lambda b: b["channels"].update(other=b["channels"]["ex277"]), "unknown channel 'other'"),
        (lambda b: b["channels"]["ex277"]["spectra"].pop(), "different numbers of spectra"),
        (lambda b: b.update(spectra=[[1.0]]), "give 'channels' or 'spectra', not both"),
        (lambda b: b["channels"]["ex277"].update(spectra=[[1.0, 2.0]] * 6), "expected 64 values"),
        (lambda b: b["channels"].update(ex277=[1.0]), "expected an object with 'spectra'"),
    ],
)
def test_bad_per_channel_bodies_get_one_line_422(served, change, needle):
    client, _, data = served
    body = _channels_body(data, slice(0, 6))
    change(body)
    r = client.post("/predict", json=body)
    assert r.status_code == 422, r.text
    assert needle in r.json()["error"], r.text


def test_per_channel_body_survives_the_parsing_process_codec():
    from spectrakit.serve.codec import Decoded, pack, unpack

    one = Decoded(np.ones((2, 3)), axis=np.arange(3.0), unit="nm")
    two = Decoded(np.zeros((2, 4)))
    back = unpack(pack(Decoded(one.values, ids=["a", "b"], channels={"x": one, "y": two})))
    assert list(back.channels) == ["x", "y"] and back.ids == ["a", "b"]
    np.testing.assert_array_equal(back.channels["x"].axis, [0.0, 1.0, 2.0])
    assert back.channels["x"].unit == "nm" and back.channels["y"].values.shape == (2, 4)
