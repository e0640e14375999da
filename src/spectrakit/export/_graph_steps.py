"""Preprocessing steps that can run inside the exported graph, as torch modules.

Only steps whose maths is a fixed function of the fitted state are translated: per-point
affine scaling (MeanCenter, Standardize), per-spectrum normalisations (SNV, MinMax,
VectorNorm, MaxNorm, MSC) and Savitzky-Golay filtering, which is linear and is therefore
exported exactly as its (L x L) operator, edges included. Everything else (iterative
baselines, despiking, resampling) stays in the runtime predictor, applied with NumPy.

Fitted state is kept in float64 and the graph runs these steps in float64, as NumPy does,
rounding to float32 only for the model input.

Degenerate spectra (constant, all zero) are guarded by a tiny epsilon inside the graph where
the NumPy steps raise; the runtime applies the NumPy checks before calling the graph.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["graph_step"]

_EPS = 1e-12


class _Affine(nn.Module):
    def __init__(self, shift: np.ndarray, scale: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("shift", torch.as_tensor(shift, dtype=torch.float64))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift.to(x.dtype)) / self.scale.to(x.dtype)


class _SNV(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x - x.mean(dim=-1, keepdim=True)
        return c / c.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp_min(_EPS)


class _MinMax(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = x.amin(dim=-1, keepdim=True)
        return (x - low) / (x.amax(dim=-1, keepdim=True) - low).clamp_min(_EPS)


class _VectorNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / x.pow(2).sum(dim=-1, keepdim=True).sqrt().clamp_min(_EPS)


class _MaxNorm(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / x.abs().amax(dim=-1, keepdim=True).clamp_min(_EPS)


class _MSC(nn.Module):
    def __init__(self, reference: np.ndarray) -> None:
        super().__init__()
        ref = torch.as_tensor(reference, dtype=torch.float64)
        self.register_buffer("ref_mean", ref.mean())
        self.register_buffer("ref_c", ref - ref.mean())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ref_c, ref_mean = self.ref_c.to(x.dtype), self.ref_mean.to(x.dtype)
        mean = x.mean(dim=-1, keepdim=True)
        slope = ((x - mean) * ref_c).sum(dim=-1, keepdim=True) / ref_c.pow(2).sum()
        slope = torch.where(slope.abs() < _EPS, torch.full_like(slope, _EPS), slope)
        return (x - (mean - slope * ref_mean)) / slope


class _Linear(nn.Module):
    """y = x @ M for a fixed (L, L) operator (exact Savitzky-Golay, edges included)."""

    def __init__(self, operator: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("op", torch.as_tensor(operator, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, self.op.to(x.dtype))


def graph_step(step: object, axis: np.ndarray) -> nn.Module | None:
    """Torch form of a fitted preprocessing ``step`` on ``axis``, or ``None`` if not expressible.

    Parameters
    ----------
    step : SpectralTransformer
        A fitted step.
    axis : ndarray of shape (L,)
        Axis the step sees.
    """
    name = type(step).__name__
    if name == "MeanCenter":
        return _Affine(step.mean_, np.ones_like(step.mean_))
    if name == "Standardize":
        return _Affine(step.mean_, step.scale_)
    if name == "SNV":
        return _SNV()
    if name == "MinMax":
        return _MinMax()
    if name == "VectorNorm":
        return _VectorNorm()
    if name == "MaxNorm":
        return _MaxNorm()
    if name == "MSC":
        return _MSC(step.reference_)
    if name == "SavitzkyGolay":
        eye = np.eye(axis.size)
        # The step maps rows; applied to the identity it yields the operator's rows: y = x @ M.
        op, _ = step._transform(eye, axis)
        return _Linear(op)
    return None
