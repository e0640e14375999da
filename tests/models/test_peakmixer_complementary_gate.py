"""PeakMixer's complementary gate: the mixer also reads the complementary channels."""

from __future__ import annotations

import pytest
import torch

from spectrakit.models import create, model_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _channel_grad_weights(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Grad-CAM channel weights (B, K): the class-1 logit's gradient on the feature map,
    averaged over positions."""
    maps = []
    hook = model.features.register_forward_hook(lambda m, i, out: maps.append(out))
    try:
        logit = model(x)[:, 1].sum()
    finally:
        hook.remove()
    (grad,) = torch.autograd.grad(logit, maps[0])
    return grad.mean(-1)


def _model(**kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    model = create("peakmixer_tiny", n_outputs=2, **kwargs).eval()
    with torch.no_grad():  # a specialised path: class 1 leans on channels 0-3
        model.corr.zero_()
        model.corr[1, :4] = 0.2
    return model


def test_complementary_maps_follow_the_input_only_with_the_gate():
    x = torch.randn(2, 1, 256, generator=torch.Generator().manual_seed(1))
    comp = _model().class_channel_weights()[1] <= 1 / 24  # complementary channels of class 1
    assert comp.sum() == 20
    plain = _channel_grad_weights(_model(), x)[:, comp]
    # without the gate they reach the logit through a max-pool with fixed weights only:
    # the same Grad-CAM channel weights whatever the spectrum
    torch.testing.assert_close(plain[0], plain[1])
    gated = _model(complementary_gate=True)
    gate = gated.channel_gate()[1].detach()
    # below the weakest of the class's own channels: sigmoid(-2) of it
    assert torch.allclose(gate[comp], torch.sigmoid(torch.tensor(-2.0)) * gate[~comp].min())
    assert gate[comp].max() < gate[~comp].min()
    weights = _channel_grad_weights(gated, x)[:, comp]
    assert (weights[0] - weights[1]).abs().max() > 10 * (plain[0] - plain[1]).abs().max()
    assert (weights[0] - weights[1]).abs().max() > 0.05 * weights.abs().max()


def test_complementary_gate_is_trained_and_saved():
    model = _model(complementary_gate=True).train()
    model(torch.randn(4, 1, 256))[:, 1].sum().backward()
    assert model.comp_gate.grad is not None and model.comp_gate.grad.abs().sum() > 0
    cfg = model_config(model)  # the bundle's architecture record rebuilds the gate
    rebuilt = create(cfg["name"], **cfg["kwargs"])
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt.channel_gate(), model.channel_gate())
    model.reset_head(3)
    assert model.comp_gate.shape == (3, 24)
    assert not hasattr(_model(), "comp_gate")  # off by default
