"""Session settings of the ONNX runtime: one spectrum runs without a thread pool."""

import numpy as np
import pytest

import spectrakit as sk

ort = pytest.importorskip("onnxruntime")
from spectrakit.export import load_onnx  # noqa: E402
from spectrakit.export.onnx import export_onnx  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def exported(tiny_bundle):
    export_onnx(tiny_bundle, batch_sizes=(1, 2))
    return tiny_bundle


def _spectra(n, seed=0):
    rng = np.random.default_rng(seed)
    return sk.Spectra(rng.normal(1.0, 0.1, (n, 64)), np.linspace(400.0, 1800.0, 64))


def _threads(session):
    return session.get_session_options().intra_op_num_threads


def test_one_spectrum_runs_on_a_single_threaded_sequential_session(exported):
    runtime = load_onnx(exported, threads=2)
    single, batch = runtime.session_for(1), runtime.session_for(5)
    assert single is not batch and single is runtime.session_for(1)  # created once, cached
    assert (_threads(single), _threads(batch)) == (1, 2)
    for s in (single, batch):
        opts = s.get_session_options()
        assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
        assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # the two sessions agree: one spectrum alone gives its row of the batch prediction
    spectra = _spectra(5)
    together = runtime.predict(spectra)
    for i in range(5):
        alone = runtime.predict(spectra[i : i + 1])
        np.testing.assert_allclose(alone["c"], together["c"].iloc[i : i + 1], rtol=1e-5)
    # a batch_size of 1 also uses the single-spectrum session, with the same answer
    np.testing.assert_allclose(runtime.predict(spectra, batch_size=1)["c"], together["c"], 1e-5)


def test_single_threads_option(exported):
    shared = load_onnx(exported, threads=2, single_threads=None)
    assert shared.session_for(1) is shared.session
    same = load_onnx(exported, threads=1)  # already one thread: no second session
    assert same.session_for(1) is same.session
    two = load_onnx(exported, single_threads=2)
    assert _threads(two.session_for(1)) == 2 and two.session_for(1) is not two.session
