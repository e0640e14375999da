"""SpecBERT: patch transformer with masked spectral modeling.

A ViT/BERT-style encoder for 1D spectra (Dosovitskiy et al., 2021; Devlin et al., 2019;
SpecBERT of the raman-spectra project): the spectrum is cut into patches of P points,
each linearly embedded, positions added (sinusoidal or learned), a CLS token prepended,
then pre-norm transformer blocks. Masked spectral modeling replaces the embeddings of
masked patches by a learned mask token *before* the encoder, so the model must
reconstruct them from context (the reconstruction head predicts the C*P raw values).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.layers import Block, LearnedPosEmbed, PatchEmbed1d, patchify, sincos_embed
from spectrakit.models._base import SpectralModel
from spectrakit.models._registry import register_model

__all__ = ["MaskedTransformer", "SpecBERT"]


class MaskedTransformer(SpectralModel):
    """Shared machinery of patch transformers with masked modeling (SpecBERT, SpectraFM).

    Subclasses implement :meth:`positions` (B, N, D) for the patch tokens. Pooling is the
    CLS token when ``use_cls_token`` else the mean of the patch tokens.

    Parameters
    ----------
    patch_size : int
        Points per patch P.
    embed_dim : int
        Token width D.
    depth : int
        Number of transformer blocks.
    num_heads : int
        Attention heads.
    mlp_ratio : float
        MLP hidden width relative to D.
    use_cls_token : bool
        Prepend a learned CLS token and pool it.
    drop : float
        Dropout inside the blocks.
    input_scaling : (float, float), optional
        ``(offset, scale)``: :meth:`forward_embedding` (every prediction and fine-tuning
        step) first maps spectra to ``(x - offset) / scale``. A bundle pretrained with the
        corpus intensity scaling stores its offset and scale here, so the fine-tuned model
        sees its inputs as pretraining did. :meth:`forward_masked` takes spectra already
        scaled (the masked-modeling task scales them).
    **kwargs
        :class:`SpectralModel` arguments.
    """

    def __init__(
        self,
        *,
        patch_size: int = 16,
        embed_dim: int = 256,
        depth: int = 6,
        num_heads: int = 8,
        mlp_ratio: float = 4.0,
        use_cls_token: bool = True,
        drop: float = 0.0,
        input_scaling: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.input_scaling = _scaling(input_scaling)
        if embed_dim % num_heads:
            raise ModelError(
                "embed_dim must be divisible by num_heads",
                expected=f"a multiple of {num_heads}",
                got=str(embed_dim),
                fix="change embed_dim or num_heads",
            )
        self.patch_size = patch_size
        self.min_length = patch_size
        self.patch_embed = PatchEmbed1d(patch_size, self.in_channels, embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if use_cls_token else None
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, drop=drop) for _ in range(depth)
        )
        self.norm = nn.LayerNorm(embed_dim)
        self.recon_head = nn.Linear(embed_dim, self.in_channels * patch_size)
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        if self.cls_token is not None:
            nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.init_head(embed_dim)

    def positions(self, n: int, axis: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """Position encodings of the N patch tokens: (1 or B, N, D)."""
        raise NotImplementedError

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, L) -> (B, N, C*P) patches, the targets of :meth:`forward_masked`."""
        return patchify(x, self.patch_size)

    def _encode(
        self, x: torch.Tensor, axis: torch.Tensor | None, mask: torch.Tensor | None
    ) -> torch.Tensor:
        tokens = self.patch_embed(self.patchify(x))
        if mask is not None:
            # masked patches are replaced before anything else sees them
            tokens = torch.where(mask.unsqueeze(-1), self.mask_token.to(tokens.dtype), tokens)
        tokens = tokens + self.positions(tokens.shape[1], axis, tokens)
        if self.cls_token is not None:
            tokens = torch.cat([self.cls_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def scale_input(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - offset) / scale`` with ``input_scaling``, else ``x`` unchanged."""
        if self.input_scaling is None:
            return x
        offset, scale = self.input_scaling
        return (x - offset) / scale

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, C, L) -> (B, D): CLS token (or mean patch token) of the last layer."""
        tokens = self._encode(self.scale_input(x), axis, None)
        return tokens[:, 0] if self.cls_token is not None else tokens.mean(1)

    def forward_masked(
        self, x: torch.Tensor, mask: torch.Tensor, axis: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Reconstruct every patch with the masked ones hidden from the encoder.

        Parameters
        ----------
        x : Tensor (B, C, L)
            Spectra, L a multiple of ``patch_size``.
        mask : Tensor (B, N) bool
            True where a patch is masked (replaced by the mask token).
        axis : Tensor (L,) or (B, L), optional
            Physical axis (required by axis-aware models).

        Returns
        -------
        Tensor (B, N, C*P)
            Reconstruction of all patches, comparable with :meth:`patchify` ``(x)``; the
            loss is usually taken on the masked patches only.
        """
        axis = self.check_spectra(x, axis)
        n = self.num_patches(x.shape[-1])
        if mask.shape != (x.shape[0], n) or mask.dtype != torch.bool:
            raise ModelError(
                "mask does not match the patches",
                expected=f"a bool tensor of shape ({x.shape[0]}, {n})",
                got=f"{mask.dtype} {tuple(mask.shape)}",
                fix="build it with model.num_patches(length) columns, True = masked",
            )
        tokens = self._encode(x, axis, mask)
        if self.cls_token is not None:
            tokens = tokens[:, 1:]
        return self.recon_head(tokens)

    def attention_maps(
        self, x: torch.Tensor, axis: torch.Tensor | None = None, extra: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        """Softmax attention of every block: list of (B, heads, T, T), T = N (+1 with CLS)."""
        attns = [block.attn for block in self.blocks]
        for attn in attns:
            attn.capture = True
        try:
            with torch.no_grad():
                self.forward_features(x, axis, extra)
            return [attn.last_attention for attn in attns]
        finally:
            for attn in attns:
                attn.capture = False
                attn.last_attention = None


def _scaling(value: Sequence[float] | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        offset, scale = (float(v) for v in value)
    except (TypeError, ValueError):
        offset, scale = float("nan"), float("nan")
    if not (math.isfinite(offset) and math.isfinite(scale) and scale > 0):
        raise ModelError("invalid input_scaling", expected="(offset, scale) with scale > 0",
                         got=repr(value))  # fmt: skip
    return offset, scale


class SpecBERT(MaskedTransformer):
    """SpecBERT patch transformer with index positions.

    Parameters
    ----------
    pos_encoding : {"sin", "learned"}
        Sinusoidal positions of the patch index (any length) or a learned table of
        ``max_patches`` rows (longer inputs are refused).
    max_patches : int, optional
        Rows of the learned table (default ``input_length // patch_size`` or 256).
    **kwargs
        :class:`MaskedTransformer` arguments.
    """

    family = "specbert"

    def __init__(
        self, *, pos_encoding: str = "sin", max_patches: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if pos_encoding not in ("sin", "learned"):
            raise ModelError(
                "invalid pos_encoding", expected="'sin' or 'learned'", got=repr(pos_encoding)
            )
        self.pos_encoding = pos_encoding
        self.pos_embed = None
        if pos_encoding == "learned":
            if max_patches is None:
                max_patches = (self.input_length or 256 * self.patch_size) // self.patch_size
            self.pos_embed = LearnedPosEmbed(max_patches, self.num_features)

    def positions(self, n: int, axis: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """Index positions of the N patches: (1, N, D)."""
        if self.pos_embed is None:
            idx = torch.arange(n, device=like.device)
            return sincos_embed(idx, self.num_features).unsqueeze(0).to(like.dtype)
        if n > self.pos_embed.max_tokens:
            raise ModelError(
                "spectrum longer than the learned position table",
                expected=f"at most {self.pos_embed.max_tokens * self.patch_size} points",
                got=f"{n * self.patch_size}",
                fix="crop the spectra, or use pos_encoding='sin' or a larger max_patches",
            )
        return self.pos_embed(n)


def _specbert(size: dict[str, Any], kwargs: dict[str, Any]) -> SpecBERT:
    return SpecBERT(**{**size, **kwargs})


@register_model
def specbert_tiny(**kwargs: Any) -> SpecBERT:
    """SpecBERT, patch 16, dim 64, depth 2, 4 heads (about 100k parameters)."""
    return _specbert(dict(patch_size=16, embed_dim=64, depth=2, num_heads=4), kwargs)


@register_model
def specbert_small(**kwargs: Any) -> SpecBERT:
    """SpecBERT, patch 16, dim 128, depth 4, 4 heads (about 0.8M parameters)."""
    return _specbert(dict(patch_size=16, embed_dim=128, depth=4, num_heads=4), kwargs)


@register_model
def specbert_base(**kwargs: Any) -> SpecBERT:
    """SpecBERT seed defaults: patch 16, dim 256, depth 6, 8 heads, MLP ratio 4 (~4.7M)."""
    return _specbert(dict(patch_size=16, embed_dim=256, depth=6, num_heads=8), kwargs)
