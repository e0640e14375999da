"""Fine-tuning a pretrained encoder on separately measured channels (``init`` + ChannelSet)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import spectrakit
from spectrakit import ChannelSet, Spectra
from spectrakit.cli import main
from spectrakit.core.errors import AxisError
from spectrakit.io import write_channels
from spectrakit.models import create
from spectrakit.training import fit_supervised, pretrain
from spectrakit.training.measured_init import widen_inputs

pytestmark = pytest.mark.usefixtures("one_torch_thread", "restore_torch_threads")
FAST = dict(progress=False, loggers=(), patience=None)


def _spectra(n: int, seed: int, points: int = 64, lo: float = 400.0) -> Spectra:
    rng = np.random.default_rng(seed)
    axis = np.linspace(lo, 1800.0, points)
    c = rng.uniform(0, 1, n)
    band = np.exp(-0.5 * ((axis - 1000.0) / 60.0) ** 2)
    values = 0.2 + c[:, None] * band + 0.01 * rng.normal(size=(n, points))
    meta = {"sample_id": [f"s{i:03d}" for i in range(n)], "c": c}
    return Spectra(values, axis, meta=meta, unit="cm-1", kind="raman_shift")


def _channels(n: int, seed: int) -> ChannelSet:
    """Two lasers' Raman spectra of the same samples, each on its own (finer) grid."""
    a, b = _spectra(n, seed, 90), _spectra(n, seed + 100, 77)
    b = b.with_meta(a.meta)
    return ChannelSet({"532": a, "785": b}, a.meta)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    corpus = _spectra(64, 0)
    out = tmp_path_factory.mktemp("enc") / "enc"
    return pretrain(corpus, model="specbert_tiny", max_epochs=1, batch_size=32, out=out, **FAST)


@pytest.mark.parametrize("family", ["cnn1d_tiny", "specbert_tiny"])
def test_widened_input_layer_keeps_the_pretrained_response(family):
    torch.manual_seed(0)
    one = create(family, in_channels=1, n_outputs=1, input_length=64).eval()
    three = create(family, in_channels=3, n_outputs=1, input_length=64).eval()
    own = three.state_dict()
    weights = widen_inputs(one.state_dict(), own, 1, 3)
    fits = {k: v for k, v in weights.items() if own[k].shape == v.shape}
    assert len(fits) >= len(own) - 2  # all but the pretraining's reconstruction head
    three.load_state_dict(fits, strict=False)
    x = torch.randn(4, 1, 64)
    with torch.no_grad():
        torch.testing.assert_close(three(x.repeat(1, 3, 1)), one(x), rtol=1e-4, atol=1e-5)
    assert widen_inputs(one.state_dict(), three.state_dict(), 1, 1) is not None


def test_channels_fine_tune_from_a_pretrained_encoder(encoder, tmp_path):
    train, test = _channels(32, 1), _channels(12, 2)
    tuned = fit_supervised(train, "c", init=encoder, max_epochs=1, batch_size=8, ood="none",
                           out=tmp_path / "tuned", **FAST)  # fmt: skip
    cfg = tuned.config
    assert cfg.family.name == "specbert_tiny" and cfg.family.kwargs["in_channels"] == 2
    grid = spectrakit.load(encoder).axis
    assert [a.n_points for a in cfg.channel_layout.axes] == [grid.n_points] * 2
    assert cfg.training["init"] == str(encoder) and cfg.training["recipe"]["channels"]
    pred = tuned.predict(test)["c"].to_numpy()  # channels on their own measured grids
    assert pred.shape == (12,) and np.isfinite(pred).all()
    again = fit_supervised(train, "c", init=tmp_path / "tuned", max_epochs=1, batch_size=8,
                           ood="none", out=tmp_path / "again", **FAST)  # fmt: skip
    assert again.config.channel_layout == cfg.channel_layout


def test_a_channel_off_the_pretrained_grid_is_refused_naming_it(encoder):
    train = _channels(16, 3)
    short = _spectra(16, 4, 60, lo=900.0).with_meta(train.meta)
    bad = ChannelSet({"532": train["532"], "785": short}, train.meta)
    with pytest.raises(AxisError, match="channel '785' cannot be put on the pretrained") as e:
        fit_supervised(bad, "c", init=encoder, max_epochs=1, ood="none", **FAST)
    assert "\n" not in str(e.value)


def test_cli_finetune_init_and_val_with_channel_files(encoder, tmp_path, capsys):
    files = write_channels(_channels(24, 5), tmp_path, "train_")
    val = write_channels(_channels(10, 6), tmp_path, "val_")
    out = tmp_path / "model"
    argv = ["finetune", "--channel-files", files, "--val", val, "--target", "c", "--init",
            str(encoder), "--out", str(out), "--epochs", "1", "--no-progress", "--threads",
            "1", "--ood", "none"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    model = spectrakit.load(out)
    assert model.config.training["n_val"] == 10
    assert model.config.family.kwargs["in_channels"] == 2
