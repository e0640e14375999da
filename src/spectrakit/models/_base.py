"""``SpectralModel``: the contract every model family implements.

A family subclasses :class:`SpectralModel`, builds its backbone, calls
:meth:`SpectralModel.init_head` with the backbone's embedding width and implements
``forward_embedding(x, axis) -> (B, D)``. The base class validates inputs, fuses the
optional tabular ``extra`` features into the embedding and owns the output head, so
``forward(x) == forward_head(forward_features(x))`` for every family.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.layers import ExtraFusion
from spectrakit.models.input_crop import crop_unit

__all__ = ["SpectralModel"]


class SpectralModel(nn.Module):
    """Base class of all spectrakit models.

    Parameters
    ----------
    in_channels : int
        Channels C of the input (B, C, L): several spectra per sample are stacked here.
    n_outputs : int
        Output width of the head.
    input_length : int, optional
        Number of points L the model is built for; required when ``variable_length`` is
        False.
    n_extra : int
        Number of tabular features fused with the embedding (0 = none).
    drop_rate : float
        Dropout before the head.
    variable_length : bool, optional
        Overrides the class default (a family may be fixed-length in some configurations).

    Attributes
    ----------
    family : str
        Family name (module of the variant).
    num_features : int
        Embedding width D returned by :meth:`forward_features`.
    axis_aware : bool
        The model uses the axis tensor (and requires it).
    variable_length : bool
        Inputs of any valid length L are accepted.
    patch_size : int or None
        Patch length P of masked-modeling models (None: no masked modeling).
    gradcam_layer : str or None
        Dotted name of the module whose output is the last (B, K, L') feature map.
    min_length : int
        Shortest accepted L.
    """

    family: str = ""
    axis_aware: bool = False
    variable_length: bool = True
    patch_size: int | None = None
    gradcam_layer: str | None = None

    def __init__(
        self,
        *,
        in_channels: int = 1,
        n_outputs: int = 1,
        input_length: int | None = None,
        n_extra: int = 0,
        drop_rate: float = 0.0,
        variable_length: bool | None = None,
    ) -> None:
        super().__init__()
        if variable_length is not None:
            self.variable_length = variable_length
        _check_positive("in_channels", in_channels)
        _check_positive("n_outputs", n_outputs)
        if input_length is not None:
            _check_positive("input_length", input_length)
        if not isinstance(n_extra, int) or n_extra < 0:
            raise ModelError(
                "invalid n_extra", expected="an integer >= 0", got=repr(n_extra), fix="pass 0"
            )
        if not self.variable_length and input_length is None:
            raise ModelError(
                f"{type(self).__name__} needs a fixed input length",
                expected="input_length=<number of points>",
                got="input_length=None",
                fix="pass input_length (the number of points of your spectra)",
            )
        self.in_channels = in_channels
        self.n_outputs = n_outputs
        self.input_length = input_length
        self.n_extra = n_extra
        self.drop_rate = drop_rate
        self.min_length = 1
        self.num_features = 0

    # ------------------------------------------------------------------ head
    def init_head(self, num_features: int) -> None:
        """Create the extra-feature fusion and the output head for embedding width D."""
        self.num_features = num_features
        self.fusion = ExtraFusion(num_features, self.n_extra) if self.n_extra else None
        self.head_drop = nn.Dropout(self.drop_rate)
        self.head = self.build_head(self.n_outputs)

    def build_head(self, n_outputs: int) -> nn.Module:
        """A fresh output head (Linear(D, n_outputs); families may override)."""
        return nn.Linear(self.num_features, n_outputs)

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, D) embedding -> (B, n_outputs)."""
        return self.head(self.head_drop(feats))

    def reset_head(self, n_outputs: int) -> None:
        """Replace the output head by a freshly initialised one with ``n_outputs`` outputs."""
        _check_positive("n_outputs", n_outputs)
        self.n_outputs = n_outputs
        ref = next(self.head.parameters())
        self.head = self.build_head(n_outputs).to(ref.device, ref.dtype)

    def config_overrides(self) -> dict[str, Any]:
        """Constructor arguments that changed since creation (recorded by ``model_config``)."""
        return {"n_outputs": self.n_outputs}

    # --------------------------------------------------------------- forward
    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """Backbone: validated (B, C, L) input -> (B, D) embedding (families implement)."""
        raise NotImplementedError

    def forward_features(
        self,
        x: torch.Tensor,
        axis: torch.Tensor | None = None,
        extra: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Spectral embedding fused with the extra features.

        Parameters
        ----------
        x : Tensor (B, C, L)
            Spectra, float32.
        axis : Tensor (L,) or (B, L), optional
            Physical axis positions; required when ``axis_aware``.
        extra : Tensor (B, n_extra), optional
            Tabular features; required when ``n_extra > 0``.

        Returns
        -------
        Tensor (B, num_features)
        """
        axis = self.check_input(x, axis, extra)
        feats = self.forward_embedding(x, axis)
        if self.fusion is not None:
            feats = self.fusion(feats, extra.to(feats.dtype))
        return feats

    def forward(
        self,
        x: torch.Tensor,
        axis: torch.Tensor | None = None,
        extra: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, C, L) spectra (+ axis, extra) -> (B, n_outputs)."""
        return self.forward_head(self.forward_features(x, axis, extra))

    def num_patches(self, length: int) -> int:
        """Number of patches N of a spectrum of ``length`` points (masked models)."""
        if self.patch_size is None:
            raise ModelError(
                f"{type(self).__name__} has no patches",
                expected="a masked-modeling model (specbert, spectrafm)",
                got=self.family,
                fix="use a model whose patch_size is not None",
            )
        return length // self.patch_size

    # ------------------------------------------------------------ validation
    def check_input(
        self,
        x: torch.Tensor,
        axis: torch.Tensor | None = None,
        extra: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """Validate inputs; returns the axis broadcast to (B, L) (or None when unused)."""
        axis = self.check_spectra(x, axis)
        name = type(self).__name__
        b = x.shape[0]
        if self.n_extra:
            if extra is None or extra.dim() != 2 or tuple(extra.shape) != (b, self.n_extra):
                raise ModelError(
                    f"{name} needs extra tabular features",
                    expected=f"extra of shape ({b}, {self.n_extra})",
                    got="None" if extra is None else str(tuple(extra.shape)),
                    fix="pass extra=<(batch, n_extra) tensor>",
                )
        elif extra is not None:
            raise ModelError(
                f"{name} was created without extra features",
                expected="extra=None",
                got=f"extra of shape {tuple(extra.shape)}",
                fix=f"create the model with n_extra={extra.shape[-1]}",
            )
        return axis

    def check_spectra(
        self, x: torch.Tensor, axis: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """Validate spectra and axis; returns the axis broadcast to (B, L) or None."""
        name = type(self).__name__
        if not isinstance(x, torch.Tensor) or x.dim() != 3:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ModelError(
                f"{name} input has the wrong shape",
                expected="a tensor (batch, channels, points)",
                got=str(got),
                fix="add the channel dimension with x.unsqueeze(1)"
                if isinstance(x, torch.Tensor) and x.dim() == 2
                else "pass a 3-D float tensor",
            )
        dtype = next(self.parameters()).dtype
        if x.dtype != dtype:
            raise ModelError(
                f"{name} input has the wrong dtype",
                expected=str(dtype),
                got=str(x.dtype),
                fix=f"convert with x.to({dtype})",
            )
        b, c, length = x.shape
        if c != self.in_channels:
            raise ModelError(
                f"{name} got the wrong number of channels",
                expected=f"{self.in_channels} channel(s)",
                got=f"{c} (input shape {tuple(x.shape)})",
                fix=f"create the model with in_channels={c} or stack {self.in_channels} spectra",
            )
        if length < self.min_length:
            raise ModelError(
                f"{name} input is too short",
                expected=f"at least {self.min_length} points",
                got=f"{length}",
                fix="use longer spectra or a model with less downsampling",
            )
        if not self.variable_length and length != self.input_length:
            raise ModelError(
                f"{name} has a fixed input length",
                expected=f"{self.input_length} points",
                got=f"{length}",
                fix=f"resample the spectra to {self.input_length} points, or create the model "
                f"with input_length={length}",
            )
        if crop_unit(self) > 1 and length % self.patch_size:  # physical patches: any length
            raise ModelError(
                f"{name} needs a length that is a multiple of the patch size",
                expected=f"a multiple of {self.patch_size}",
                got=f"{length}",
                fix=f"crop or pad to {length - length % self.patch_size} or "
                f"{length + self.patch_size - length % self.patch_size} points",
            )
        if not self.axis_aware:
            return None
        return _check_axis(name, axis, b, length, x)


def _check_axis(
    name: str, axis: torch.Tensor | None, b: int, length: int, x: torch.Tensor
) -> torch.Tensor:
    if axis is None:
        raise ModelError(
            f"{name} uses the spectral axis",
            expected=f"axis of shape ({length},) or ({b}, {length})",
            got="axis=None",
            fix="pass axis=torch.as_tensor(spectra.axis.values, dtype=torch.float32)",
        )
    axis = torch.as_tensor(axis, device=x.device)
    if axis.dim() == 1:
        axis = axis.unsqueeze(0).expand(b, -1)
    if axis.dim() != 2 or axis.shape[1] != length or axis.shape[0] not in (1, b):
        raise ModelError(
            f"{name} axis does not match the input",
            expected=f"axis of shape ({length},) or ({b}, {length})",
            got=str(tuple(axis.shape)),
            fix="pass the axis values of the spectra given as x",
        )
    return axis.expand(b, -1).to(x.dtype)


def _check_positive(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ModelError(
            f"invalid {name}", expected="a positive integer", got=repr(value), fix=f"pass {name}=1"
        )
