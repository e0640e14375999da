"""The SpectraTorch workflow: export at any accepted length, a result sheet per model, and
the whole recipe recorded in the bundle (and optionally in its folder name)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.data.channels import ChannelPreprocessor
from spectrakit.models import create, list_models

ort = pytest.importorskip("onnxruntime")
from spectrakit.export.onnx import export_onnx, verify_lengths  # noqa: E402


def _minimum(name: str) -> tuple[torch.nn.Module, int]:
    probe = create(name, input_length=512)
    patch = getattr(probe, "patch_size", None) or 1
    low = -(-max(probe.min_length, patch) // patch) * patch
    return probe, low


@pytest.mark.parametrize("name", list_models("*"))
def test_every_family_accepts_every_length_its_export_is_verified_at(name):
    probe, low = _minimum(name)
    if not probe.variable_length:
        pytest.skip("fixed-length model: verified at its one length")
    model = create(name, input_length=low, n_outputs=2).eval()
    lengths = verify_lengths(model, low, None)
    assert min(lengths) == low  # the half length is never below the minimum
    with torch.no_grad():
        for n in lengths:
            axis = torch.linspace(400.0, 1800.0, n) if probe.axis_aware else None
            assert model(torch.zeros(1, 1, n), axis=axis).shape == (1, 2)


@pytest.mark.parametrize("name", ["cnn1d", "vgg1d_tiny"])
def test_export_at_the_family_minimum_length(tmp_path, name):
    _, low = _minimum(name)
    axis = np.linspace(400.0, 1800.0, low)
    spectra = sk.Spectra(np.random.default_rng(0).normal(size=(4, low)), axis)
    pre = ChannelPreprocessor([None]).fit(spectra)
    bundle = save(
        tmp_path / name,
        model=create(name, input_length=low, n_outputs=1).eval(),
        task="regression",
        axis=spectra.axis,
        model_axis=pre.output_axis_,
        targets=["c"],
        output={"task": "regression", "n_targets": 1, "target_mean": [0.0], "target_std": [1.0]},
        preprocessor=pre,
    )
    record = export_onnx(bundle, batch_sizes=(1,))  # cnn1d: 256 points, its minimum
    assert all(r["ok"] for r in record["parity"])
    assert min(r["length"] for r in record["parity"]) == low
    assert json.loads((bundle / "export.json").read_text())["parity"] == record["parity"]
