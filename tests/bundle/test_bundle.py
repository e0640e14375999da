"""Bundles: identical predictions after a round trip; tampering, pickles and bad axes refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import spectrakit
from spectrakit import Spectra, bundle
from spectrakit.core.errors import AxisError, BundleError
from spectrakit.data import ChannelPreprocessor
from spectrakit.models import create
from spectrakit.preprocessing import Crop, MeanCenter, Pipeline, SavitzkyGolay
from spectrakit.tasks import OutputSpec


def _spectra(n: int = 12, lo: float = 400.0, hi: float = 1800.0, p: int = 281) -> Spectra:
    rng = np.random.default_rng(1)
    axis = np.linspace(lo, hi, p)
    c = rng.uniform(0.5, 2.0, n)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 15.0) ** 2)
    values = c[:, None] * peak + 1e-4 * axis + rng.normal(0, 0.01, (n, p))
    return Spectra(values, axis, meta={"c": c}, kind="raman_shift", laser_wavelength=785.0)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def saved(tmp_path):
    """A regression bundle with a stateful two-channel preprocessing (fitted centring)."""
    train = _spectra()
    pre = ChannelPreprocessor(
        [
            Pipeline([("crop", Crop(500.0, 1700.0)), ("center", MeanCenter())]),
            Pipeline([("crop", Crop(500.0, 1700.0)), ("sg", SavitzkyGolay(7, 2, deriv=1))]),
        ]
    )
    x = pre.fit_transform(train)
    torch.manual_seed(0)
    model = create("cnn1d_tiny", in_channels=2, n_outputs=1, input_length=x.shape[-1])
    spec = OutputSpec("regression", 1, target_mean=[1.2], target_std=[0.4])
    path = bundle.save(
        tmp_path / "model",
        model=model,
        task="regression",
        axis=train.axis,
        model_axis=pre.output_axis_,
        targets=["c"],
        output=spec.__dict__,
        preprocessor=pre,
        training={"data": spectrakit.quality.summarize(train)},
        metrics={"val_rmse": 0.1},
    )
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).numpy()[:, 0] * 0.4 + 1.2
    return path, train, expected


def test_round_trip_gives_identical_predictions(saved):
    path, train, expected = saved
    predictor = spectrakit.load(path)
    got = predictor.predict(train)["c"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert predictor.axis == train.axis and predictor.targets == ["c"]
    assert predictor.prepare(train).shape == (12, 2, predictor.model_axis.n_points)
    files = json.loads((path / "config.json").read_text())["files"]
    assert set(files) == {"model.safetensors", "preprocessing.safetensors", "card.md"}
    card = (path / "card.md").read_text()
    assert "val_rmse" in card and "Crop -> MeanCenter" in card and "400-1800 cm-1" in card


def test_edited_config_is_refused(saved):
    path = saved[0]
    cfg = json.loads((path / "config.json").read_text())
    cfg["targets"] = ["other"]
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(BundleError, match="modified after the bundle was saved"):
        spectrakit.load(path)


def test_config_breaking_the_schema_is_refused(saved):
    path = saved[0]
    cfg = json.loads((path / "config.json").read_text())
    cfg["model"]["name"] = "../../evil"
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(BundleError, match="schema"):
        spectrakit.load(path)


def test_weights_with_wrong_shapes_are_refused(saved):
    path = saved[0]
    other = create("cnn1d_tiny", in_channels=1, n_outputs=3)
    save_file(
        {k: v.contiguous() for k, v in other.state_dict().items()}, path / "model.safetensors"
    )
    # re-record the checksum so that only the shape check can catch it
    b = bundle.Bundle(path)
    files = {**b.config.files, "model.safetensors": bundle.sha256_file(path / "model.safetensors")}
    b.write_config(b.config.replace(files=files))
    with pytest.raises(BundleError, match="wrong shapes"):
        spectrakit.load(path)


def test_swapped_weights_fail_the_checksum(saved):
    path = saved[0]
    raw = bytearray((path / "model.safetensors").read_bytes())
    raw[-1] ^= 0xFF
    (path / "model.safetensors").write_bytes(bytes(raw))
    with pytest.raises(BundleError, match="checksum"):
        spectrakit.load(path)


@pytest.mark.parametrize("name", ["weights.pkl", "model.pt", "last.ckpt", "extra.json"])
def test_unrecorded_files_are_refused(saved, name):
    path = saved[0]
    (path / name).write_bytes(b"\x80\x04K\x01.")  # a pickle stream
    with pytest.raises(BundleError, match="unexpected file"):
        spectrakit.load(path)


def test_add_file_records_checksum(saved):
    path = saved[0]
    bundle.add_file(path, "notes.txt", b"hello")
    assert "notes.txt" in bundle.verify(path).files
    with pytest.raises(BundleError, match="invalid bundle file name"):
        bundle.add_file(path, "payload.pkl", b"x")


def test_compatible_grid_is_resampled(saved):
    path, train, expected = saved
    predictor = spectrakit.load(path)
    # the same spectra measured on a finer grid covering the model's range
    fine_axis = np.linspace(390.0, 1810.0, 853)
    finer = train.resample(fine_axis, fill="edge")
    got = predictor.predict(finer)["c"].to_numpy()
    np.testing.assert_allclose(got, expected, atol=0.05 * np.abs(expected).max())


def test_wavelength_input_is_converted(saved):
    path, train, expected = saved
    predictor = spectrakit.load(path)
    wide = train.resample(np.linspace(400.0, 1800.0, 2801))
    in_nm = wide.convert("nm")  # absolute wavelengths of the same Raman spectra (785 nm laser)
    got = predictor.predict(in_nm)["c"].to_numpy()
    np.testing.assert_allclose(got, expected, atol=0.05 * np.abs(expected).max())


def test_input_needs_to_cover_only_the_cropped_range(saved):
    path, train, expected = saved
    predictor = spectrakit.load(path)
    # both channels start with Crop(500, 1700): an instrument measuring 480-1720 suffices
    partial = train.crop(480.0, 1720.0)
    assert partial.axis.min > train.axis.min and partial.axis.max < train.axis.max
    got = predictor.predict(partial)["c"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert predictor.preprocessor.read_range() == (500.0, 1700.0)
    # one end of the cropped range missing: refused, naming the range that is needed
    with pytest.raises(AxisError, match="500-1700") as info:
        predictor.predict(train.crop(600.0, 1800.0))
    assert "do not cover" in str(info.value)


def test_incompatible_axis_is_refused(saved):
    path = saved[0]
    predictor = spectrakit.load(path)
    narrow = _spectra(lo=800.0, hi=1500.0)
    with pytest.raises(AxisError, match="do not cover the model's axis range"):
        predictor.predict(narrow)
    channels = Spectra(np.ones((2, 50)), np.arange(50.0), unit="channel")
    with pytest.raises(AxisError, match="incompatible"):
        predictor.predict(channels)


def test_zip_bundle_loads(saved, tmp_path):
    from spectrakit.bundle.archive import pack_bundle

    path, train, expected = saved
    archive = pack_bundle(path, tmp_path / "model.zip")
    got = spectrakit.load(archive).predict(train)["c"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_ood_detector_in_bundle_adds_scores(saved):
    from spectrakit.ood import Mahalanobis, save_detector

    path, train, _ = saved
    predictor = spectrakit.load(path)
    emb = predictor.embed(train)
    detector = Mahalanobis().fit(emb)
    detector.calibrate(emb, false_rejection=0.1)
    save_detector(detector, path)
    pred = spectrakit.load(path).predict(train)
    assert {"c", "ood_score", "is_ood"} <= set(pred.columns)
    assert np.all(np.isfinite(pred["ood_score"]))
    weird = train.with_values(train.values[:, ::-1].copy() * 5.0)
    assert spectrakit.load(path).predict(weird)["ood_score"].mean() > pred["ood_score"].mean()
