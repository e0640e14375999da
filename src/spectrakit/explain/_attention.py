"""Attention maps and attention rollout for spectral transformers.

Rollout follows Abnar & Zuidema 2020 ("Quantifying Attention Flow in Transformers"): per
layer, heads are averaged, the residual path is added as ``0.5 A + 0.5 I``, rows are
renormalized, and the layers' matrices are multiplied. Token importance is the summary
token's row when the model has one, otherwise the attention each token receives averaged
over all tokens. Patch tokens are spread back onto the axis points they cover.
"""

from __future__ import annotations

import torch

from spectrakit.core.errors import ModelError
from spectrakit.explain._inputs import Prepared
from spectrakit.explain._registry import register_method

__all__ = ["rollout"]


def rollout(maps: list[torch.Tensor], residual: float = 0.5) -> torch.Tensor:
    """Attention rollout.

    Parameters
    ----------
    maps : list of Tensor of shape (B, heads, T, T)
        Attention probabilities per layer, first layer first.
    residual : float, default=0.5
        Weight of the identity (skip connection) mixed into each layer.

    Returns
    -------
    Tensor of shape (B, T, T)
        Row ``i`` says how much each input token flows into output token ``i``.
    """
    result = None
    for a in maps:
        a = a.float().mean(dim=1)
        eye = torch.eye(a.shape[-1], dtype=a.dtype)
        a = residual * eye + (1 - residual) * a
        a = a / a.sum(dim=-1, keepdim=True)
        result = a if result is None else a @ result
    if result is None:
        raise ModelError("the model returned no attention maps", expected=">= 1 layer", got="0")
    return result


def _token_of_point(prep: Prepared) -> tuple[int, torch.Tensor] | None:
    """The content tokens of the model's input and the token each axis point falls in.

    Returns
    -------
    (int, Tensor of shape (L,)) or None
        Number N of content tokens and, per input point, the index of the token covering
        it (points past the last whole patch take the nearest token). ``None`` for models
        without patches. Physical-patch models (``patch_step``) cut their tokens from a
        resampled grid, so a point's token is found by its axis value, not its position.
    """
    model, length = prep.model, prep.x.shape[-1]
    patch = getattr(model, "patch_size", None)
    if not patch or not hasattr(model, "num_patches"):
        return None
    if getattr(model, "patch_step", None) is not None:
        axis = prep.axis_tensor.to(torch.float64)
        _, grid = model.token_grid(prep.x[:1], axis)
        starts = grid[0, :: int(patch)].to(torch.float64).contiguous()
        ascending = axis if axis[-1] >= axis[0] else axis.flip(0)
        index = torch.searchsorted(starts, ascending.contiguous(), right=True) - 1
        index = index.clamp(0, starts.numel() - 1)
        return starts.numel(), index if axis[-1] >= axis[0] else index.flip(0)
    n = model.num_patches(length)
    return n, (torch.arange(length) // int(patch)).clamp_max(n - 1)


def _tokens_to_points(
    prep: Prepared, scores: torch.Tensor, tokens: tuple[int, torch.Tensor] | None
) -> torch.Tensor:
    """Map (B, T) token scores onto (B, L) axis points (``tokens``: :func:`_token_of_point`)."""
    length, t = prep.x.shape[-1], scores.shape[1]
    if t == length:
        return scores
    if tokens is not None and tokens[0] == t:
        return scores[:, tokens[1]]
    raise ModelError(
        "cannot map the model's attention tokens onto the axis",
        expected=f"{length} point tokens" + (f" or {tokens[0]} patch tokens" if tokens else ""),
        got=f"{t} tokens",
    )


def _content_tokens(prep: Prepared, t: int, tokens: tuple[int, torch.Tensor] | None) -> int:
    """Number of leading summary tokens (e.g. CLS) before the content tokens."""
    content = tokens[0] if tokens is not None else t
    if t == prep.x.shape[-1] or content > t:
        return 0
    return t - content


@register_method("attention", faithful=False)
def attention(
    prep: Prepared,
    target: torch.Tensor,
    *,
    mode: str = "rollout",
    layer: int = -1,
) -> torch.Tensor:
    """Attention on each axis point: ``mode="rollout"`` (all layers) or ``"layer"``.

    Attention is class-agnostic: ``target`` is not used.
    """
    model = prep.model
    if not hasattr(model, "attention_maps"):
        raise ModelError(
            "attention maps need a transformer",
            expected="a model with attention_maps() (specbert, spectrafm)",
            got=f"model {getattr(model, 'family', type(model).__name__)!r}",
            fix="use method='gradcam' for convolutional models or 'ig' for any model",
        )
    if mode not in ("rollout", "layer"):
        raise ModelError("unknown attention mode", expected="'rollout' or 'layer'", got=mode)
    axis_t = prep.axis_tensor if getattr(model, "axis_aware", False) else None
    with torch.no_grad():
        maps = list(model.attention_maps(prep.x, axis=axis_t))
    if not maps:
        raise ModelError("the model returned no attention maps", expected=">= 1 layer", got="0")
    flow = rollout(maps) if mode == "rollout" else maps[layer].float().mean(dim=1)
    tokens = _token_of_point(prep)  # physical patches: one resampling of the axis
    lead = _content_tokens(prep, flow.shape[-1], tokens)
    scores = flow[:, 0, lead:] if lead else flow.mean(dim=1)
    return _tokens_to_points(prep, scores, tokens)
