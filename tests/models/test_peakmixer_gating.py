"""PeakMixer's class gate on the pooled tokens equals gating the whole feature map."""

from __future__ import annotations

import pytest
import torch

from spectrakit.models import create


@pytest.mark.parametrize("name", ["peakmixer_tiny", "cnnpeak_tiny"])
def test_gating_the_tokens_equals_gating_the_feature_map(name):
    """Reference: every class's copy of the (B, K, L) map scaled by its gate, then pooled."""
    torch.manual_seed(0)
    model = create(name, n_outputs=5).eval()
    with torch.no_grad():
        model.corr.normal_(0.0, 0.05)  # a gate that zeroes some channels per class
        x = torch.randn(3, 1, 352)
        fmap = model.feature_maps(x)
        gate = torch.relu(model.class_channel_weights() * model.width - 1.0)
        assert (gate == 0).any() and (gate > 0).any()
        copies = (fmap[:, None] * gate[None, :, :, None]).reshape(-1, *fmap.shape[1:])
        mixed = model.mixer_norm(model.mixer(model.token_pool(copies).transpose(1, 2))).mean(1)
        reference = model.forward_head(torch.cat([mixed.reshape(3, -1), fmap.amax(-1)], 1))
        torch.testing.assert_close(model(x), reference, rtol=1e-5, atol=1e-5)
