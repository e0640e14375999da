"""Spectrum -> Gramian angular field image -> 2D CNN (pychemauth imaging approach).

Mahynski et al. (J. Radioanal. Nucl. Chem., 2025) encode spectra as images to use 2D CNN
bases. Here the image is the Gramian angular field (Wang & Oates, 2015): the spectrum is
reduced to S points by piecewise aggregate approximation (a fixed averaging matrix, so
the transform is differentiable and exports to ONNX), rescaled to [-1, 1] per sample and
channel, ``phi = arccos(x)``, and

- GASF ``cos(phi_i + phi_j) = x_i x_j - sqrt(1 - x_i^2) sqrt(1 - x_j^2)``,
- GADF ``sin(phi_i - phi_j) = sqrt(1 - x_i^2) x_j - x_i sqrt(1 - x_j^2)``,

giving one S x S image per field and input channel. Optionally the Markov transition field
(MTF, same paper) is added: the full-resolution spectrum is binned into Q quantile bins,
``W[a, b]`` is the probability that a point in bin a is followed by one in bin b, and
``MTF[i, j] = W[bin(x_i), bin(x_j)]``, block-averaged to S x S (piecewise constant in x, so
it carries no gradient to the input). The backbone is a small 2D ResNet built
from :class:`~spectrakit.layers.BasicBlock`, or (``backbone="resnet18"``/``"resnet34"``) the
ImageNet ResNet in torchvision/timm's state-dict layout, whose published weights load from
a local file without either library installed. With
``pretrained_weights=<local .safetensors of the backbone>`` the backbone is loaded (never
downloaded), frozen and kept in eval mode; only the head (and fusion) trains.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.layers import BasicBlock
from spectrakit.models._base import SpectralModel
from spectrakit.models._conv import make_stages
from spectrakit.models._registry import register_model

__all__ = ["GAF2d", "gramian_angular_field", "markov_transition_field"]

_FIELDS = ("gasf", "gadf")
_ALL_FIELDS = ("gasf", "gadf", "mtf")


def gramian_angular_field(
    x: torch.Tensor, fields: Sequence[str] = _FIELDS, eps: float = 1e-6
) -> torch.Tensor:
    """Gramian angular fields of a batch of (already reduced) spectra.

    Parameters
    ----------
    x : Tensor (B, C, S)
        Spectra; each (sample, channel) is min-max rescaled to [-1, 1] first.
    fields : sequence of {"gasf", "gadf"}
        Fields to compute.
    eps : float
        Guards the division and the square root (finite gradients at +-1).

    Returns
    -------
    Tensor (B, C * len(fields), S, S)
        Field images, grouped field by field.
    """
    lo = x.amin(-1, keepdim=True)
    hi = x.amax(-1, keepdim=True)
    xs = (2 * (x - lo) / (hi - lo + eps) - 1).clamp(-1, 1)
    sn = torch.sqrt((1 - xs * xs).clamp_min(eps))
    xi, xj = xs.unsqueeze(-1), xs.unsqueeze(-2)
    si, sj = sn.unsqueeze(-1), sn.unsqueeze(-2)
    maps = {"gasf": lambda: xi * xj - si * sj, "gadf": lambda: si * xj - xi * sj}
    return torch.cat([maps[f]() for f in fields], dim=1)


def markov_transition_field(x: torch.Tensor, reduce: torch.Tensor, n_bins: int = 8) -> torch.Tensor:
    """Markov transition field of a batch of spectra, block-averaged (Wang & Oates, 2015).

    Parameters
    ----------
    x : Tensor (B, C, L)
        Full-resolution spectra.
    reduce : Tensor (L, S)
        Averaging matrix (columns sum to 1) that maps L points to S.
    n_bins : int
        Quantile bins Q.

    Returns
    -------
    Tensor (B, C, S, S)
        ``R^T MTF R`` computed as ``A W A^T`` with ``A = R^T onehot(bin(x))`` (B, C, S, Q),
        without forming the L x L field.
    """
    length = x.shape[-1]
    ranks = [min(length - 1, (k * length) // n_bins) for k in range(1, n_bins)]
    edges = x.sort(dim=-1).values[..., ranks]  # (B, C, Q-1) quantile edges
    bins = (x.unsqueeze(-1) >= edges.unsqueeze(-2)).sum(-1)  # (B, C, L) in 0..Q-1
    onehot = (bins.unsqueeze(-1) == torch.arange(n_bins, device=x.device)).to(x.dtype)
    counts = onehot[..., :-1, :].transpose(-1, -2) @ onehot[..., 1:, :]  # (B, C, Q, Q)
    trans = counts / counts.sum(-1, keepdim=True).clamp_min(1.0)
    a = reduce.T.to(x.dtype) @ onehot  # (B, C, S, Q)
    return a @ trans @ a.transpose(-1, -2)


def _reduction_matrix(length: int, size: int) -> torch.Tensor:
    """(L, S) matrix: piecewise aggregate approximation (S <= L) or linear upsampling."""
    eye = torch.eye(length).unsqueeze(1)
    if size <= length:
        return F.adaptive_avg_pool1d(eye, size).squeeze(1)
    return F.interpolate(eye, size=size, mode="linear", align_corners=True).squeeze(1)


class GAF2d(SpectralModel):
    """Gramian angular field image + 2D ResNet.

    Parameters
    ----------
    image_size : int
        Side S of the field images.
    fields : sequence of {"gasf", "gadf", "mtf"}
        Fields stacked as image channels (per input channel).
    n_bins : int
        Quantile bins of the Markov transition field.
    widths, blocks : sequence of int
        2D ResNet stages (stride 2 from the second on) and blocks per stage.
    stem_channels : int
        Channels of the stride-2 3x3 stem.
    pretrained_weights : str, optional
        Local safetensors file with the backbone weights; the backbone is then frozen.
    freeze_backbone : bool, optional
        Freeze the backbone (default: True when ``pretrained_weights`` is given).
    backbone : {"resnet", "resnet18", "resnet34"}, default="resnet"
        ``"resnet"``: the small 2D ResNet of ``widths``/``blocks``; ``"resnet18"`` or
        ``"resnet34"``: the ImageNet ResNet in torchvision/timm's state-dict layout, so
        ``pretrained_weights`` may be those libraries' published weights (a local
        ``.safetensors`` or weights-only PyTorch file; the ``fc`` classifier is dropped
        and the RGB stem adapted to the field channels).
    **kwargs
        :class:`SpectralModel` arguments; ``input_length`` is required.
    """

    family = "gaf2d"
    variable_length = False

    def __init__(
        self,
        *,
        image_size: int = 64,
        fields: Sequence[str] = _FIELDS,
        n_bins: int = 8,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks: Sequence[int] = (2, 2, 2, 2),
        stem_channels: int = 32,
        pretrained_weights: str | None = None,
        freeze_backbone: bool | None = None,
        backbone: str = "resnet",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        fields = tuple(fields)
        if not fields or any(f not in _ALL_FIELDS for f in fields):
            raise ModelError(
                "invalid gaf2d fields",
                expected="a non-empty subset of ('gasf', 'gadf', 'mtf')",
                got=repr(fields),
                fix="use fields=['gasf', 'gadf']",
            )
        self.fields = fields
        self.n_bins = n_bins
        self.image_size = image_size
        self.min_length = 2
        self.register_buffer(
            "reduce", _reduction_matrix(self.input_length, image_size), persistent=False
        )
        img_channels = self.in_channels * len(fields)
        self.backbone_layout = backbone
        if backbone != "resnet":
            self._build_imagenet(backbone, img_channels, pretrained_weights, freeze_backbone)
            return
        stages, c_out = make_stages(
            list(widths),
            list(blocks),
            stem_channels,
            BasicBlock,
            conv_layer=nn.Conv2d,
            norm_layer=nn.BatchNorm2d,
        )
        self.backbone = nn.Sequential(
            OrderedDict(
                stem=nn.Sequential(
                    nn.Conv2d(img_channels, stem_channels, 3, 2, 1, bias=False),
                    nn.BatchNorm2d(stem_channels),
                    nn.ReLU(),
                ),
                stages=stages,
            )
        )
        self.init_head(c_out)
        self.frozen = bool(pretrained_weights) if freeze_backbone is None else freeze_backbone
        if pretrained_weights:
            self._load_backbone(Path(pretrained_weights))
        if self.frozen:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    def _build_imagenet(self, layout, img_channels, weights, freeze) -> None:
        """A torchvision/timm-layout ResNet backbone, its weights from a local file."""
        from spectrakit.models._image_backbones import ImageNetResNet, load_imagenet_weights

        self.backbone = ImageNetResNet(layout, img_channels)
        self.init_head(self.backbone.num_features)
        self.frozen = bool(weights) if freeze is None else freeze
        if weights:
            load_imagenet_weights(self.backbone, weights)
        if self.frozen:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    def _load_backbone(self, path: Path) -> None:
        from safetensors.torch import load_file

        if not path.is_file():
            raise ModelError(
                "pretrained backbone weights not found",
                expected="a local .safetensors file",
                got=str(path),
                fix="pass the path of a saved backbone (weights are never downloaded)",
            )
        state = load_file(str(path))
        state = {k.removeprefix("backbone."): v for k, v in load_file(str(path)).items()}
        own = self.backbone.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
        if missing or unexpected or wrong:
            first = (wrong or missing or unexpected)[0]
            raise ModelError(
                "pretrained weights do not fit the gaf2d backbone",
                expected=f"{len(own)} backbone tensors of matching shapes",
                got=f"{len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} of "
                f"another shape (e.g. {first})",
                fix="save the weights of a gaf2d backbone with the same widths, blocks, "
                "fields and in_channels",
            )
        self.backbone.load_state_dict(state)

    def frozen_parameter_names(self) -> list[str]:
        """Parameters the model keeps frozen whatever the task's ``freeze`` option says.

        Returns
        -------
        list of str
            The backbone's parameter names when the backbone is frozen (pretrained weights
            loaded and ``freeze_backbone`` not set to False), else empty.
        """
        if not self.frozen:
            return []
        return [f"backbone.{n}" for n, _ in self.backbone.named_parameters()]

    def train(self, mode: bool = True) -> GAF2d:
        """Set training mode; a frozen backbone stays in eval mode (fixed BN statistics)."""
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    def config_overrides(self) -> dict[str, Any]:
        """The weights live in the state dict: record the freezing, not the file."""
        return {
            **super().config_overrides(),
            "pretrained_weights": None,
            "freeze_backbone": self.frozen,
        }

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, L) spectra -> (B, C * len(fields), S, S) field images, field by field."""
        reduce = self.reduce.to(x.dtype)
        gaf = [f for f in self.fields if f != "mtf"]
        maps = {}
        if gaf:
            images = gramian_angular_field(x @ reduce, gaf)
            maps.update(zip(gaf, images.split(x.shape[1], dim=1), strict=True))
        if "mtf" in self.fields:
            maps["mtf"] = markov_transition_field(x, reduce, self.n_bins)
        return torch.cat([maps[f] for f in self.fields], dim=1)

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, C, L) -> (B, D): globally pooled backbone features of the images."""
        return self.backbone(self.images(x)).mean((-2, -1))


@register_model
def gaf2d_tiny(**kwargs: Any) -> GAF2d:
    """GAF 32x32 + 2D ResNet with stages 8-16-32-48, one block each (about 56k parameters)."""
    args = dict(image_size=32, widths=(8, 16, 32, 48), blocks=(1, 1, 1, 1), stem_channels=8)
    return GAF2d(**{**args, **kwargs})


@register_model
def gaf2d(**kwargs: Any) -> GAF2d:
    """GAF 64x64 + ResNet-18 layout (stages 64-128-256-512 x 2 blocks; about 11M parameters)."""
    return GAF2d(**kwargs)
