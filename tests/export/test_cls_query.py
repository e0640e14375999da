"""The last block of CLS-pooling transformers is exported for the CLS row only, same answers."""

import numpy as np
import pytest
import torch
from _export_bundles import regression_bundle

from spectrakit.export.cls_query import ClsQueryBlock, applies, cls_query_only
from spectrakit.layers import Block
from spectrakit.models import create

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from spectrakit.export.onnx import export_onnx  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("qkv_bias", [True, False])
def test_cls_block_is_row_zero_of_the_full_block(qkv_bias):
    torch.manual_seed(0)
    block = Block(32, 4, mlp_ratio=2.0, qkv_bias=qkv_bias).eval()
    for p in block.parameters():  # non-trivial norms and biases
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(3, 9, 32)
    with torch.no_grad():
        ref, got = block(x)[:, :1], ClsQueryBlock(block)(x)
    assert got.shape == (3, 1, 32)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_only_cls_pooling_transformers_are_reduced_and_the_block_comes_back():
    model = create("specbert_tiny", n_outputs=1, input_length=64)
    last = model.blocks[-1]
    with cls_query_only(model) as reduced:
        assert reduced and isinstance(model.blocks[-1], ClsQueryBlock)
    assert model.blocks[-1] is last
    mean_pooled = create("specbert_tiny", n_outputs=1, input_length=64, use_cls_token=False)
    assert not applies(mean_pooled) and not applies(create("cnn1d_tiny", n_outputs=1))
    with cls_query_only(mean_pooled) as reduced:
        assert not reduced


def _rows(path, block):
    """Rows (tokens) the MLP of block ``block`` computes for one spectrum, read from the graph."""
    model = onnx.load(str(path))
    gelu = next(n for n in model.graph.node if n.op_type == "Erf" and f"blocks.{block}/" in n.name)
    model.graph.output.append(onnx.helper.make_empty_tensor_value_info(gelu.output[0]))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"spectra": np.ones((1, 1, 128), dtype=np.float32)}
    if "axis" in {i.name for i in sess.get_inputs()}:
        feeds["axis"] = np.linspace(400.0, 1800.0, 128).astype(np.float32)
    return sess.run([gelu.output[0]], feeds)[0].shape[1]


@pytest.mark.parametrize("name", ["specbert_tiny", "spectrafm_tiny"])
def test_exported_last_block_runs_one_token_and_matches_pytorch(tmp_path, name):
    bundle = regression_bundle(tmp_path / name, name)
    record = export_onnx(bundle, batch_sizes=(1, 3))
    assert record["cls_query"] is True
    checks = record["parity"] + record["optimized"]["parity"] + record["single"]["parity"]
    assert checks and all(p["ok"] for p in checks)
    assert _rows(bundle / "model.onnx", 1) == 1  # the last block: the CLS row only
    assert _rows(bundle / "model.onnx", 0) != 1  # the others: every token


@pytest.mark.parametrize(
    ("kwargs", "export_kwargs"),
    [({"use_cls_token": False}, {}), ({}, {"cls_query": False})],
    ids=["mean-pooled", "switched-off"],
)
def test_graph_computes_every_row_when_not_reduced(tmp_path, kwargs, export_kwargs):
    bundle = regression_bundle(tmp_path / "b", "specbert_tiny", **kwargs)
    record = export_onnx(bundle, batch_sizes=(1, 3), optimize=None, **export_kwargs)
    assert record["cls_query"] is False and all(p["ok"] for p in record["parity"])
    assert _rows(bundle / "model.onnx", 1) != 1
