"""The offline-optimised ONNX graph: saved in the bundle, equal to the plain graph, used."""

import numpy as np
import pytest
from _export_bundles import regression_bundle

from spectrakit.core.errors import BundleError

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from spectrakit.export import load_onnx  # noqa: E402
from spectrakit.export.onnx import export_onnx  # noqa: E402
from spectrakit.export.optimize import OPTIMIZED_FILE, optimize_onnx, simplify_onnx  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


_bundle = regression_bundle


def _run(path, feeds):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(["outputs", "features"], feeds)


@pytest.mark.parametrize("name", ["cnn1d_tiny", "resnet1d_tiny", "specbert_tiny"])
def test_optimized_graph_gives_the_plain_graphs_outputs(tmp_path, name):
    bundle = _bundle(tmp_path / name, name)
    record = export_onnx(bundle, batch_sizes=(1, 3))
    opt = record["optimized"]
    assert opt["file"] == OPTIMIZED_FILE and opt["level"] == "extended"
    assert opt["onnxruntime"] == ort.__version__
    assert opt["parity"] and all(p["ok"] for p in opt["parity"])
    plain, fused = onnx.load(bundle / "model.onnx"), onnx.load(bundle / OPTIMIZED_FILE)
    # the optimisation did something: fewer nodes (fused conv/activation, layer norm, ...)
    assert len(fused.graph.node) < len(plain.graph.node)
    rng = np.random.default_rng(1)
    for batch in (1, 4):
        feeds = {"spectra": rng.normal(size=(batch, 1, 128)).astype(np.float32)}
        if "axis" in [i.name for i in plain.graph.input]:
            feeds["axis"] = np.linspace(400.0, 1800.0, 128).astype(np.float32)
        ref = _run(bundle / "model.onnx", feeds)
        got = _run(bundle / OPTIMIZED_FILE, feeds)
        for r, g in zip(ref, got, strict=True):
            assert g.shape == r.shape
            np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5)


def test_runtime_prefers_the_optimized_graph_and_records_its_checksum(tmp_path):
    bundle = _bundle(tmp_path / "b", "cnn1d_tiny")
    export_onnx(bundle, batch_sizes=(1,))
    runtime = load_onnx(bundle)
    assert runtime.model_file == OPTIMIZED_FILE
    assert OPTIMIZED_FILE in runtime.config.files
    # a tampered optimised graph is refused by the bundle checksums, not run
    (bundle / OPTIMIZED_FILE).write_bytes(b"not a graph")
    with pytest.raises(BundleError):
        load_onnx(bundle)


def test_export_without_optimisation_runs_the_plain_graph(tmp_path):
    bundle = _bundle(tmp_path / "b", "cnn1d_tiny")
    record = export_onnx(bundle, batch_sizes=(1,), optimize=None)
    assert "optimized" not in record
    assert not (bundle / OPTIMIZED_FILE).exists()
    assert load_onnx(bundle).model_file == "model.onnx"


def test_unknown_level_is_one_clear_error():
    with pytest.raises(BundleError, match="unknown graph optimisation level"):
        optimize_onnx(b"", level="max")


def test_simplifier_is_optional_and_recorded(tmp_path, monkeypatch):
    pytest.importorskip("onnxsim")
    bundle = _bundle(tmp_path / "b", "specbert_tiny")
    record = export_onnx(bundle, batch_sizes=(1,))
    assert record["optimized"]["simplifier"].startswith("onnxsim ")
    data = (bundle / "model.onnx").read_bytes()
    simplified, name = simplify_onnx(data)
    assert name and len(onnx.load_from_string(simplified).graph.node) < len(
        onnx.load_from_string(data).graph.node
    )
    # without onnxsim: the onnxruntime pass alone, and the record says so
    monkeypatch.setitem(__import__("sys").modules, "onnxsim", None)
    assert simplify_onnx(data) == (data, None)
    record = export_onnx(bundle, batch_sizes=(1,))
    assert record["optimized"]["simplifier"] is None
    assert all(p["ok"] for p in record["optimized"]["parity"])
    # a graph onnxsim cannot read is passed through unchanged, not an error
    monkeypatch.undo()
    assert simplify_onnx(b"not a graph") == (b"not a graph", None)
