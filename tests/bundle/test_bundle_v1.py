"""A version-1 bundle written by an earlier spectrakit still loads and predicts the same."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import spectrakit
from spectrakit import Spectra
from spectrakit.bundle import read_config, verify
from spectrakit.core.errors import BundleError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
V1 = FIXTURES / "bundle_v1"


def _inputs() -> tuple[Spectra, np.ndarray]:
    data = np.load(FIXTURES / "bundle_v1_expected.npz")
    spectra = Spectra(data["values"], data["axis"], kind="raman_shift", laser_wavelength=785.0)
    return spectra, data["c"]


def test_version_1_fixture_verifies():
    config = verify(V1)
    assert config["format"] == "spectrakit-bundle"
    assert config["format_version"] == 1
    assert config["targets"] == ["c"]


def test_version_1_fixture_predicts_what_it_predicted_when_saved():
    spectra, expected = _inputs()
    frame = spectrakit.load(V1).predict(spectra)
    np.testing.assert_allclose(frame["c"].to_numpy(), expected, rtol=1e-5, atol=1e-6)


def test_version_1_fixture_through_the_deprecated_paths(monkeypatch):
    monkeypatch.delitem(sys.modules, "spectrakit.predictor", raising=False)
    with pytest.warns(DeprecationWarning, match="spectrakit.predictor"):
        from spectrakit.predictor import Predictor
    assert isinstance(spectrakit.load(V1), Predictor)


def test_edited_version_1_fixture_is_refused(tmp_path):
    copy = shutil.copytree(V1, tmp_path / "v1")
    text = (copy / "config.json").read_text(encoding="utf-8")
    (copy / "config.json").write_text(text.replace('"regression"', '"classification"', 1))
    with pytest.raises(BundleError, match="modified"):
        read_config(copy)
