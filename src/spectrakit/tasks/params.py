"""Which parameters train, and how fast: freezing and discriminative learning rates.

Works on any :class:`~spectrakit.models.SpectralModel` without knowing its family: the head
is whatever ``forward_head`` uses; the encoder is split into ordered *layer groups* by
parameter name (``blocks.3.attn.qkv.weight`` belongs to group ``blocks.3``), which is the
unit of ``all-but-last-k`` freezing and of layer-wise learning-rate decay (ULMFiT, Howard &
Ruder 2018; BEiT, Bao et al. 2022).
"""

from __future__ import annotations

import re

import torch
from torch import nn

from spectrakit.core.errors import ConfigError
from spectrakit.tasks.optim import decay_groups

__all__ = ["apply_freeze", "head_parameter_names", "layer_groups", "parameter_groups"]

_FREEZE_HELP = "none | encoder | all-but-last-K (K = number of encoder layer groups to train)"


def head_parameter_names(model: nn.Module) -> set[str]:
    """Names of the parameters that ``model.forward_head`` uses."""
    dim = int(getattr(model, "num_features", 0))
    if dim <= 0:
        return {n for n, _ in model.named_parameters() if n.startswith("head.")}
    saved = {n: p.requires_grad for n, p in model.named_parameters()}
    try:
        for p in model.parameters():
            p.requires_grad_(True)
            p.grad = None
        param = next(model.parameters())
        feats = torch.zeros(2, dim, device=param.device, dtype=param.dtype)
        was_training = model.training
        model.eval()
        with torch.enable_grad():
            model.forward_head(feats).float().sum().backward()
        model.train(was_training)
        names = {n for n, p in model.named_parameters() if p.grad is not None}
    finally:
        for n, p in model.named_parameters():
            p.grad = None
            p.requires_grad_(saved[n])
    return names


def layer_groups(model: nn.Module, exclude: set[str] | None = None) -> list[list[str]]:
    """Encoder parameter names grouped into layers, in registration (input-to-output) order.

    Parameters under a numbered container (``blocks.3``) form one group per index; every
    parameter before the first numbered group (embeddings, tokens) forms the first group and
    every parameter after the last one (a final norm) joins the last group.
    """
    exclude = exclude or set()
    keys: dict[str, list[str]] = {}
    numbered: list[str] = []
    for name, _ in model.named_parameters():
        if name in exclude:
            continue
        parts = name.split(".")
        key = parts[0]
        for i, part in enumerate(parts[:-1]):
            if part.isdigit():
                key = ".".join(parts[: i + 1])
                break
        if key not in keys and key != parts[0]:
            numbered.append(key)
        keys.setdefault(key, []).append(name)
    if not numbered:
        return list(keys.values())
    order = list(keys)
    first, last = order.index(numbered[0]), order.index(numbered[-1])
    groups: list[list[str]] = [[n for k in order[:first] for n in keys[k]]]
    for k in order[first : last + 1]:
        if k in numbered:
            groups.append(list(keys[k]))
        else:
            groups[-1].extend(keys[k])
    groups[-1].extend(n for k in order[last + 1 :] for n in keys[k])
    return [g for g in groups if g]


def apply_freeze(model: nn.Module, freeze: str) -> list[str]:
    """Set ``requires_grad`` according to ``freeze``; return the frozen parameter names.

    Parameters
    ----------
    model : nn.Module
        A model with ``forward_head``.
    freeze : str
        ``"none"`` trains everything; ``"encoder"`` trains only the head; ``"all-but-last-K"``
        trains the head and the last K encoder layer groups; ``"all"`` freezes everything
        (embedding extraction only). Parameters a model declares frozen itself
        (``frozen_parameter_names()``, e.g. a pretrained image backbone of ``gaf2d``) stay
        frozen under every option; the model's own switch (``freeze_backbone=False``)
        releases them.
    """
    head = head_parameter_names(model)
    groups = layer_groups(model, exclude=head)
    if freeze == "none":
        trainable = {n for n, _ in model.named_parameters()}
    elif freeze == "encoder":
        trainable = set(head)
    elif freeze == "all":
        trainable = set()
    else:
        match = re.fullmatch(r"all-but-last-(\d+)", str(freeze))
        if match is None:
            raise ConfigError("unknown freeze option", expected=_FREEZE_HELP, got=repr(freeze))
        k = int(match.group(1))
        trainable = set(head)
        for g in groups[len(groups) - k :] if k else []:
            trainable.update(g)
    declared = getattr(model, "frozen_parameter_names", None)
    trainable -= set(declared() if callable(declared) else ())
    frozen = []
    for name, p in model.named_parameters():
        p.requires_grad_(name in trainable)
        if name not in trainable:
            frozen.append(name)
    return frozen


def parameter_groups(
    model: nn.Module,
    lr: float,
    weight_decay: float,
    *,
    head_lr: float | None = None,
    layer_decay: float | None = None,
) -> list[dict]:
    """Optimizer groups with discriminative learning rates.

    Parameters
    ----------
    model : nn.Module
        The model (frozen parameters are skipped).
    lr : float
        Learning rate of the head (and of the encoder unless told otherwise).
    weight_decay : float
        AdamW weight decay (not applied to biases/norms).
    head_lr : float, optional
        Learning rate of the head; the encoder then uses ``lr``.
    layer_decay : float, optional
        Layer-wise decay in (0, 1]: encoder group ``i`` of ``n`` (counted from the input)
        gets ``lr * layer_decay ** (n - i)``.

    Returns
    -------
    list of dict
        Parameter groups for :func:`~spectrakit.tasks.optim.build_optimizer`.
    """
    if layer_decay is not None and not 0 < layer_decay <= 1:
        raise ConfigError("invalid layer_decay", expected="a value in (0, 1]", got=str(layer_decay))
    params = dict(model.named_parameters())
    if head_lr is None and layer_decay is None:
        return decay_groups(params.items(), lr, weight_decay)
    head = head_parameter_names(model)
    groups = decay_groups(
        ((n, params[n]) for n in params if n in head), head_lr or lr, weight_decay
    )
    encoder = layer_groups(model, exclude=head)
    for i, names in enumerate(encoder):
        scale = layer_decay ** (len(encoder) - i) if layer_decay is not None else 1.0
        groups += decay_groups(((n, params[n]) for n in names), lr * scale, weight_decay)
    return groups
