"""Declared target bounds travel in the bundle and clip every engine's predictions.

On the real fermentation set, PLS trained on the 21 lab standards predicts negative glucose
for some of the on-line process spectra; with ``--target-min 0`` the bundle (PyTorch and
ONNX) predicts exactly the clipped values.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.cli._app import main
from spectrakit.predict.core import decode_outputs_np

pytest.importorskip("chemotools", reason="the fermentation data ship with chemotools")
from spectrakit.datasets import load_fermentation

sys.path.insert(0, str(Path(__file__).parents[1] / "chemometrics"))
from test_fermentation_pls import published_pipeline

_FIT = ["finetune", "--data", "builtin:fermentation-train", "--target", "glucose"]


def _online():
    """The on-line process spectra, without the three constant ones (SNV refuses them)."""
    online = load_fermentation("test")
    return online.select(online.values.std(axis=1) > 0)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    d = tmp_path_factory.mktemp("bounds")
    (d / "pipe.json").write_text(json.dumps(published_pipeline().to_config()))
    base = [*_FIT, "--model", "pls", "--pipeline", str(d / "pipe.json")]
    assert main([*base, "--out", str(d / "free")]) == 0
    assert main([*base, "--target-min", "0", "--out", str(d / "bounded")]) == 0
    return d / "free", d / "bounded"


def test_the_bundle_records_the_bounds(bundles):
    output = json.loads((bundles[1] / "config.json").read_text())["output"]
    assert output["target_min"] == [0.0] and output["target_max"] == [None]
    assert not json.loads((bundles[0] / "config.json").read_text())["output"].get("target_min")


def test_predictions_are_the_clipped_free_predictions(bundles):
    online = _online()
    free = sk.load(bundles[0]).predict(online)["glucose"].to_numpy()
    got = sk.load(bundles[1]).predict(online)["glucose"].to_numpy()
    assert (free < 0).sum() > 0  # the bound has something to do here
    np.testing.assert_allclose(got, np.maximum(free, 0.0), rtol=1e-6, atol=1e-9)


def test_onnx_predictions_are_clipped_too(bundles):
    from spectrakit.predict.runtime import load_onnx

    assert main(["export", "--model", str(bundles[1]), "--format", "onnx"]) == 0
    online = _online()
    ref = sk.load(bundles[1]).predict(online)["glucose"].to_numpy()
    got = load_onnx(bundles[1]).predict(online)["glucose"].to_numpy()
    assert got.min() >= 0.0
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_decode_clips_each_target_on_its_own_sides():
    raw = np.array([[-2.0, 5.0], [3.0, -1.0], [0.5, 0.5]])
    output = {"task": "regression", "n_targets": 2, "target_min": [0.0, None],
              "target_max": [None, 1.0]}  # fmt: skip
    np.testing.assert_array_equal(
        decode_outputs_np(raw, output)["mean"], [[0.0, 1.0], [3.0, -1.0], [0.5, 0.5]]
    )


def test_a_network_bundle_clips_too(tmp_path):
    data = sk.datasets.make_synthetic(n_spectra=60, axis=(1000.0, 2000.0, 128), seed=1)
    y = data.meta["c_comp0"].to_numpy()
    lower = float(np.median(y))  # a bound the fit must respect, whatever it learned
    predictor = sk.training.fit_supervised(
        data, "c_comp0", model="mlp_tiny", max_epochs=2, target_min=lower, out=tmp_path / "b",
        seed=0, progress=False,
    )  # fmt: skip
    assert predictor.config.output["target_min"] == [lower]
    assert predictor.predict(data)["c_comp0"].min() >= lower


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--target-min", "1", "--target-max", "0"], "expected lower <= upper"),
        (["--target-min", "0,0"], "one bound, or one per target"),
        (["--target-min", "zero"], "--target-min: expected a number"),
    ],
)
def test_bad_bounds_are_refused_in_one_line(extra, expected, tmp_path, capsys):
    args = [*_FIT, "--model", "pls", "--pipeline", "nir-default", *extra]
    assert main([*args, "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "b" / "config.json").exists()


def test_the_automatic_choice_carries_the_bounds(bundles, tmp_path):
    pipe = bundles[0].parent / "pipe.json"
    args = [*_FIT, "--model", "auto", "--deep", "none", "--quick", "--pipeline", str(pipe)]
    assert main([*args, "--target-min", "0", "--out", str(tmp_path / "auto")]) == 0
    predictor = sk.load(tmp_path / "auto")
    assert predictor.config.output["target_min"] == [0.0]
    assert predictor.predict(_online())["glucose"].min() >= 0.0
