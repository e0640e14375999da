"""The SpectraFM workflow: one wavelength-aware model for any instrument's grid, everywhere.

Predict, explain and the ONNX runtime all accept another grid and a part of the range,
give the same answers, and say how much of the input lies inside the trained range.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.explain import explain
from spectrakit.models import create
from spectrakit.preprocessing.channels import ChannelPreprocessor

ort = pytest.importorskip("onnxruntime")
from spectrakit.export import load_onnx  # noqa: E402
from spectrakit.export.onnx import export_onnx  # noqa: E402

LO, HI = 15150.0, 16940.0  # APOGEE-like range (angstrom)


def _spectra(points: int, lo: float = LO, hi: float = HI, n: int = 6) -> sk.Spectra:
    rng = np.random.default_rng(points)
    axis = np.linspace(lo, hi, points)
    c = rng.uniform(0, 1, n)
    values = 1 - c[:, None] * np.exp(-0.5 * ((axis - 16000.0) / 30.0) ** 2)
    return sk.Spectra(values + rng.normal(0, 0.01, values.shape), axis, unit="angstrom")


@pytest.fixture(params=[None, (HI - LO) / 290], ids=["point-patches", "physical-patches"])
def bundle(tmp_path, request):
    """A wavelength-aware regression bundle trained on 291 points (not whole patches)."""
    train = _spectra(291)
    pre = ChannelPreprocessor([None]).fit(train, length_multiple=16)
    model = create("spectrafm_tiny", n_outputs=1, patch_step=request.param).eval()
    return save(
        tmp_path / "fm",
        model=model,
        task="regression",
        axis=train.axis,
        model_axis=pre.output_axis_,
        targets=["c"],
        output={"task": "regression", "n_targets": 1, "target_mean": [0.5], "target_std": [0.3]},
        preprocessor=pre,
    )


def test_explain_on_another_grid(bundle):
    other = _spectra(592, 15300.0, 16900.0, n=3)
    attribution = explain(sk.load(bundle), other, method="saliency")
    assert attribution.values.shape[-1] == 592  # on the input's own grid
    np.testing.assert_allclose(attribution.axis.values, other.axis.values)


def test_onnx_runtime_matches_pytorch_on_any_grid_and_part_of_the_range(bundle):
    record = export_onnx(bundle, batch_sizes=(1, 3))  # trained on 291 points
    assert "axis" in record["inputs"] and record["dynamic_length"]
    torch_pred, onnx_pred = sk.load(bundle), load_onnx(bundle)
    grids = {
        "training grid": _spectra(291),
        "another grid": _spectra(592, 15300.0, 16900.0),
        "first half": _spectra(160, LO, 16040.0),
    }
    for name, spectra in grids.items():
        a, b = torch_pred.predict(spectra)["c"], onnx_pred.predict(spectra)["c"]
        np.testing.assert_allclose(b, a, atol=1e-4, err_msg=name)


def test_input_outside_the_trained_range_is_warned_and_scored(bundle):
    predictor = sk.load(bundle)
    inside = _spectra(300, 15200.0, 16900.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (predictor.predict(inside)["coverage"] == 1.0).all()
    beyond = _spectra(320, 14250.0, 16950.0)  # a third lies below the trained range
    with pytest.warns(UserWarning, match=r"only 6\d% of the input axis"):
        table = predictor.predict(beyond)
    assert table["coverage"].iloc[0] == pytest.approx(1790 / 2700, abs=0.01)
    export_onnx(bundle, batch_sizes=(1,))
    with pytest.warns(UserWarning, match="lies inside the trained range"):
        onnx_table = load_onnx(bundle).predict(beyond)
    np.testing.assert_allclose(onnx_table["coverage"], table["coverage"])


def test_low_coverage_raises_the_ood_flag():
    import pandas as pd

    from spectrakit.predict.core import COVERAGE_OOD, add_coverage

    frame = pd.DataFrame({"c": [1.0, 2.0], "is_ood": [False, True]})
    assert add_coverage(frame.copy(), 1.0)["is_ood"].tolist() == [False, True]
    assert add_coverage(frame.copy(), COVERAGE_OOD - 0.01)["is_ood"].tolist() == [True, True]
