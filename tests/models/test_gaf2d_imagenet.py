"""gaf2d on an ImageNet ResNet base from a local file in torchvision/timm's layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from spectrakit.core.errors import ModelError
from spectrakit.models import create


def _bn(prefix: str, c: int) -> dict[str, torch.Tensor]:
    return {f"{prefix}.weight": torch.rand(c) + 0.5, f"{prefix}.bias": torch.randn(c) * 0.1,
            f"{prefix}.running_mean": torch.randn(c) * 0.1,
            f"{prefix}.running_var": torch.rand(c) + 0.5,
            f"{prefix}.num_batches_tracked": torch.tensor(1000)}  # fmt: skip


def torchvision_resnet_state(blocks=(2, 2, 2, 2)) -> dict[str, torch.Tensor]:
    """A state dict with torchvision's resnet18/34 names and shapes (written out by hand)."""
    g = torch.Generator().manual_seed(0)
    state = {"conv1.weight": torch.randn(64, 3, 7, 7, generator=g) * 0.05, **_bn("bn1", 64)}
    c_in = 64
    for i, (width, n) in enumerate(zip((64, 128, 256, 512), blocks, strict=True)):
        for j in range(n):
            p = f"layer{i + 1}.{j}"
            cin = c_in if j == 0 else width
            state[f"{p}.conv1.weight"] = torch.randn(width, cin, 3, 3, generator=g) * 0.05
            state.update(_bn(f"{p}.bn1", width))
            state[f"{p}.conv2.weight"] = torch.randn(width, width, 3, 3, generator=g) * 0.05
            state.update(_bn(f"{p}.bn2", width))
            if j == 0 and (i > 0):
                state[f"{p}.downsample.0.weight"] = torch.randn(width, cin, 1, 1, generator=g)
                state.update(_bn(f"{p}.downsample.1", width))
        c_in = width
    state["fc.weight"], state["fc.bias"] = torch.randn(1000, 512) * 0.01, torch.zeros(1000)
    return state


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_torchvision_layout_loads_and_adapts_the_stem(tmp_path, suffix):
    state = torchvision_resnet_state()
    assert len(state) == 122  # torchvision's resnet18 state dict has 122 entries
    path = tmp_path / f"resnet18{suffix}"
    torch.save(state, path) if suffix == ".pth" else save_file(state, path)
    model = create("gaf2d_tiny", input_length=64, n_outputs=2, backbone="resnet18",
                   pretrained_weights=str(path))  # fmt: skip
    own = model.backbone.state_dict()
    torch.testing.assert_close(own["layer3.0.downsample.0.weight"],
                               state["layer3.0.downsample.0.weight"])  # fmt: skip
    torch.testing.assert_close(own["layer4.1.bn2.running_var"], state["layer4.1.bn2.running_var"])
    # two field images (GASF, GADF) instead of RGB: kernels repeated and scaled by 3/2
    torch.testing.assert_close(own["conv1.weight"], state["conv1.weight"][:, :2] * 1.5)
    assert model.frozen and not any(p.requires_grad for p in model.backbone.parameters())
    assert model(torch.randn(3, 1, 64)).shape == (3, 2)


def test_wrong_layout_and_missing_file_are_refused(tmp_path):
    path = tmp_path / "resnet34.safetensors"
    save_file(torchvision_resnet_state((3, 4, 6, 3)), path)
    with pytest.raises(ModelError, match="backbone='resnet34'"):
        create("gaf2d_tiny", input_length=64, backbone="resnet18", pretrained_weights=str(path))
    assert create("gaf2d_tiny", input_length=64, backbone="resnet34",
                  pretrained_weights=str(path)).frozen  # fmt: skip
    with pytest.raises(ModelError, match="not found"):
        create("gaf2d_tiny", input_length=64, backbone="resnet18",
               pretrained_weights=str(tmp_path / "none.pth"))  # fmt: skip


def test_head_only_training_on_the_imagenet_base(tmp_path):
    from spectrakit import Spectra
    from spectrakit.training import fit_supervised

    path = tmp_path / "resnet18.safetensors"
    state = torchvision_resnet_state()
    save_file(state, path)
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 64)
    label = rng.integers(0, 2, 32)
    values = 0.5 + 0.4 * np.exp(-0.5 * ((axis - np.where(label, 700, 1400)[:, None]) / 40) ** 2)
    train = Spectra(values + rng.normal(0, 0.02, values.shape), axis, meta={"y": label})
    kwargs = {"backbone": "resnet18", "pretrained_weights": str(path)}
    before = create("gaf2d_tiny", input_length=64, n_outputs=2, **kwargs)
    predictor = fit_supervised(train, "y", task="classification", model="gaf2d_tiny",
                               model_kwargs=kwargs, max_epochs=1, lr=1e-2, progress=False,
                               loggers=(), patience=None, batch_size=16,
                               out=tmp_path / "m")  # fmt: skip
    after = predictor.model
    moved = [k for k, v in before.backbone.state_dict().items()
             if not torch.equal(v, after.backbone.state_dict()[k])]  # fmt: skip
    assert moved == []  # base weights and batch-norm statistics fixed
    assert all(p.requires_grad for p in after.head.parameters())  # the head is what trains
