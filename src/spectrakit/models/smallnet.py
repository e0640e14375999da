"""Small networks for small calibration sets: stacked preprocessing channels and a tiny CNN.

Mishra & Passos (2021), "A synergistic use of chemometrics and deep learning improved the
predictive performance of near-infrared spectroscopy models for dry matter prediction in
mango fruit" (Chemom. Intell. Lab. Syst. 212, 104287): the network sees several
preprocessings of the same spectrum as input channels. :class:`ChannelStack` computes them
inside the model (so augmentations act on raw spectra and a saved model needs no outside
preprocessing): raw, SNV, and Savitzky-Golay first and second derivatives, each autoscaled
point by point with statistics of the training spectra (``fit``). No per-spectrum
normalization is applied to the raw channel, so absolute intensity (concentration) survives.

Per-domain centering: ``domain_means`` holds one mean per domain (0 = training instrument,
1 = new instrument); each spectrum is centered with its own domain's mean channel by channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from spectrakit.core.errors import ConfigError, DataError, ModelError
from spectrakit.models._base import SpectralModel
from spectrakit.models._registry import register_model

__all__ = [
    "CHANNELS",
    "HEADS",
    "ChannelStack",
    "SmallCNN",
    "SpectralNet",
    "SpectralNetEnsemble",
]

#: channel names accepted by :class:`ChannelStack`.
CHANNELS = ("raw", "snv", "d1", "d2")
#: pooling before the dense layers of :class:`SmallCNN` (see there).
HEADS = ("gap", "pool", "flatten")
_EPS = 1e-8


def _derivative_weights(window: int, deriv: int) -> np.ndarray:
    """Savitzky-Golay (quadratic) derivative weights of ``window`` points, shape (window,).

    The weights of an odd (even) derivative are exactly antisymmetric (symmetric), so a
    flat spectrum's first derivative is exactly zero.
    """
    from spectrakit.preprocessing import savgol_operators

    centre = savgol_operators(window, 2, deriv, 1.0)[0]
    return (centre + (-1) ** deriv * centre[::-1]) / 2


class ChannelStack(nn.Module):
    """(B, L) raw spectra -> (B, C, L) stacked, autoscaled preprocessing channels.

    Parameters
    ----------
    channels : sequence of {"raw", "snv", "d1", "d2"}
    window : int, default=11
        Savitzky-Golay window (odd) of the derivatives, polynomial order 2.
    n_points : int
        Spectrum length.
    """

    def __init__(self, channels: Sequence[str], n_points: int, window: int = 11) -> None:
        super().__init__()
        bad = [c for c in channels if c not in CHANNELS]
        if bad or not channels:
            raise ConfigError("unknown input channel", expected=", ".join(CHANNELS), got=str(bad))
        if window % 2 == 0 or window < 5 or window >= n_points:
            raise ConfigError(
                "Savitzky-Golay window must be odd, >= 5 and shorter than the spectrum",
                got=f"window={window}, {n_points} points",
            )
        self.channels = tuple(channels)
        self.window = int(window)
        k = [_derivative_weights(window, d) for d in (1, 2)]
        self.register_buffer("kernels", torch.tensor(np.stack(k)[:, None, :]).float())
        c = len(self.channels)
        self.register_buffer("domain_means", torch.zeros(2, c, n_points))
        self.register_buffer("scale", torch.ones(c, n_points))

    def raw_channels(self, x: torch.Tensor) -> torch.Tensor:
        """Unscaled channels, (B, C, L)."""
        out = []
        half = self.window // 2
        padded = nn.functional.pad(x[:, None, :], (half, half), mode="replicate")
        deriv = nn.functional.conv1d(padded, self.kernels)  # (B, 2, L)
        for name in self.channels:
            if name == "raw":
                out.append(x)
            elif name == "snv":
                mu = x.mean(dim=1, keepdim=True)
                out.append((x - mu) / x.std(dim=1, keepdim=True).clamp_min(_EPS))
            else:
                out.append(deriv[:, 0 if name == "d1" else 1])
        return torch.stack(out, dim=1)

    @torch.no_grad()
    def fit(self, X: np.ndarray, X_target: np.ndarray | None = None) -> ChannelStack:
        """Centering means per domain and scales from the training spectra (n, L)."""
        src = self.raw_channels(torch.as_tensor(X, dtype=torch.float32))
        self.domain_means[0] = src.mean(dim=0)
        self.domain_means[1] = src.mean(dim=0)
        sd = src.std(dim=0) if len(src) > 1 else torch.ones_like(src[0])
        self.scale.copy_(sd.clamp_min(sd.mean(dim=1, keepdim=True) * 1e-3 + _EPS))
        if X_target is not None:
            tgt = self.raw_channels(torch.as_tensor(X_target, dtype=torch.float32))
            self.domain_means[1] = tgt.mean(dim=0)
        return self

    def forward(self, x: torch.Tensor, domain: int = 0) -> torch.Tensor:
        """Predictions for a batch."""
        if x.ndim != 2 or x.shape[1] != self.scale.shape[1]:
            raise DataError(
                "spectra do not match the network input",
                expected=f"(n, {self.scale.shape[1]})",
                got=str(tuple(x.shape)),
            )
        return (self.raw_channels(x) - self.domain_means[domain]) / self.scale


class SmallCNN(nn.Module):
    """Three strided convolutions with batch norm, pooled, then a two-layer head.

    About ``2k`` to ``20k`` parameters for ``width`` 8-16: trainable in seconds on a CPU.
    ``features`` returns the penultimate representation (used by alignment losses).

    Parameters
    ----------
    in_channels, n_outputs, width : int
    dropout : float, default=0.1
    head : {"gap", "pool", "flatten"}, default="pool"
        How the (2 width, L/8) feature map reaches the dense layers: ``gap`` averages it
        over all positions (blind to where a band is), ``pool`` averages 8 segments
        (coarse positions), ``flatten`` keeps every position (needs ``n_points``).
    n_points : int, optional
        Spectrum length (for ``flatten``).
    """

    def __init__(
        self,
        in_channels: int,
        n_outputs: int,
        width: int = 8,
        dropout: float = 0.1,
        head: str = "pool",
        n_points: int | None = None,
    ):
        super().__init__()
        if head not in HEADS or (head == "flatten" and not n_points):
            raise ConfigError("invalid SmallCNN head", expected=" | ".join(HEADS) +
                              " (flatten with n_points)", got=repr(head))  # fmt: skip
        w = int(width)

        def block(i: int, o: int, k: int) -> list[nn.Module]:
            return [nn.Conv1d(i, o, k, stride=2, padding=k // 2), nn.BatchNorm1d(o), nn.GELU()]

        convs = [*block(in_channels, w, 9), *block(w, 2 * w, 7), *block(2 * w, 2 * w, 5)]
        bins = {"gap": 1, "pool": 8}.get(head) or _out_length(int(n_points))
        pool = [nn.AdaptiveAvgPool1d(bins)] if head != "flatten" else []
        self.body = nn.Sequential(
            *convs, *pool, nn.Flatten(), nn.Linear(2 * w * bins, 32), nn.GELU(),
            nn.Dropout(dropout),
        )  # fmt: skip
        self.head = nn.Linear(32, n_outputs)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features (B, D)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions for a batch."""
        return self.head(self.body(x))


def _out_length(n_points: int) -> int:
    """Length after the three stride-2 convolutions (odd kernels, padding k // 2)."""
    for _ in range(3):
        n_points = (n_points + 1) // 2
    return n_points


class SpectralNet(nn.Module):
    """Raw spectra (B, L) -> outputs (B, K): :class:`ChannelStack` then :class:`SmallCNN`."""

    def __init__(
        self,
        channels: Sequence[str],
        n_points: int,
        n_outputs: int,
        width: int = 8,
        head: str = "pool",
    ):
        super().__init__()
        self.stack = ChannelStack(channels, n_points)
        self.net = SmallCNN(len(self.stack.channels), n_outputs, width, head=head,
                            n_points=n_points)  # fmt: skip

    def features(self, x: torch.Tensor, domain: int = 0) -> torch.Tensor:
        """Penultimate features (B, D)."""
        return self.net.features(self.stack(x, domain))

    def forward(self, x: torch.Tensor, domain: int = 0) -> torch.Tensor:
        """Predictions for a batch."""
        return self.net(self.stack(x, domain))


class SpectralNetEnsemble(SpectralModel):
    """An average of :class:`SpectralNet` members as one model of the registry (a bundle).

    The embedding is the members' penultimate features side by side (B, 32 K); the head
    averages the members' heads, so ``forward`` is the mean of the members' outputs.

    Parameters
    ----------
    channels : sequence of str
        Stacked input channels of every member.
    width : int
        CNN width of every member.
    head : {"gap", "pool", "flatten"}
        :class:`SmallCNN` head of every member.
    n_members : int
        Networks averaged.
    domain : {0, 1}
        Centering (and batch-norm statistics) of the training (0) or new (1) instrument.
    **kwargs
        :class:`SpectralModel` arguments; ``input_length`` (L) is required, one channel.
    """

    family = "smallnet"
    variable_length = False
    gradcam_layer = None

    def __init__(
        self,
        *,
        channels: Sequence[str] = CHANNELS,
        width: int = 8,
        n_members: int = 1,
        domain: int = 0,
        head: str = "pool",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if self.in_channels != 1 or int(n_members) < 1 or domain not in (0, 1):
            raise ModelError(
                "invalid SpectralNet ensemble",
                expected="in_channels=1, n_members >= 1, domain 0 or 1",
                got=f"in_channels={self.in_channels}, n_members={n_members}, domain={domain}",
            )
        self.domain = int(domain)
        self.members = nn.ModuleList(
            SpectralNet(channels, self.input_length, self.n_outputs, width, head)
            for _ in range(int(n_members))
        )
        self.num_features = 32 * len(self.members)
        self.fusion = None

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, 1, L) -> members' features side by side (B, 32 K)."""
        return torch.cat([m.features(x[:, 0], self.domain) for m in self.members], dim=1)

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, 32 K) -> mean of the members' heads (B, n_outputs)."""
        parts = feats.split(32, dim=1)
        outs = [m.net.head(f) for m, f in zip(self.members, parts, strict=True)]
        return torch.stack(outs).mean(dim=0)

    def reset_head(self, n_outputs: int) -> None:
        """Refused: the fitted members are refit, not fine-tuned."""
        raise ModelError(
            "a fitted SpectralNet ensemble is not fine-tuned further",
            expected="a registry network for fine-tuning",
            got=self.family,
            fix="refit with spectrakit.training.recipes.fit_recipe",
        )


@register_model
def smallnet_ensemble(**kwargs) -> SpectralNetEnsemble:
    """Fitted stacked-channel CNNs averaged (written by ``finetune --model auto``)."""
    return SpectralNetEnsemble(**kwargs)
