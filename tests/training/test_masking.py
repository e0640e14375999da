"""Masked modeling hides what it masks; PeakMixer's class-channel correlation is learned."""

from __future__ import annotations

import pytest
import torch

from spectrakit.core.errors import ModelError
from spectrakit.layers import patchify, unpatchify
from spectrakit.models import create

LENGTH = 128
MASKED = ["specbert_tiny", "spectrafm_tiny"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _setup(name: str, in_channels: int = 1):
    torch.manual_seed(0)
    model = create(name, in_channels=in_channels).eval()
    x = torch.randn(2, in_channels, LENGTH)
    axis = torch.linspace(500.0, 1700.0, LENGTH) if model.axis_aware else None
    n = model.num_patches(LENGTH)
    mask = torch.zeros(2, n, dtype=torch.bool)
    mask[0, [1, 4, 5]] = True
    mask[1, [0, n - 1]] = True
    return model, x, axis, mask


def _spread(model, mask: torch.Tensor, in_channels: int) -> torch.Tensor:
    """(B, N) patch mask -> (B, C, L) point mask."""
    p = model.patch_size
    return mask.repeat_interleave(p, dim=1).unsqueeze(1).expand(-1, in_channels, -1)


@pytest.mark.parametrize("name", MASKED)
def test_masked_values_cannot_be_seen(name):
    model, x, axis, mask = _setup(name, in_channels=2)
    with torch.no_grad():
        out = model.forward_masked(x, mask, axis=axis)
        p = model.patch_size
        assert out.shape == patchify(x, p).shape == (2, LENGTH // p, 2 * p)
        hidden = _spread(model, mask, 2)
        x_changed = torch.where(hidden, x + 100.0 * torch.randn_like(x), x)
        torch.testing.assert_close(
            model.forward_masked(x_changed, mask, axis=axis), out, atol=0, rtol=0
        )
        # the same change outside the mask does change the reconstruction
        visible = ~hidden
        x_visible = torch.where(visible, x + torch.randn_like(x), x)
        assert not torch.allclose(model.forward_masked(x_visible, mask, axis=axis), out)
        # without the mask the model does see the values
        nothing = torch.zeros_like(mask)
        assert not torch.allclose(
            model.forward_masked(x_changed, nothing, axis=axis),
            model.forward_masked(x, nothing, axis=axis),
        )


def test_spectrafm_knows_where_masked_patches_are():
    model, x, axis, mask = _setup("spectrafm_tiny")
    p = model.patch_size
    moved = axis.clone()
    moved[4 * p : 5 * p] += 3.0  # shift the axis of masked patch 4 of sample 0 only
    with torch.no_grad():
        a = model.forward_masked(x, mask, axis=axis)
        b = model.forward_masked(x, mask, axis=moved)
    assert not torch.allclose(a[0, 4], b[0, 4])


@pytest.mark.parametrize("name", MASKED)
def test_mask_must_match_patches(name):
    model, x, axis, mask = _setup(name)
    with pytest.raises(ModelError, match="mask"):
        model.forward_masked(x, mask[:, :-1], axis=axis)
    with pytest.raises(ModelError, match="mask"):
        model.forward_masked(x, mask.float(), axis=axis)


def test_patchify_round_trip_and_order():
    x = torch.arange(2 * 3 * 32, dtype=torch.float32).reshape(2, 3, 32)
    patches = patchify(x, 8)
    assert patches.shape == (2, 4, 24)
    torch.testing.assert_close(patches[0, 1, :8], x[0, 0, 8:16])  # patch 1, channel 0
    torch.testing.assert_close(patches[0, 1, 8:16], x[0, 1, 8:16])  # patch 1, channel 1
    torch.testing.assert_close(unpatchify(patches, 3), x)


def test_position_encodings_and_lengths():
    torch.manual_seed(0)
    sin = create("specbert_tiny").eval()
    assert sin(torch.randn(1, 1, 16 * 300)).shape == (1, 1)  # any length with sinusoids
    learned = create("specbert_tiny", pos_encoding="learned", input_length=LENGTH)
    assert learned.pos_embed.weight.shape == (1, LENGTH // 16, 64)
    assert isinstance(learned.pos_embed.weight, torch.nn.Parameter)
    assert learned(torch.randn(2, 1, LENGTH // 2)).shape == (2, 1)
    with pytest.raises(ModelError, match="learned position table"):
        learned(torch.randn(1, 1, 2 * LENGTH))
    # positions matter: permuting two patches changes the embedding
    x = torch.randn(1, 1, LENGTH)
    swapped = torch.cat([x[..., 16:32], x[..., :16], x[..., 32:]], dim=-1)
    with torch.no_grad():
        assert not torch.allclose(sin.forward_features(x), sin.forward_features(swapped))


@pytest.mark.parametrize("name", MASKED)
def test_attention_maps(name):
    model, x, axis, _ = _setup(name)
    maps = model.attention_maps(x, axis=axis)
    n_tokens = model.num_patches(LENGTH) + 1  # with the CLS token
    assert len(maps) == len(model.blocks)
    for a in maps:
        assert a.shape == (2, 4, n_tokens, n_tokens)
        torch.testing.assert_close(a.sum(-1), torch.ones(2, 4, n_tokens))
    assert all(block.attn.last_attention is None for block in model.blocks)


def test_peakmixer_correlation_is_a_learned_parameter():
    torch.manual_seed(0)
    model = create("peakmixer_tiny", n_outputs=3)
    assert isinstance(model.corr, torch.nn.Parameter) and model.corr.shape == (3, 24)
    assert "corr" in model.state_dict()
    x = torch.randn(4, 1, LENGTH)
    model.eval()
    with torch.no_grad():
        w1, out1 = model.class_channel_weights(), model(x)
        w2, out2 = model.class_channel_weights(), model(x)
    torch.testing.assert_close(w1, w2, atol=0, rtol=0)  # not re-drawn between calls
    torch.testing.assert_close(out1, out2, atol=0, rtol=0)
    torch.testing.assert_close(w1.sum(1), torch.ones(3))
    # output = backbone head on the mixer part (all but the pooled K) + interpretable path
    with torch.no_grad():
        feats = model.forward_features(x)
        torch.testing.assert_close(out1, model.head(feats[:, :-24]) + model.forward_ip(x))
    before = model.corr.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    opt.step()
    assert not torch.allclose(model.corr.detach(), before)
    model.reset_head(5)
    assert model.corr.shape == (5, 24) and model(x).shape == (4, 5)


def test_mean_pooling_without_cls_token():
    torch.manual_seed(0)
    model = create("specbert_tiny", use_cls_token=False).eval()
    x = torch.randn(2, 1, LENGTH)
    maps = model.attention_maps(x)
    assert maps[0].shape == (2, 4, LENGTH // 16, LENGTH // 16)
    mask = torch.zeros(2, LENGTH // 16, dtype=torch.bool)
    mask[:, 2] = True
    assert model.forward_masked(x, mask).shape == (2, LENGTH // 16, 16)
    with torch.no_grad():
        tokens = model._encode(x, None, None)
        torch.testing.assert_close(model.forward_features(x), tokens.mean(1))
