"""The typed bundle config: attributes, round trip, version-1 migration, schema-level bounds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spectrakit
from _bundle_forge import forge
from conftest import make_tiny_bundle
from spectrakit import Spectra
from spectrakit.bundle import FORMAT_VERSION, Bundle, BundleConfig, ModelSpec, migrate
from spectrakit.bundle.config import parse_config
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import BundleError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V1 = FIXTURES / "bundle_v1"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_config_is_typed_and_round_trips(tiny_bundle):
    config = Bundle(tiny_bundle).verify()
    assert isinstance(config, BundleConfig)
    assert config.family == ModelSpec("cnn1d_tiny", config.family.kwargs)
    assert config.family.kwargs["input_length"] == 64
    assert isinstance(config.axis, SpectralAxis) and config.axis.n_points == 64
    assert (config.task, config.targets, config.classes) == ("regression", ["c"], None)
    assert config.version == FORMAT_VERSION == 2 and config.signature is None
    assert config.n_outputs == 1 and not config.ood and not config.export and config.card
    assert set(config.files) == {"model.safetensors", "card.md"}
    assert parse_config(config.to_json()) == config


def test_written_today_loads_and_predicts_the_saved_model(tmp_path):
    path = make_tiny_bundle(tmp_path / "b", scale=2.0)
    raw = json.loads((path / "config.json").read_text())
    assert raw["format_version"] == 2 and raw["signature"] is None
    predictor = spectrakit.load(path)
    spectra = Spectra(np.ones((3, 64)), predictor.axis)
    import torch

    with torch.no_grad():
        x = torch.ones(3, 1, 64)
        expected = predictor.model(x).numpy()[:, 0] * 2.0 + 1.0
    np.testing.assert_allclose(predictor.predict(spectra)["c"], expected, rtol=1e-5)


def test_version_1_is_migrated_in_memory_and_written_back_as_version_2(tmp_path):
    raw = json.loads((V1 / "config.json").read_text())
    assert "signature" not in raw
    migrated = migrate(raw)
    assert migrated["signature"] is None and "signature" not in raw
    assert Bundle(V1).config.version == 1
    copy = Path(shutil.copytree(V1, tmp_path / "v1"))
    Bundle(copy).add_file("notes.txt", b"hello")
    again = json.loads((copy / "config.json").read_text())
    assert again["format_version"] == 2 and again["files"]["notes.txt"]
    data = np.load(FIXTURES / "bundle_v1_expected.npz")
    spectra = Spectra(data["values"], data["axis"], kind="raman_shift", laser_wavelength=785.0)
    got = spectrakit.load(copy).predict(spectra)["c"].to_numpy()
    np.testing.assert_allclose(got, data["c"], rtol=1e-5, atol=1e-6)
    forge(copy, lambda c: c.update(format_version=3))  # a version this spectrakit lacks
    with pytest.raises(BundleError) as err:
        spectrakit.load(copy)
    assert "\n" not in str(err.value) and "format_version" in str(err.value)


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda c: c["output"].update(n_targets=10**7), "output/n_targets"),
        (lambda c: c.update(targets=["t"] * 100_001), "targets"),
        (lambda c: c.update(preprocessing=[None] * 65), "preprocessing"),
        (lambda c: c["axis"].update(values=list(range(1_000_001))), "axis/values"),
        (lambda c: c["model"]["kwargs"].update(n_outputs=10**9), "model/kwargs/n_outputs"),
        (lambda c: c["model"]["kwargs"].update(in_channels=10**6), "model/kwargs/in_channels"),
    ],
)
def test_schema_bounds_refuse_oversized_configs(tiny_bundle, edit, where):
    forge(tiny_bundle, edit)
    with pytest.raises(BundleError, match="schema") as err:
        spectrakit.load(tiny_bundle)
    assert where in str(err.value)


_PEAK = """
import sys
import torch, safetensors.torch, jsonschema
import spectrakit, spectrakit.models, spectrakit.predict.loader
from spectrakit.core.errors import BundleError


def peak_mb():  # this process's own peak (ru_maxrss would include the parent's, kept on exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


base = peak_mb()
try:
    spectrakit.load(sys.argv[1])
    print("LOADED")
except BundleError as exc:
    print("REFUSED", str(exc))
print("GROWTH_MB", peak_mb() - base)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_forged_layer_width_is_refused_before_any_allocation(tiny_bundle):
    """1.5 million filters would be a 400 MB layer: refused on the meta device first."""
    forge(tiny_bundle, lambda c: c["model"]["kwargs"].update(filters=[8, 16, 1_500_000]))
    run = subprocess.run(
        [sys.executable, "-c", _PEAK, str(tiny_bundle)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = dict(line.split(" ", 1) for line in run.stdout.strip().splitlines())
    assert "weights do not fit" in lines["REFUSED"], run.stdout
    assert float(lines["GROWTH_MB"]) < 100, run.stdout
