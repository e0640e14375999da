"""PeakMixer: ResPeak feature extractor + 1D MLP-Mixer + learned interpretable path.

After "2D Feature Mixer and Interpretable Training Path for Characterization Using
Vibrational Spectroscopy" (the PeakMixer project): ResPeak blocks (inception convolutions
with kernels 5/7/9, squeeze-excitation, residual connection) extract peak features; the
feature map is pooled to T tokens and mixed by MLP-Mixer blocks (Tolstikhin et al., 2021).

Interpretable path (IP). A class-channel correlation matrix ``corr`` (n_outputs, K) is a
*learned* parameter (the original re-drew it at random on every call, so it could not
learn). ``w = softmax(corr / ip_temperature, dim=1)`` says which of the K channels of the
last ResPeak feature map speak for each class; the IP logit of class k is the w_k-weighted
channel average of the globally max-pooled feature map (a channel's strongest peak
response), times a learned scale, plus a bias. The temperature (default 0.05) is what
makes the path specialise: at temperature 1 the softmax of a small-initialised ``corr``
stays near uniform (weights 0.039-0.045 against 1/24 after training), while at 0.05 each
class concentrates on a few channels (weights spread from below 0.01 to above 0.15). Class-
specific Grad-CAM uses the channels ``class_channel_weights()[k]`` weights above the
uniform share, on the output of ``gradcam_layer``.

Class-gated output (default). Through the IP alone the class channels would only describe
one path: the backbone head read every channel, so Grad-CAM of the model's output through
a class's own channels was no better localised than through the others. With
``class_gated=True`` every class logit reads the feature map *only* through that class's
channel weights, on both paths: the mixer runs once per class on the feature map scaled by
``relu(K * w_k - 1)`` (zero for the channels the class weights at or below the uniform
share 1/K, the complementary channels of class-specific Grad-CAM), and the class's head
reads that class's mixer embedding (:class:`ClassChannelHead`). A class's evidence can
therefore only flow through the channels it weights, and the class-specific Grad-CAM of the
whole output localises the deciding peak better than all channels, and all channels better
than the complementary ones. The cost is one mixer pass per output (``class_gated=False`` keeps a
single shared mixer and a plain linear head).

Complementary gate (``complementary_gate=True``, off by default). Under the class gate a
class's mixer never reads its complementary channels: they reach its logit only through the
interpretable path's max-pool with fixed weights, so their Grad-CAM channel weights do not
depend on the input. With the complementary gate, class k's mixer copy also reads its
complementary channels, each scaled by a learned ``sigmoid(comp_gate[k, c])`` (started at
0.12) times the gate of the class's weakest own channel, so a complementary channel always
weighs less than any of the class's own and its map follows the input through the mixer's
gradients too. Over 5 seeds it keeps the band-share order but improves neither infidelity
nor the max-sensitivity order (``benchmarks/PEAKMIXER_CHANNEL_SETS.md``), hence off.

Output. The embedding is ``[mixer embedding (n_outputs x K, or K), max-pooled feature map
(K)]`` and ``forward_head`` returns ``head(mixer part) + IP(pooled part)``: both paths are
trained by any loss on the output, and ``forward == forward_head(forward_features)`` holds.
:meth:`PeakMixer.forward_ip` returns the IP logits alone.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spectrakit.layers import InceptionBlock1d, MixerBlock, SqueezeExcite, get_act_layer
from spectrakit.models._base import SpectralModel, _check_positive
from spectrakit.models._registry import register_model

__all__ = ["ClassChannelHead", "PeakMixer", "ResPeakBlock"]


class ResPeakBlock(nn.Module):
    """Inception (5/7/9) -> BN -> act -> squeeze-excitation, plus a residual connection.

    Parameters
    ----------
    in_channels, out_channels : int
        Channel widths (a 1x1 projection aligns the shortcut when they differ).
    kernel_sizes : tuple of int
        Inception kernels.
    use_se : bool
        Apply squeeze-excitation.
    act_layer : type of nn.Module
        Activation.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_sizes: tuple[int, ...] = (5, 7, 9),
        use_se: bool = True,
        act_layer: type = nn.ReLU,
    ) -> None:
        super().__init__()
        self.inception = InceptionBlock1d(in_channels, out_channels, kernel_sizes)
        self.bn = nn.BatchNorm1d(out_channels)
        self.act = act_layer()
        self.se = SqueezeExcite(out_channels) if use_se else nn.Identity()
        self.shortcut = (
            nn.Identity()
            if in_channels == out_channels
            else nn.Conv1d(in_channels, out_channels, 1, bias=False)
        )
        self.out_act = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, L) -> (B, C_out, L)."""
        return self.out_act(self.se(self.act(self.bn(self.inception(x)))) + self.shortcut(x))


class ClassChannelHead(nn.Module):
    """One linear read-out per class, each on that class's own mixer embedding.

    Parameters
    ----------
    n_outputs, width : int
        Classes (outputs) and embedding width K per class.
    """

    def __init__(self, n_outputs: int, width: int) -> None:
        super().__init__()
        ref = nn.Linear(width, n_outputs)  # the same initialisation as a linear head
        self.weight = nn.Parameter(ref.weight.detach().clone())
        self.bias = nn.Parameter(ref.bias.detach().clone())

    def forward(self, mixed: torch.Tensor) -> torch.Tensor:
        """(B, n_outputs * K) -> (B, n_outputs): logit k from the k-th embedding block."""
        per_class = mixed.reshape(mixed.shape[0], *self.weight.shape)
        return (per_class * self.weight).sum(-1) + self.bias


class PeakMixer(SpectralModel):
    """ResPeak + MLP-Mixer with a learned class-channel interpretable path.

    Parameters
    ----------
    width : int
        Channels K of the ResPeak blocks.
    depth : int
        Number of ResPeak blocks; a max-pool (2) follows each block but the last.
    n_tokens : int
        Tokens T the feature map is average-pooled to before mixing (any input length).
    n_mixer : int
        MLP-Mixer blocks.
    use_se : bool
        Squeeze-excitation in the ResPeak blocks.
    act : str
        Activation name.
    ip_temperature : float, default=0.05
        Softmax temperature of the class-channel weights (lower = fewer channels per class).
    class_gated : bool, default=True
        Route every class logit through that class's channels on both paths (one mixer
        pass per output); False: one shared mixer and a linear head.
    complementary_gate : bool, default=False
        Class-gated only: each class's mixer also reads its complementary channels through
        a learned gate per class and channel, below its weakest own channel's (see the
        module docstring).
    **kwargs
        :class:`SpectralModel` arguments.
    """

    family = "peakmixer"
    gradcam_layer = "features"
    ip_layer = "features"  # the feature map whose channels class_channel_weights() weighs

    def __init__(
        self,
        *,
        width: int = 64,
        depth: int = 4,
        n_tokens: int = 32,
        n_mixer: int = 4,
        use_se: bool = True,
        act: str = "relu",
        ip_temperature: float = 0.05,
        class_gated: bool = True,
        complementary_gate: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not ip_temperature > 0:
            from spectrakit.core.errors import ModelError

            raise ModelError(
                "ip_temperature must be positive", expected="> 0", got=repr(ip_temperature)
            )
        self.ip_temperature = float(ip_temperature)
        self.class_gated = bool(class_gated)
        self.complementary_gate = bool(complementary_gate) and self.class_gated
        act_layer = get_act_layer(act)
        self.stem = nn.Sequential(
            nn.Conv1d(self.in_channels, width, 7, padding=3, bias=False),
            nn.BatchNorm1d(width),
            act_layer(),
        )
        blocks: list[nn.Module] = []
        for i in range(depth):
            blocks.append(self.build_peak_block(width, use_se, act_layer))
            if i < depth - 1:
                blocks.append(nn.MaxPool1d(2))
        self.features = nn.Sequential(*blocks)
        self.min_length = 2 ** (depth - 1)
        self.token_pool = nn.AdaptiveAvgPool1d(n_tokens)
        self.mixer = nn.Sequential(*(MixerBlock(width, n_tokens) for _ in range(n_mixer)))
        self.mixer_norm = nn.LayerNorm(width)
        self.width = width
        self.init_head(self._embedding_width(self.n_outputs))
        self._init_ip(self.n_outputs)

    def _embedding_width(self, n_outputs: int) -> int:
        """D: the mixer embedding (per class when gated) plus the pooled feature map."""
        return (n_outputs + 1) * self.width if self.class_gated else 2 * self.width

    def build_peak_block(self, width: int, use_se: bool, act_layer: type) -> nn.Module:
        """One peak module, (B, K, L) -> (B, K, L): a :class:`ResPeakBlock`."""
        return ResPeakBlock(width, width, use_se=use_se, act_layer=act_layer)

    def build_head(self, n_outputs: int) -> nn.Module:
        """Backbone head on the mixer part: per-class read-out (gated) or Linear(K, n)."""
        if self.class_gated:
            return ClassChannelHead(n_outputs, self.width)
        return nn.Linear(self.width, n_outputs)

    def _init_ip(self, n_outputs: int) -> None:
        ref = self.head.weight
        self.corr = nn.Parameter(0.02 * torch.randn(n_outputs, self.width).to(ref))
        self.ip_log_scale = nn.Parameter(torch.zeros(1).to(ref))
        self.ip_bias = nn.Parameter(torch.zeros(n_outputs).to(ref))
        # marks weights trained with the max-pooled, tempered path: weights saved before it
        # lack this tensor and are refused by the bundle loader instead of read differently
        self.register_buffer("ip_max_pool", torch.ones(()).to(ref))
        if self.class_gated:  # likewise: a class-gated head is never read as a shared one
            self.register_buffer("ip_class_gated", torch.ones(()).to(ref))
        if self.complementary_gate:  # logits of the gates on the complementary channels
            self.comp_gate = nn.Parameter(torch.full((n_outputs, self.width), -2.0).to(ref))

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Last ResPeak feature map (B, K, L'), the output of ``gradcam_layer``."""
        return self.features(self.stem(x))

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, C, L) -> (B, D): [mixer embedding(s), globally max-pooled feature map (K)]."""
        fmap = self.feature_maps(x)
        pooled = fmap.amax(-1)
        tokens = self.token_pool(fmap).transpose(1, 2)  # (B, T, K)
        if self.class_gated:  # the per-channel gate commutes with the token average
            tokens = self.gate_tokens(tokens)
        mixed = self.mixer_norm(self.mixer(tokens)).mean(1)
        return torch.cat([mixed.reshape(pooled.shape[0], -1), pooled], dim=1)

    def gate_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, T, K) -> (B * n_outputs, T, K): every class's copy on its own channels.

        One broadcast product ``tokens[b, t, k] * gate[c, k]`` for all classes at once on
        the T pooled tokens (not on the L-point feature map), so the class copies cost
        O(B n T K) before the mixer runs on them as one batch.
        """
        gate = self.channel_gate()  # (n, K)
        b, t, k = tokens.shape
        return (tokens[:, None] * gate[None, :, None, :]).reshape(b * gate.shape[0], t, k)

    def channel_gate(self) -> torch.Tensor:
        """(n_outputs, K) gate of each class's mixer copy on the K channels.

        ``relu(K w - 1)``: zero on the channels weighted at or below the uniform share (the
        complementary ones); with ``complementary_gate`` those get ``sigmoid(comp_gate)``.
        """
        excess = self.class_channel_weights() * self.width - 1.0
        gate = torch.relu(excess)
        if self.complementary_gate:  # below the class's weakest own channel
            own = torch.where(excess > 0, gate, torch.full_like(gate, float("inf")))
            floor = own.amin(1, keepdim=True).nan_to_num(posinf=0.0)
            gate = gate + torch.sigmoid(self.comp_gate) * floor * (excess <= 0).to(gate.dtype)
        return gate

    def class_channel_weights(self) -> torch.Tensor:
        """(n_outputs, K) softmax of the learned correlation over its temperature."""
        return torch.softmax(self.corr / self.ip_temperature, dim=1)

    def ip_logits(self, pooled: torch.Tensor) -> torch.Tensor:
        """(B, K) pooled feature map -> (B, n_outputs) interpretable-path logits."""
        return pooled @ self.class_channel_weights().T * self.ip_log_scale.exp() + self.ip_bias

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, n_outputs): backbone head + interpretable path."""
        feats = self.head_drop(feats)
        mixed, pooled = feats[:, : -self.width], feats[:, -self.width :]
        return self.head(mixed) + self.ip_logits(pooled)

    def forward_ip(
        self, x: torch.Tensor, axis: torch.Tensor | None = None, extra: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Interpretable-path logits alone: (B, C, L) -> (B, n_outputs)."""
        return self.ip_logits(self.forward_features(x, axis, extra)[:, -self.width :])

    def reset_head(self, n_outputs: int) -> None:
        """New backbone head and a new class-channel correlation for ``n_outputs`` classes.

        Class-gated, the embedding width follows the number of outputs: the (extra-feature
        fusion and) head are rebuilt for the new width.
        """
        if self.class_gated:
            _check_positive("n_outputs", n_outputs)
            ref = next(self.head.parameters())
            self.n_outputs = int(n_outputs)
            self.init_head(self._embedding_width(self.n_outputs))
            self.head.to(ref.device, ref.dtype)
            if self.fusion is not None:
                self.fusion.to(ref.device, ref.dtype)
        else:
            super().reset_head(n_outputs)
        self._init_ip(n_outputs)


def _peakmixer(size: dict[str, Any], kwargs: dict[str, Any]) -> PeakMixer:
    return PeakMixer(**{**size, **kwargs})


@register_model
def peakmixer_tiny(**kwargs: Any) -> PeakMixer:
    """PeakMixer, width 24, 2 ResPeak blocks, 16 tokens, 2 mixer blocks (about 19k parameters)."""
    return _peakmixer(dict(width=24, depth=2, n_tokens=16, n_mixer=2), kwargs)


@register_model
def peakmixer_small(**kwargs: Any) -> PeakMixer:
    """PeakMixer, width 64, 4 ResPeak blocks, 32 tokens, 4 mixer blocks."""
    return _peakmixer(dict(width=64, depth=4, n_tokens=32, n_mixer=4), kwargs)


@register_model
def peakmixer_base(**kwargs: Any) -> PeakMixer:
    """PeakMixer seed defaults: 6 ResPeak blocks (SE, residual), 20 mixer blocks, width 64."""
    return _peakmixer(dict(width=64, depth=6, n_tokens=32, n_mixer=20), kwargs)
