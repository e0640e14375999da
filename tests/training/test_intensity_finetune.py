"""Fine-tuning an intensity-scaled pretrained encoder reuses the pretraining's offset/scale."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import spectrakit
from spectrakit import Spectra
from spectrakit.core.errors import ConfigError, ModelError
from spectrakit.models import create
from spectrakit.tasks.masked import MaskedModelingTask
from spectrakit.training import PretrainConfig, fit_supervised, pretrain

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FAST = dict(progress=False, loggers=(), patience=None)


def _spectra(n, gain, seed):
    rng = np.random.default_rng(seed)
    axis = np.linspace(400.0, 1800.0, 64)
    c = rng.uniform(0, 1, n)
    band = np.exp(-0.5 * ((axis - 1000.0) / 60.0) ** 2)
    values = gain * (0.2 + c[:, None] * band) + 0.01 * rng.normal(size=(n, 64))
    return Spectra(values, axis, meta={"c": c})


def _first_layer_input(model, x):
    seen = []
    hook = model.patch_embed.register_forward_hook(lambda m, i, o: seen.append(i[0].detach()))
    try:
        with torch.no_grad():
            model.eval().forward_embedding(x, None)
    finally:
        hook.remove()
    return seen[0]


def test_fine_tuning_sees_the_spectrum_as_pretraining_did(tmp_path):
    corpus = _spectra(120, 1.0, 0)
    encoder = pretrain(corpus, model="specbert_tiny", normalize="intensity", max_epochs=2,
                       batch_size=32, out=tmp_path / "enc", **FAST)  # fmt: skip
    pre = json.loads((encoder / "config.json").read_text())
    scaling = pre["training"]["input_scaling"]
    assert scaling["mode"] == "intensity" and scaling["scale"] > 0
    assert pre["normalize"] is False  # no per-spectrum standardization downstream
    # few labels at 3x the intensity: scaling refitted on them would differ
    labelled = _spectra(16, 3.0, 1)
    tuned = fit_supervised(labelled, "c", init=encoder, max_epochs=1, batch_size=8,
                           ood="none", out=tmp_path / "tuned", **FAST)  # fmt: skip
    assert tuned.config.family.kwargs["input_scaling"] == [scaling["offset"], scaling["scale"]]
    assert tuned.config.normalize is False
    # the pretraining's first-layer input for a spectrum: the task's corpus scaling
    task = MaskedModelingTask(spectrakit.load(encoder).model, normalize="intensity").eval()
    task.norm_stats.copy_(torch.tensor([scaling["offset"], scaling["scale"] - 1e-6]))
    x = torch.tensor(np.array(labelled.values[:4]), dtype=torch.float32)[:, None, :]
    hidden = torch.zeros(4, 64 // task.model.patch_size, dtype=torch.bool)
    expected = task.model.patchify(task.normalize_input(x, hidden))
    got = _first_layer_input(tuned.model, x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    refit = (x - x.mean()) / x.std()  # what fitting on the few labels would give
    assert not torch.allclose(got, task.model.patchify(refit), atol=1e-2)


def test_intensity_options_and_bad_scaling():
    cfg = PretrainConfig(normalize="intensity")
    assert cfg.intensity and cfg.normalization == "intensity"
    assert PretrainConfig().normalization == "visible"
    assert PretrainConfig(normalize=False).normalization == "none"
    with pytest.raises(ConfigError, match="both"):
        PretrainConfig(normalize=False, intensity=True)
    model = create("specbert_tiny", input_length=64, input_scaling=[2.0, 4.0]).eval()
    x = torch.randn(2, 1, 64)
    torch.testing.assert_close(model.scale_input(x), (x - 2.0) / 4.0)
    with pytest.raises(ModelError, match="invalid input_scaling"):
        create("specbert_tiny", input_length=64, input_scaling=[0.0, 0.0])
