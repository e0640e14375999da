"""Grad-CAM and HiResCAM for 1D convolutional models, and PeakMixer's class-channel Grad-CAM.

References: Selvaraju et al. 2017 (Grad-CAM); Draelos & Carin 2020 (HiResCAM: the gradient
multiplied element-wise with the feature map, so the map shows the positions the model used
instead of a channel-averaged gradient); the PeakMixer interpretable path (Grad-CAM
restricted to the channels a class is learned to correlate with, versus the complementary
channels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from captum.attr import LayerAttribution, LayerGradCam, LayerGradientXActivation

from spectrakit.core.errors import ModelError
from spectrakit.explain._inputs import Prepared
from spectrakit.explain._registry import register_method

__all__ = ["conv_layer"]


def _conv_names(model: torch.nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv1d)]


def conv_layer(model: torch.nn.Module, layer: str | None = None) -> tuple[str, torch.nn.Module]:
    """The layer Grad-CAM reads: ``layer`` by dotted name, else ``model.gradcam_layer``."""
    name = layer if layer is not None else getattr(model, "gradcam_layer", None)
    family = getattr(model, "family", type(model).__name__)
    if name is None:
        convs = _conv_names(model)
        raise ModelError(
            f"Grad-CAM needs a convolutional layer, and model {family!r} declares none",
            expected="a 1D convolutional model (cnn1d, resnet1d, vgg1d, peakmixer, ...)",
            got=f"gradcam_layer=None; Conv1d layers: {', '.join(convs[-3:]) or 'none'}",
            fix="use method='ig' or 'saliency'"
            + (f", or pass layer={convs[-1]!r}" if convs else ""),
        )
    try:
        module = model.get_submodule(name)
    except AttributeError:
        convs = _conv_names(model)
        raise ModelError(
            f"model {family!r} has no layer {name!r}",
            expected="a dotted module name, e.g. " + (convs[-1] if convs else "'features.3'"),
            got=repr(name),
            fix="list layers with [n for n, _ in model.named_modules()]",
        ) from None
    return name, module


def _layer_cam(
    prep: Prepared, target: torch.Tensor, layer: str | None, *, summed: bool, forward=None
):
    name, module = conv_layer(prep.model, layer)
    cam = LayerGradCam(forward or prep.forward, module)
    attr = cam.attribute(prep.x, target=target, relu_attributions=summed, attr_dim_summation=summed)
    _check_spectral(attr, name)
    return attr


def _check_spectral(attr: torch.Tensor, name: str) -> None:
    """Refuse a layer attribution without a positions dimension (batch, channels, positions)."""
    if attr.ndim != 3:
        raise ModelError(
            f"layer {name!r} does not keep a spectral dimension",
            expected="an output of shape (batch, channels, positions)",
            got=f"shape {tuple(attr.shape)}",
            fix="pick a convolutional layer with layer='...'",
        )


def _upsample(cam: torch.Tensor, length: int) -> torch.Tensor:
    return LayerAttribution.interpolate(cam, (length,), interpolate_mode="linear")[:, 0]


@register_method("gradcam")
def gradcam(prep: Prepared, target: torch.Tensor, *, layer: str | None = None) -> torch.Tensor:
    """Grad-CAM on the model's last convolutional layer, upsampled to the input length."""
    cam = _layer_cam(prep, target, layer, summed=True)
    return _upsample(cam.detach(), prep.x.shape[-1])


@register_method("hirescam")
def hirescam(prep: Prepared, target: torch.Tensor, *, layer: str | None = None) -> torch.Tensor:
    """HiResCAM: ReLU of the channel sum of gradient x feature map, upsampled to the input.

    Unlike Grad-CAM, the gradient is not averaged over positions first, so for a model whose
    head reads positions (a flattening head) the map stays faithful to what the score used:
    before the ReLU it sums to the first-order contribution of the feature map to the score.
    """
    name, module = conv_layer(prep.model, layer)
    attr = LayerGradientXActivation(prep.forward, module, multiply_by_inputs=True).attribute(
        prep.x, target=target
    )
    _check_spectral(attr, name)
    cam = torch.relu(attr.detach().sum(dim=1, keepdim=True))
    return _upsample(cam, prep.x.shape[-1])


def _check_ip_options(model: Any, channels: str, path: str) -> None:
    """Refuse a model without an interpretable path, or an unknown channel set or path."""
    if not hasattr(model, "class_channel_weights"):
        raise ModelError(
            "ip-gradcam needs a model with a learned interpretable path",
            expected="a peakmixer model (class_channel_weights())",
            got=f"model {getattr(model, 'family', type(model).__name__)!r}",
            fix="use method='gradcam' for other convolutional models",
        )
    if channels not in ("specific", "complementary", "all"):
        raise ModelError(
            "unknown channel selection",
            expected="'specific', 'complementary' or 'all'",
            got=repr(channels),
        )
    if path not in ("model", "ip"):
        raise ModelError("unknown gradient path", expected="'model' or 'ip'", got=repr(path))


def _ip_forward(prep: Prepared) -> Callable[[torch.Tensor], torch.Tensor]:
    """The interpretable-path logits of ``prep.model`` (with the axis when it is axis-aware)."""
    model = prep.model
    axis_t = prep.axis_tensor if getattr(model, "axis_aware", False) else None

    def forward(inp: torch.Tensor) -> torch.Tensor:
        return model.forward_ip(inp, axis=axis_t)

    return forward


def _class_channels(weights: torch.Tensor, target: torch.Tensor, channels: str) -> torch.Tensor:
    """Mask of shape (n, C): the channels each explained class relies on (or the others/all)."""
    # a class's own channels: those it weights above the uniform share 1/C
    rows = weights[target]  # (n, C)
    select = rows > rows.mean(dim=1, keepdim=True)
    if channels == "complementary":
        select = ~select
    elif channels == "all":
        select = torch.ones_like(select)
    return select


@register_method("ip-gradcam")
def ip_gradcam(
    prep: Prepared,
    target: torch.Tensor,
    *,
    channels: str = "specific",
    path: str = "ip",
    layer: str | None = None,
) -> torch.Tensor:
    """Grad-CAM through the channels PeakMixer's interpretable path ties to each class.

    Parameters
    ----------
    channels : {"specific", "complementary", "all"}
        ``"specific"``: channels the explained class weights above average in the learned
        correlation (``class_channel_weights()``, shape (n_classes, n_channels));
        ``"complementary"``: the other channels; ``"all"``: plain Grad-CAM.
    path : {"ip", "model"}, default="ip"
        Gradients of the interpretable-path logits (``forward_ip``, the default: the
        path whose channels the class-channel weights describe), or of the model's whole
        output (backbone head included; with ``channels="all"`` this is plain Grad-CAM).
    layer : str, optional
        Override the layer (default ``model.ip_layer`` or ``model.gradcam_layer``).
    """
    model = prep.model
    _check_ip_options(model, channels, path)
    forward = _ip_forward(prep) if path == "ip" else None
    with torch.no_grad():
        weights = torch.as_tensor(model.class_channel_weights()).float()
    name = layer or getattr(model, "ip_layer", None)
    per_channel = _layer_cam(prep, target, name, summed=False, forward=forward)
    if weights.ndim != 2 or weights.shape[1] != per_channel.shape[1]:
        raise ModelError(
            "class-channel weights do not match the Grad-CAM layer",
            expected=f"shape (n_classes, {per_channel.shape[1]})",
            got=f"shape {tuple(weights.shape)}",
        )
    select = _class_channels(weights, target, channels)
    cam = torch.relu((per_channel.detach() * select[:, :, None]).sum(dim=1, keepdim=True))
    return _upsample(cam, prep.x.shape[-1])
