"""Turning raw model outputs into predictions, shared by training and inference.

Regression outputs are in standardized target units and are scaled back with the training
mean and standard deviation. With an uncertainty head the model emits a mean and a
log-variance per target (heteroscedastic regression, Nix & Weigend 1994; Kendall & Gal
2017), trained with the Gaussian negative log-likelihood.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from spectrakit.predict.core import LOGVAR_RANGE, decode_outputs_np

__all__ = ["OutputSpec", "decode_outputs", "n_model_outputs"]


@dataclass
class OutputSpec:
    """How to read the model's output vector.

    Parameters
    ----------
    task : {"regression", "classification", "multilabel"}
    n_targets : int
        Targets (regression), classes (classification) or labels (multilabel).
    target_mean, target_std : list of float, optional
        Training statistics of the regression targets (standardization).
    uncertainty : bool
        Regression head emits mean and log-variance.
    one_vs_rest : bool
        Classification with one sigmoid per class instead of a softmax.
    thresholds : list of float, optional
        Per-label decision thresholds (multilabel).
    target_min, target_max : list of (float or None), optional
        Declared bounds of each regression target (``None``: open); predictions are clipped
        to them (:func:`spectrakit.predict.bounds.apply_bounds`).
    """

    task: str
    n_targets: int
    target_mean: list[float] = field(default_factory=list)
    target_std: list[float] = field(default_factory=list)
    uncertainty: bool = False
    one_vs_rest: bool = False
    thresholds: list[float] = field(default_factory=list)
    target_min: list[float | None] = field(default_factory=list)
    target_max: list[float | None] = field(default_factory=list)


def n_model_outputs(spec: OutputSpec) -> int:
    """Width of the model head for ``spec``."""
    if spec.task == "regression" and spec.uncertainty:
        return 2 * spec.n_targets
    return spec.n_targets


def split_regression(raw: torch.Tensor, spec: OutputSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 2T) uncertainty output -> standardized mean (B, T) and log-variance (B, T)."""
    t = spec.n_targets
    return raw[:, :t], raw[:, t : 2 * t].clamp(*LOGVAR_RANGE)


def decode_outputs(raw: torch.Tensor, spec: OutputSpec) -> dict[str, torch.Tensor]:
    """Predictions from raw outputs (B, n_model_outputs), as tensors.

    The maths lives in :func:`spectrakit.predict.core.decode_outputs_np`, shared with the
    PyTorch and ONNX predictors, so training metrics and deployed predictions agree.

    Returns
    -------
    dict
        regression: ``mean`` (B, T) in target units (and ``std`` (B, T) with uncertainty);
        classification: ``proba`` (B, K) and ``label`` (B,) class index;
        multilabel: ``proba`` (B, K) and ``label`` (B, K) bool.
    """
    decoded = decode_outputs_np(raw.detach().float().cpu().numpy(), asdict(spec))
    out = {}
    for key, value in decoded.items():
        t = torch.from_numpy(np.ascontiguousarray(value))
        out[key] = (t.float() if t.is_floating_point() else t).to(raw.device)
    return out
