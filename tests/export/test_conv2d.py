"""1D convolutions written as 2D ones: same outputs, one 4D chain through a residual trunk."""

import collections

import numpy as np
import pytest
from _export_bundles import regression_bundle

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from spectrakit.export.conv2d import conv_as_2d  # noqa: E402
from spectrakit.export.onnx import export_onnx  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _plain_graph(path, name):
    bundle = regression_bundle(path, name)
    export_onnx(bundle, batch_sizes=(1,), optimize=None)
    return (bundle / "model.onnx").read_bytes()


def _ops(data):
    return collections.Counter(n.op_type for n in onnx.load_from_string(data).graph.node)


@pytest.mark.parametrize("name", ["resnet1d_tiny", "resnet1d"])
def test_rewritten_graph_gives_the_same_outputs_at_any_batch_and_length(tmp_path, name):
    data = _plain_graph(tmp_path / name, name)
    rewritten, count = conv_as_2d(data)
    assert count == _ops(data)["Conv"] > 0
    onnx.checker.check_model(onnx.load_from_string(rewritten))
    before = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    after = ort.InferenceSession(rewritten, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for batch, length in [(1, 128), (3, 128), (2, 77)]:
        feeds = {"spectra": rng.normal(size=(batch, 1, length)).astype(np.float32)}
        if length != 128 and before.get_inputs()[0].shape[2] != "length":
            continue  # a fixed-length graph
        for r, g in zip(before.run(None, feeds), after.run(None, feeds), strict=True):
            assert g.shape == r.shape
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_a_residual_trunk_stays_in_4d_between_its_ends(tmp_path):
    data = _plain_graph(tmp_path / "r", "resnet1d_tiny")
    ops = _ops(conv_as_2d(data)[0])
    # one Unsqueeze at the input and one Squeeze before pooling: the residual additions
    # and activations between convolutions run on the 4D values
    assert (ops["Unsqueeze"], ops["Squeeze"]) == (1, 1)
    assert ops["Add"] == _ops(data)["Add"] and ops["Relu"] == _ops(data)["Relu"]


@pytest.mark.parametrize("name", ["mlp_tiny", "cnn1d_tiny"])
def test_a_graph_without_one_conv_chain_is_returned_unchanged(tmp_path, name):
    # mlp: no convolution; cnn1d: a pooling layer after every convolution
    data = _plain_graph(tmp_path / name, name)
    assert conv_as_2d(data) == (data, 0)


def test_export_records_the_rewrite_and_keeps_parity(tmp_path):
    data = _plain_graph(tmp_path / "r", "resnet1d_tiny")
    record = export_onnx(tmp_path / "r", batch_sizes=(1, 3))
    assert record["optimized"]["conv_as_2d"] == _ops(data)["Conv"]
    assert all(p["ok"] for p in record["optimized"]["parity"] + record["single"]["parity"])
