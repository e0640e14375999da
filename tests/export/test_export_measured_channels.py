"""ONNX export of a model on separately measured channels: parity with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from conftest import make_measured_bundle
from spectrakit.core.channel_set import ChannelSet
from spectrakit.core.errors import DataError

pytest.importorskip("onnxruntime")
from spectrakit.export import load_onnx
from spectrakit.export.onnx import export_onnx


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    smooth = {"step": "SavitzkyGolay", "params": {"window": 9, "polyorder": 3}}
    path, data = make_measured_bundle(
        tmp_path_factory.mktemp("onnx") / "b", [None, {"steps": [smooth, "SNV"]}]
    )
    record = export_onnx(path, batch_sizes=(1, 5), optimize=None)
    return path, record, data


def test_two_channel_export_matches_pytorch(exported):
    path, record, data = exported
    assert record["runtime_steps"] == [0, 2, 0, 2] and record["graph_steps"] == [0, 0, 0, 0]
    assert all(r["ok"] for r in record["parity"])
    onnx, torch_pred = load_onnx(path), sk.load(path)
    np.testing.assert_allclose(onnx.predict(data)["c"], torch_pred.predict(data)["c"], atol=1e-4)
    name = data.names[1]  # one channel on a finer grid of its own range
    fine = data[name].resample(np.linspace(420.0, 560.0, 257))
    moved = ChannelSet({data.names[0]: data[data.names[0]], name: fine}, data.meta)
    np.testing.assert_allclose(onnx.predict(moved)["c"], torch_pred.predict(moved)["c"], atol=1e-4)


def test_onnx_runtime_refuses_a_missing_channel(exported):
    path, _, data = exported
    with pytest.raises(DataError, match="channel ex380 is missing"):
        load_onnx(path).predict(ChannelSet({"ex277": data["ex277"]}))
    with pytest.raises(DataError, match="takes separately measured channels"):
        load_onnx(path).predict(data["ex380"])
