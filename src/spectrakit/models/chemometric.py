"""Fitted chemometric models (PLS, PLS-DA, ridge, logistic, SVR, random forest) as modules.

A chemometric model fitted with scikit-learn becomes a :class:`SpectralModel` whose
buffers are its fitted arrays, so it is saved, loaded, served and exported to ONNX exactly
like a network (safetensors weights, no pickle). Arithmetic runs in float64 inside, as in
scikit-learn. Build them with :func:`spectrakit.models.chemometric.from_estimator`.

* ``chemometric_linear``: ``y = head(features)`` with features the PLS scores ``t`` and the
  residual norm ``sqrt(Q)`` (PLS, PLS-DA), or the centred/scaled input (ridge, logistic).
* ``chemometric_svr``: RBF support-vector regression on the scaled input.
* ``chemometric_forest``: a random forest stored as flat node arrays, one per tree.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spectrakit.core.errors import ModelError
from spectrakit.models._base import SpectralModel
from spectrakit.models._registry import register_model

__all__ = ["ChemometricForest", "ChemometricLinear", "ChemometricSVR"]

#: output transforms: raw head outputs -> what the bundle's decoder expects
OUTPUTS = ("identity", "log_clip", "log")
_TINY = 1e-6


class _Chemometric(SpectralModel):
    """Fixed-length, single-channel, float64 inside; no trainable parameters."""

    family = "chemometric"
    variable_length = False

    def __init__(self, *, output: str = "identity", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if output not in OUTPUTS:
            raise ModelError("unknown output transform", expected=", ".join(OUTPUTS), got=output)
        self.output = output
        # an empty float32 parameter: fixes the input dtype the base class checks
        self.dtype_ref = nn.Parameter(torch.zeros(0), requires_grad=False)
        self.fusion = None

    def _zeros(self, *shape: int) -> torch.Tensor:
        return torch.zeros(*shape, dtype=torch.float64)

    def _out(self, y: torch.Tensor) -> torch.Tensor:
        if self.output == "log_clip":  # PLS-DA: softmax(log(clip(y) + e)) = normalized responses
            y = torch.log(torch.clamp(y, min=0.0) + _TINY)
        elif self.output == "log":  # class proportions: softmax(log p) = p
            y = torch.log(y + 1e-12)
        return y.float()

    def reset_head(self, n_outputs: int) -> None:
        raise ModelError(
            "a fitted chemometric model has no trainable head",
            expected="a deep model for fine-tuning",
            got=self.family,
            fix="refit the chemometric model on the new data instead",
        )


class ChemometricLinear(_Chemometric):
    """Centre/scale, optional latent projection, linear head.

    Parameters
    ----------
    n_components : int
        Latent variables A (PLS); 0 for models on the scaled input (ridge, logistic).
    output : {"identity", "log_clip", "log"}
        Transform of the head output (``log_clip`` for PLS-DA responses).
    **kwargs
        :class:`SpectralModel` arguments; ``input_length`` (p) and ``n_outputs`` (m).
    """

    def __init__(self, *, n_components: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        p, m, a = self.input_length, self.n_outputs, int(n_components)
        self.n_components = a
        self.register_buffer("x_mean", self._zeros(p))
        self.register_buffer("x_std", self._zeros(p) + 1.0)
        self.register_buffer("rotations", self._zeros(p, a))
        self.register_buffer("loadings", self._zeros(p, a))
        width = a + 1 if a else p
        self.register_buffer("head_weight", self._zeros(m, width))
        self.register_buffer("head_bias", self._zeros(m))
        self.num_features = width

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, 1, p) -> scores and residual norm (B, A + 1), or scaled input (B, p)."""
        xc = (x.flatten(1).double() - self.x_mean) / self.x_std
        if not self.n_components:
            return xc.float()
        t = xc @ self.rotations
        resid = xc - t @ self.loadings.T
        q = torch.sqrt((resid * resid).sum(dim=1, keepdim=True))
        return torch.cat([t, q], dim=1).float()

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, m)."""
        return self._out(feats.double() @ self.head_weight.T + self.head_bias)


class ChemometricSVR(_Chemometric):
    """RBF support-vector regression on standardized input.

    Parameters
    ----------
    n_support : int
        Number of support vectors S.
    **kwargs
        :class:`SpectralModel` arguments (``input_length`` p, ``n_outputs`` 1).
    """

    def __init__(self, *, n_support: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        p = self.input_length
        self.register_buffer("x_mean", self._zeros(p))
        self.register_buffer("x_std", self._zeros(p) + 1.0)
        self.register_buffer("support", self._zeros(int(n_support), p))
        self.register_buffer("dual", self._zeros(self.n_outputs, int(n_support)))
        self.register_buffer("bias", self._zeros(self.n_outputs))
        self.register_buffer("gamma", self._zeros(1))
        self.num_features = p

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, 1, p) -> standardized input (B, p)."""
        return ((x.flatten(1).double() - self.x_mean) / self.x_std).float()

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """Kernel expansion ``sum_i dual_i exp(-gamma |x - sv_i|^2) + b``."""
        xs = feats.double()
        d2 = (
            (xs * xs).sum(dim=1, keepdim=True)
            - 2.0 * xs @ self.support.T
            + (self.support * self.support).sum(dim=1)[None, :]
        )
        k = torch.exp(-self.gamma * torch.clamp(d2, min=0.0))
        return self._out(k @ self.dual.T + self.bias)


class ChemometricForest(_Chemometric):
    """Random forest as node arrays: ``feature``, ``threshold``, ``left``, ``right``, ``value``.

    Parameters
    ----------
    n_trees, n_nodes, depth : int
        Trees T, nodes of the largest tree N (others padded) and the largest depth.
    **kwargs
        :class:`SpectralModel` arguments (``n_outputs``: targets or classes).
    """

    def __init__(self, *, n_trees: int = 1, n_nodes: int = 1, depth: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        t, n = int(n_trees), int(n_nodes)
        self.depth = int(depth)
        self.register_buffer("feature", torch.zeros(t * n, dtype=torch.int64))
        self.register_buffer("threshold", self._zeros(t * n))
        self.register_buffer("left", torch.full((t * n,), -1, dtype=torch.int64))
        self.register_buffer("right", torch.full((t * n,), -1, dtype=torch.int64))
        self.register_buffer("value", self._zeros(t * n, self.n_outputs))
        self.register_buffer("offsets", torch.arange(t, dtype=torch.int64) * n)
        self.num_features = self.input_length

    def forward_embedding(self, x: torch.Tensor, axis: torch.Tensor | None) -> torch.Tensor:
        """(B, 1, p) -> the input itself (B, p)."""
        return x.flatten(1)

    def forward_head(self, feats: torch.Tensor) -> torch.Tensor:
        """Walk every tree to its leaf (``depth`` steps) and average the leaf values."""
        xs = feats.double()
        node = self.offsets[None, :].expand(xs.shape[0], -1)  # (B, T) flat node ids
        for _ in range(self.depth):
            left = self.left[node]
            xv = torch.gather(xs, 1, self.feature[node])
            nxt = torch.where(xv <= self.threshold[node], left, self.right[node])
            node = torch.where(left < 0, node, nxt + self.offsets[None, :])
        return self._out(self.value[node].mean(dim=1))


@register_model
def chemometric_linear(**kwargs: Any) -> ChemometricLinear:
    """A fitted linear chemometric model (PLS, PLS-DA, ridge, logistic); see ``from_estimator``."""
    return ChemometricLinear(**kwargs)


@register_model
def chemometric_svr(**kwargs: Any) -> ChemometricSVR:
    """A fitted RBF support-vector regression; see ``from_estimator``."""
    return ChemometricSVR(**kwargs)


@register_model
def chemometric_forest(**kwargs: Any) -> ChemometricForest:
    """A fitted random forest (regression or classification); see ``from_estimator``."""
    return ChemometricForest(**kwargs)
