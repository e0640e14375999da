"""ImageNet ResNet backbones in the torchvision/timm layout, loaded from a local file.

The pychemauth tutorial puts a frozen, ImageNet-pretrained 2D CNN base under the field
images of a spectrum. torchvision's and timm's ResNet-18/34 share one state-dict layout
(``conv1``, ``bn1``, ``layer1.0.conv1``, ..., ``layer2.0.downsample.0``, ``fc``); the module
here has exactly that layout, so their published weights load into it without either
library installed (neither is a dependency: PyPI's torchvision builds target another torch
build than the CPU one used here). Weights are read from a local ``.safetensors`` file or a
PyTorch file loaded with ``weights_only=True`` (no code runs); nothing is downloaded.

The classifier ``fc`` is dropped, and the RGB stem is adapted to the number of image
channels as timm's ``adapt_input_conv`` does: summed for one channel, otherwise the RGB
kernels repeated and scaled by ``3 / channels``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from spectrakit.core.errors import ModelError

__all__ = ["LAYOUTS", "ImageNetResNet", "load_imagenet_weights"]

#: blocks per stage of the supported layouts
LAYOUTS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}
_WIDTHS = (64, 128, 256, 512)


class _Block(nn.Module):
    """torchvision's ``BasicBlock``: conv1/bn1/relu/conv2/bn2 (+ downsample) + relu."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> (B, C_out, H / stride, W / stride)."""
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        short = x if self.downsample is None else self.downsample(x)
        return self.relu(out + short)


class ImageNetResNet(nn.Module):
    """ResNet-18/34 feature extractor with torchvision's module names (no ``fc``).

    Parameters
    ----------
    layout : {"resnet18", "resnet34"}
        Blocks per stage.
    in_chans : int
        Image channels.
    """

    def __init__(self, layout: str = "resnet18", in_chans: int = 3) -> None:
        super().__init__()
        if layout not in LAYOUTS:
            raise ModelError(
                "unknown ImageNet backbone layout",
                expected=" or ".join(LAYOUTS),
                got=repr(layout),
            )
        self.conv1 = nn.Conv2d(in_chans, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        c_in = 64
        for i, (width, n) in enumerate(zip(_WIDTHS, LAYOUTS[layout], strict=True)):
            blocks = [_Block(c_in if j == 0 else width, width, 2 if i and j == 0 else 1)
                      for j in range(n)]  # fmt: skip
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            c_in = width
        self.num_features = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_chans, H, W) -> (B, 512, H / 32, W / 32) feature map."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def _read(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise ModelError(
            "pretrained backbone weights not found",
            expected="a local .safetensors or PyTorch weights file",
            got=str(path),
            fix="pass the path of downloaded weights (weights are never downloaded here)",
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelError(
            "pretrained backbone weights cannot be read",
            expected="a safetensors file or a PyTorch state dict (tensors only)",
            got=f"{path.name}: {str(exc).splitlines()[0][:120]}",
            fix="save the state dict with safetensors or torch.save(model.state_dict())",
        ) from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    if not isinstance(state, dict):
        raise ModelError("pretrained weights are not a state dict", got=type(state).__name__)
    return state


def _adapt_stem(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    if weight.shape[1] == in_chans:
        return weight
    if in_chans == 1:
        return weight.sum(dim=1, keepdim=True)
    repeat = -(-in_chans // weight.shape[1])
    return weight.repeat(1, repeat, 1, 1)[:, :in_chans] * (weight.shape[1] / in_chans)


def load_imagenet_weights(backbone: ImageNetResNet, path: str | Path) -> list[str]:
    """Load torchvision/timm ResNet weights into ``backbone``; returns the dropped keys.

    Raises
    ------
    ModelError
        When the file is missing or unreadable, or its tensors do not fit the layout.
    """
    path = Path(path)
    state = {k.removeprefix("module.").removeprefix("backbone."): v
             for k, v in _read(path).items()}  # fmt: skip
    dropped = sorted(k for k in state if k.startswith(("fc.", "head.fc.")))
    state = {k: v for k, v in state.items() if k not in dropped}
    own = backbone.state_dict()
    if "conv1.weight" in state:
        state["conv1.weight"] = _adapt_stem(state["conv1.weight"], own["conv1.weight"].shape[1])
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        first = (wrong or missing or unexpected)[0]
        raise ModelError(
            f"{path.name} does not fit the {len(own)}-tensor ImageNet ResNet layout",
            expected="torchvision/timm resnet18 or resnet34 weights (the layout chosen)",
            got=f"{len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} of "
            f"another shape (e.g. {first})",
            fix="pass backbone='resnet34' for ResNet-34 weights, or weights of that layout",
        )
    backbone.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
    return dropped
