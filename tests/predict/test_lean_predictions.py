"""The lean prediction path: NumPy columns, the table only when asked, the same answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.core.errors import DataError
from spectrakit.models import create
from spectrakit.predict import Predictions
from spectrakit.predict.core import coverage_columns
from spectrakit.preprocessing.channels import ChannelPreprocessor

ort = pytest.importorskip("onnxruntime")
from spectrakit.export import load_onnx  # noqa: E402
from spectrakit.export.onnx import export_onnx  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")
AXIS = np.linspace(400.0, 1800.0, 64)
CLASSES = ["a", "b", "c"]


def _values(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(1.0, 0.1, (n, AXIS.size))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """An exported cnn1d_tiny regression bundle, shared by the tests that only read it."""
    from conftest import make_tiny_bundle

    bundle = make_tiny_bundle(tmp_path_factory.mktemp("lean") / "tiny-bundle")
    export_onnx(bundle, batch_sizes=(1, 2))
    return bundle


def _same(lean: Predictions, frame: pd.DataFrame) -> None:
    assert isinstance(lean, Predictions) and isinstance(frame, pd.DataFrame)
    assert list(lean) == list(frame.columns) and lean.n_spectra == len(frame)
    pd.testing.assert_frame_equal(lean.frame(), frame)


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_lean_paths_equal_the_table(exported, engine):
    predictor = load_onnx(exported) if engine == "onnx" else sk.load(exported)
    values = _values(5)
    table = predictor.predict(sk.Spectra(values, AXIS))
    _same(predictor.predict_arrays(sk.Spectra(values, AXIS)), table)
    by_values = predictor.predict_values(values)
    pd.testing.assert_frame_equal(by_values.frame(), table, rtol=1e-6)
    # one spectrum, given as a 1-D array, is row i of the batch
    for i in (0, 4):
        one = predictor.predict_values(values[i])
        assert one.n_spectra == 1
        np.testing.assert_allclose(one["c"], table["c"].iloc[i : i + 1], rtol=1e-5)


def test_onnx_graph_only_path_skips_spectra(exported, monkeypatch):
    """With all preprocessing in the graph, predict_values builds no Spectra at all."""
    runtime = load_onnx(exported)
    expected = runtime.predict(sk.Spectra(_values(3), AXIS))

    def refuse(*args, **kwargs):
        raise AssertionError("Spectra built on the graph-only path")

    monkeypatch.setattr("spectrakit.predict.runtime.Spectra", refuse)
    assert runtime._graph_only
    got = runtime.predict_values(_values(3))
    np.testing.assert_allclose(got["c"], expected["c"].to_numpy(), rtol=1e-6)
    assert got.records() == [{"c": float(v)} for v in got["c"]]


def _saved(path, spectra, model, pipeline=None, **kwargs):
    pre = ChannelPreprocessor([pipeline]).fit(spectra)
    return save(
        path, model=model.eval(), axis=spectra.axis, model_axis=pre.output_axis_,
        preprocessor=pre, **kwargs,
    )  # fmt: skip


def test_runtime_step_takes_the_spectra_path(tmp_path):
    spectra = sk.Spectra(_values(6) + np.linspace(0, 1, AXIS.size), AXIS)
    pipeline = {"steps": [{"step": "AsLS", "params": {"lam": 1e4}}, "SNV"]}  # AsLS: runtime
    model = create("cnn1d_tiny", input_length=AXIS.size, n_outputs=1)
    output = {"task": "regression", "n_targets": 1}
    bundle = _saved(tmp_path / "b", spectra, model, pipeline, task="regression",
                    targets=["c"], output=output)  # fmt: skip
    assert export_onnx(bundle, batch_sizes=(1, 4))["runtime_steps"] == [1]
    runtime = load_onnx(bundle)
    assert not runtime._graph_only
    table = runtime.predict(spectra)
    lean = runtime.predict_values(np.asarray(spectra.values))
    pd.testing.assert_frame_equal(lean.frame(), table)


BAD_VALUES = [
    (np.ones((1, 63)), "64 values per spectrum"),
    (np.full((2, 64), np.nan), "NaN"),
    (np.full((1, 64), np.inf), "infinite"),
    ([["a"] * 64], "not numeric"),
]


@pytest.mark.parametrize("engine", ["onnx", "torch"])
def test_lean_path_refuses_bad_values_in_one_line(exported, engine):
    predictor = load_onnx(exported) if engine == "onnx" else sk.load(exported)
    for values, words in BAD_VALUES:
        with pytest.raises(DataError, match=words) as info:
            predictor.predict_values(values)
        assert "\n" not in str(info.value)


def test_classification_records_are_json_types(tmp_path):
    spectra = sk.Spectra(_values(9), AXIS)
    torch.manual_seed(0)
    model = create("mlp_tiny", input_length=AXIS.size, n_outputs=3)
    output = {"task": "classification", "n_targets": 3, "one_vs_rest": True}
    bundle = _saved(tmp_path / "ovr", spectra, model, task="classification", targets=["k"],
                    classes=CLASSES, output=output)  # fmt: skip
    export_onnx(bundle, batch_sizes=(1, 4))
    runtime = load_onnx(bundle)
    lean = runtime.predict_values(np.asarray(spectra.values))
    _same(lean, runtime.predict(spectra))
    records = lean.records()
    assert len(records) == spectra.n_spectra
    assert {type(r["predicted"]) for r in records} == {str}
    assert {r["predicted"] for r in records} <= set(CLASSES)
    assert {type(r["none_of_classes"]) for r in records} == {bool}
    assert {type(r["proba_a"]) for r in records} == {float}


def test_ood_and_coverage_columns_match_the_table(tiny_bundle):
    from spectrakit.ood import fit_ood, save_detector

    exported = tiny_bundle
    export_onnx(exported, batch_sizes=(1, 2))
    predictor = sk.load(exported)
    train = sk.Spectra(_values(40, seed=1), AXIS)
    save_detector(fit_ood(predictor, train, method="mahalanobis"), exported)
    far = _values(4, seed=2)
    far[2:] *= 50.0  # two spectra far from the training ones
    for engine in (sk.load(exported), load_onnx(exported)):
        table = engine.predict(sk.Spectra(far, AXIS))
        lean = engine.predict_values(far)
        assert list(lean)[-2:] == ["ood_score", "is_ood"]
        pd.testing.assert_frame_equal(lean.frame(), table, rtol=1e-5)
        assert lean["is_ood"].tolist() == [False, False, True, True]


def test_coverage_columns_raise_the_ood_flag():
    cols = coverage_columns(0.5, 3, np.array([False, True, False]))
    assert cols["coverage"].tolist() == [0.5] * 3 and cols["is_ood"].tolist() == [True] * 3
    cols = coverage_columns(1.0, 2, None)
    assert list(cols) == ["coverage"] and cols["coverage"].dtype == float


def test_predictions_mapping():
    p = Predictions({"a": np.array([1.0, 2.0]), "b": np.array(["x", "y"], dtype=object)})
    assert len(p) == 2 and p.n_spectra == 2 and list(p) == ["a", "b"]
    assert p.records() == [{"a": 1.0, "b": "x"}, {"a": 2.0, "b": "y"}]
    frame = p.frame()
    frame["a"] = 0.0  # a new table each time: the columns are not changed
    assert p["a"].tolist() == [1.0, 2.0] and p.frame()["a"].tolist() == [1.0, 2.0]
    assert Predictions({}).records() == [] and Predictions({}).n_spectra == 0
    with pytest.raises(ValueError, match="differ in length"):
        Predictions({"a": np.zeros(2), "b": np.zeros(3)})
