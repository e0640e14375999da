"""The one-spectrum graph: fixed shapes, the axis folded in, same answers, used only when valid."""

import numpy as np
import pytest
from _export_bundles import regression_bundle

import spectrakit as sk

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from spectrakit.export import load_onnx  # noqa: E402
from spectrakit.export.onnx import export_onnx  # noqa: E402
from spectrakit.export.single import SINGLE_FILE  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
N_POINTS = 128


_bundle = regression_bundle


def _spectra(n, axis=None, seed=0):
    axis = np.linspace(400.0, 1800.0, N_POINTS) if axis is None else axis
    rng = np.random.default_rng(seed)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 30.0) ** 2)
    return sk.Spectra(rng.uniform(0.5, 1.5, (n, 1)) * peak + 0.5, axis, unit="cm-1")


def _inputs(path):
    return [i.name for i in onnx.load(path).graph.input]


class _Counting:
    """Counts the calls of the one-spectrum graph."""

    def __init__(self, graph):
        self.graph, self.calls = graph, 0
        self.takes = graph.takes

    def run(self, feeds):
        self.calls += 1
        return self.graph.run(feeds)


@pytest.mark.parametrize("name", ["cnn1d_tiny", "resnet1d_tiny", "specbert_tiny", "spectrafm_tiny"])
def test_one_spectrum_graph_is_smaller_and_gives_the_portable_graphs_answer(tmp_path, name):
    bundle = _bundle(tmp_path / name, name)
    record = export_onnx(bundle, batch_sizes=(1, 3))
    one = record["single"]
    assert one["file"] == SINGLE_FILE and all(p["ok"] for p in one["parity"])
    assert one["nodes"]["single"] < one["nodes"]["portable"]
    axis_aware = name.startswith("spectrafm")
    assert one["constant_axis"] is axis_aware
    assert "axis" not in _inputs(bundle / SINGLE_FILE)  # folded in (or never there)
    rng = np.random.default_rng(3)
    feeds = {"spectra": rng.normal(1.0, 0.3, (1, 1, N_POINTS)).astype(np.float32)}
    if axis_aware:
        feeds["axis"] = np.linspace(400.0, 1800.0, N_POINTS).astype(np.float32)
    ref = ort.InferenceSession(str(bundle / "model.onnx")).run(None, feeds)
    spec = {"spectra": feeds["spectra"]}
    got = ort.InferenceSession(str(bundle / SINGLE_FILE)).run(None, spec)
    for r, g in zip(ref, got, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["cnn1d_tiny", "spectrafm_tiny"])
def test_runtime_runs_it_for_one_spectrum_on_the_bundle_axis_only(tmp_path, name):
    bundle = _bundle(tmp_path / name, name)
    export_onnx(bundle, batch_sizes=(1, 2))
    runtime = load_onnx(bundle)
    counting = runtime.one_graph = _Counting(runtime.one_graph)
    spectra = _spectra(4)
    together = runtime.predict_arrays(spectra)
    assert counting.calls == 0  # a batch: the general graph
    for i in range(4):
        alone = runtime.predict_arrays(spectra[i : i + 1])
        lean = runtime.predict_values(spectra.values[i])
        for column in together:
            np.testing.assert_allclose(alone[column], together[column][i : i + 1], rtol=1e-5)
            np.testing.assert_allclose(lean[column], together[column][i : i + 1], rtol=1e-5)
    assert counting.calls == 8
    # a spectrum on another grid is not what the graph was fixed to: the general graph
    other = _spectra(1, np.linspace(420.0, 1780.0, 96))
    if name.startswith("spectrafm"):
        with pytest.warns(UserWarning, match="inside the trained range"):
            runtime.predict_arrays(_spectra(1, np.linspace(300.0, 1800.0, N_POINTS)))
        runtime.predict_arrays(other)
    assert counting.calls == 8


def test_lean_path_of_an_axis_aware_model_equals_the_table_path(tmp_path):
    bundle = _bundle(tmp_path / "fm", "spectrafm_tiny")
    export_onnx(bundle, batch_sizes=(1, 2))
    runtime = load_onnx(bundle)
    spectra = _spectra(3, seed=5)
    table = runtime.predict(spectra)
    lean = runtime.predict_values(spectra.values).frame()
    assert list(lean.columns) == list(table.columns) and "coverage" in table.columns
    np.testing.assert_allclose(lean.to_numpy(float), table.to_numpy(float), rtol=1e-6)
    with pytest.raises(sk.SpectraError, match="differ in length"):
        runtime.predict_values(spectra.values[:, :-1])


def test_export_without_the_one_spectrum_graph(tmp_path):
    bundle = _bundle(tmp_path / "b", "cnn1d_tiny")
    record = export_onnx(bundle, batch_sizes=(1,), single=False)
    assert "single" not in record and not (bundle / SINGLE_FILE).exists()
    runtime = load_onnx(bundle)
    assert runtime.one_graph is None
    assert runtime.predict_arrays(_spectra(1))["a"].shape == (1,)
