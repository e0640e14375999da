"""ONNX export parity for every registered model family, and the torch-free runtime."""

import json
import subprocess
import sys

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.core.errors import BundleError, ModelError
from spectrakit.models import MODELS, create
from spectrakit.preprocessing.channels import ChannelPreprocessor

ort = pytest.importorskip("onnxruntime")
from spectrakit.export import load_onnx  # noqa: E402
from spectrakit.export import onnx as onnx_export  # noqa: E402
from spectrakit.export.onnx import export_onnx  # noqa: E402

PIPELINE = {
    "steps": [
        {"step": "AsLS", "params": {"lam": 1e5}},  # runtime (iterative)
        {"step": "SavitzkyGolay", "params": {"window": 9, "polyorder": 3}},  # in the graph
        "SNV",  # in the graph
    ]
}


def _spectra(n=24, points=160, seed=0):
    rng = np.random.default_rng(seed)
    axis = np.linspace(400.0, 1800.0, points)
    c = rng.uniform(0.2, 2.0, n)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 15.0) ** 2)
    vals = c[:, None] * peak + 1e-4 * axis + rng.normal(0, 0.01, (n, points))
    return sk.Spectra(vals, axis, meta={"c": c, "t": rng.normal(size=n)})


def _bundle(tmp_path, name, spectra, pipeline=PIPELINE, n_extra=0):
    probe = create(name, input_length=spectra.n_points)
    pre = ChannelPreprocessor([pipeline])
    pre.fit(spectra, length_multiple=getattr(probe, "patch_size", None))
    length = pre.output_axis_.n_points
    model = create(name, input_length=length, n_outputs=1, n_extra=n_extra).eval()
    extra = {"names": ["t"], "mean": [0.0], "std": [1.0]} if n_extra else None
    return save(
        tmp_path / name,
        model=model,
        task="regression",
        axis=spectra.axis,
        model_axis=pre.output_axis_,
        targets=["c"],
        output={"task": "regression", "n_targets": 1, "target_mean": [1.0], "target_std": [0.5]},
        preprocessor=pre,
        extra_features=extra,
    )


#: families known not to export to ONNX, with the reason. Every other family must export:
#: a failure is a test failure, never a skip.
NOT_EXPORTABLE: dict[str, str] = {}
#: families built from fitted estimators rather than by ``create``; each is exported in
#: tests/chemometrics/test_chemometric_bundle.py::test_every_chemometric_model_round_trips.
FITTED: dict[str, str] = {"chemometric": "fitted from scikit-learn estimators"}


def _one_variant_per_family() -> dict[str, str]:
    """family -> its smallest variant (``*_tiny`` where the family has one)."""
    chosen: dict[str, str] = {}
    for name in sorted(MODELS, key=lambda n: (not n.endswith("_tiny"), n)):
        chosen.setdefault(str(MODELS.metadata(name)["family"]), name)
    return chosen


FAMILIES = _one_variant_per_family()


def test_known_exceptions_name_real_families():
    assert set(NOT_EXPORTABLE) | set(FITTED) <= set(FAMILIES)
    assert all(reason.strip() for reason in {**NOT_EXPORTABLE, **FITTED}.values())


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - set(FITTED)))
def test_onnx_matches_pytorch_for_every_family(tmp_path, family):
    name = FAMILIES[family]
    spectra = _spectra()
    bundle = _bundle(tmp_path, name, spectra)
    if family in NOT_EXPORTABLE:  # still refused, in one line (else take it off the list)
        with pytest.raises(ModelError, match="cannot be exported") as info:
            export_onnx(bundle, batch_sizes=(1, 5))
        assert "\n" not in str(info.value)
        return
    record = export_onnx(bundle, batch_sizes=(1, 5))  # an export failure fails the test
    assert all(r["ok"] for r in record["parity"])
    assert record["dynamic_batch"] is True
    # AsLS stays in the runtime; Savitzky-Golay and SNV go into the graph.
    assert record["runtime_steps"] == [1] and record["graph_steps"] == [2]
    torch_pred = sk.load(bundle).predict(spectra)
    onnx_pred = load_onnx(bundle).predict(spectra)
    np.testing.assert_allclose(onnx_pred["c"], torch_pred["c"], rtol=1e-3, atol=1e-4)
    # Another grid covering the model range is resampled identically by both engines.
    fine = spectra.resample(np.linspace(400.0, 1800.0, 301))
    np.testing.assert_allclose(
        load_onnx(bundle).predict(fine)["c"], sk.load(bundle).predict(fine)["c"], atol=1e-4
    )


def test_a_family_that_stops_exporting_fails_not_skips(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr("spectrakit.export.onnx._export_bytes", broken)
    try:
        with pytest.raises(ModelError, match="cannot be exported"):
            test_onnx_matches_pytorch_for_every_family(tmp_path, "cnn1d")
    except pytest.skip.Exception:
        pytest.fail("an ONNX export failure was skipped instead of failing")


@pytest.mark.parametrize("name", ["specbert_tiny", "spectrafm_tiny", "cnn1d_tiny"])
def test_dynamic_length_without_fixed_preprocessing(tmp_path, name):
    spectra = _spectra(points=128)
    bundle = _bundle(tmp_path, name, spectra, pipeline=None)
    record = export_onnx(bundle, batch_sizes=(2,))
    model = create(name, input_length=128)
    assert record["dynamic_length"] == bool(model.variable_length)
    if record["dynamic_length"]:
        assert len({r["length"] for r in record["parity"]}) >= 2


def test_extra_features_are_graph_inputs(tmp_path):
    spectra = _spectra()
    bundle = _bundle(tmp_path, "mlp_tiny", spectra, n_extra=1)
    record = export_onnx(bundle, batch_sizes=(3,))
    assert record["inputs"] == ["spectra", "extra"]
    np.testing.assert_allclose(
        load_onnx(bundle).predict(spectra)["c"], sk.load(bundle).predict(spectra)["c"], atol=1e-4
    )


def test_runtime_refuses_unexported_bundle_and_bad_axis(tmp_path):
    spectra = _spectra()
    bundle = _bundle(tmp_path, "cnn1d_tiny", spectra)
    with pytest.raises(BundleError, match="has not been exported"):
        load_onnx(bundle)
    export_onnx(bundle, batch_sizes=(1,))
    with pytest.raises(sk.AxisError, match="do not cover"):
        load_onnx(bundle).predict(spectra.crop(600, 1500))
    # The export record is part of the bundle's checksummed files.
    config = json.loads((bundle / "config.json").read_text())
    assert {"model.onnx", "export.json"} <= set(config["files"])


def test_runtime_does_not_import_torch(tmp_path):
    spectra = _spectra()
    bundle = _bundle(tmp_path, "cnn1d_tiny", spectra)
    export_onnx(bundle, batch_sizes=(1,))
    sk.write(spectra, tmp_path / "s.csv")
    code = (
        "import sys, spectrakit as sk\n"
        "from spectrakit.export import load_onnx\n"
        f"p = load_onnx({str(bundle)!r})\n"
        f"df = p.predict(sk.read({str(tmp_path / 's.csv')!r}))\n"
        "assert len(df) == 24\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_runtime_needs_only_the_cropped_range(tmp_path):
    spectra = _spectra()
    cropped = {"steps": [{"step": "Crop", "params": {"low": 600.0, "high": 1600.0}}, "SNV"]}
    bundle = _bundle(tmp_path, "cnn1d_tiny", spectra, pipeline=cropped)
    export_onnx(bundle, batch_sizes=(1,))
    runtime = load_onnx(bundle)
    full = runtime.predict(spectra)["c"].to_numpy()
    partial = spectra.crop(590.0, 1610.0)  # covers the crop, not the training axis 400-1800
    got = runtime.predict(partial)["c"].to_numpy()
    np.testing.assert_allclose(got, full, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sk.load(bundle).predict(partial)["c"], full, atol=1e-4)
    with pytest.raises(sk.AxisError, match="do not cover"):
        runtime.predict(spectra.crop(700.0, 1610.0))


# The named steps of export: dynamic axes, the exporter fallback order, the plan.


def test_dynamic_axes_batch_always_length_only_when_dynamic():
    fixed = onnx_export._dynamic_axes(["spectra", "axis", "extra"], dynamic_length=False)
    assert fixed == {
        "spectra": {0: "batch"},
        "outputs": {0: "batch"},
        "features": {0: "batch"},
        "extra": {0: "batch"},
    }
    dyn = onnx_export._dynamic_axes(["spectra", "axis"], dynamic_length=True)
    assert dyn["spectra"] == {0: "batch", 2: "length"}
    assert dyn["axis"] == {0: "length"}
    assert "extra" not in dyn


def test_export_attempts_fall_back_to_dynamo_then_to_a_fixed_length():
    fixed = onnx_export._dynamic_axes(["spectra"], dynamic_length=False)
    assert [dynamo for _, dynamo in onnx_export._export_attempts(fixed)] == [False, True]
    dyn = onnx_export._dynamic_axes(["spectra", "axis"], dynamic_length=True)
    attempts = onnx_export._export_attempts(dyn)
    assert [dynamo for _, dynamo in attempts] == [False, True, False, True]
    assert [onnx_export._has_length_axis(d) for d, _ in attempts] == [True, True, False, False]
    assert attempts[2][0]["spectra"] == {0: "batch"} and attempts[2][0]["axis"] == {}


def test_a_failing_dynamic_length_export_falls_back_to_a_fixed_length(tmp_path, monkeypatch):
    real = onnx_export._export_bytes

    def no_symbolic_length(wrapper, args, names, dynamic, opset, dynamo):
        if onnx_export._has_length_axis(dynamic) or not dynamo:
            raise RuntimeError("unsupported\nsecond line")
        return real(wrapper, args, names, dynamic, opset, dynamo)

    monkeypatch.setattr(onnx_export, "_export_bytes", no_symbolic_length)
    bundle = _bundle(tmp_path, "specbert_tiny", _spectra(points=128), pipeline=None)
    record = export_onnx(bundle, batch_sizes=(2,), optimize=None)
    assert record["exporter"] == "dynamo"
    assert record["dynamic_length"] is False and record["input_length"] == 128
    assert {r["length"] for r in record["parity"]} == {128}


def test_every_attempt_failing_reports_the_last_error_in_one_line(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("exporter broke\ntraceback noise")

    monkeypatch.setattr(onnx_export, "_export_bytes", broken)
    bundle = _bundle(tmp_path, "cnn1d_tiny", _spectra())
    with pytest.raises(ModelError, match="RuntimeError: exporter broke") as info:
        export_onnx(bundle, batch_sizes=(1,))
    assert "traceback noise" not in str(info.value)
    assert not (bundle / "model.onnx").exists()


def test_without_preprocessing_in_the_graph_every_step_runs_at_runtime(tmp_path):
    spectra = _spectra()
    bundle = _bundle(tmp_path, "cnn1d_tiny", spectra, pipeline=PIPELINE)
    predictor = sk.load(bundle)
    plan = onnx_export._export_plan(predictor, predictor.model, include_preprocessing=False)
    assert plan["tails"] == [[]] and plan["n_runtime"] == [len(PIPELINE["steps"])]
    record = export_onnx(bundle, batch_sizes=(1,), include_preprocessing=False, optimize=None)
    assert record["runtime_steps"] == [len(PIPELINE["steps"])]
    assert record["graph_steps"] == [0]
    # nothing fixed-length is left in the graph: the length is as dynamic as the model allows
    assert record["dynamic_length"] is bool(create("cnn1d_tiny", input_length=160).variable_length)
    assert all(r["ok"] for r in record["parity"])
    assert "optimized" not in record
