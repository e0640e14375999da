"""Turning raw model outputs into predictions, shared by training and inference.

Regression outputs are in standardized target units and are scaled back with the training
mean and standard deviation. With an uncertainty head the model emits a mean and a
log-variance per target (heteroscedastic regression, Nix & Weigend 1994; Kendall & Gal
2017), trained with the Gaussian negative log-likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["OutputSpec", "decode_outputs", "n_model_outputs"]

#: log-variance is clamped to this range to keep exp() finite in low precision
LOGVAR_RANGE = (-12.0, 12.0)


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
    """

    task: str
    n_targets: int
    target_mean: list[float] = field(default_factory=list)
    target_std: list[float] = field(default_factory=list)
    uncertainty: bool = False
    one_vs_rest: bool = False
    thresholds: list[float] = field(default_factory=list)


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
    """Predictions from raw outputs (B, n_model_outputs).

    Returns
    -------
    dict
        regression: ``mean`` (B, T) in target units (and ``std`` (B, T) with uncertainty);
        classification: ``proba`` (B, K) and ``label`` (B,) class index;
        multilabel: ``proba`` (B, K) and ``label`` (B, K) bool.
    """
    raw = raw.float()
    if spec.task == "regression":
        mu = torch.as_tensor(spec.target_mean or [0.0] * spec.n_targets, device=raw.device)
        sd = torch.as_tensor(spec.target_std or [1.0] * spec.n_targets, device=raw.device)
        if spec.uncertainty:
            mean, logvar = split_regression(raw, spec)
            return {"mean": mean * sd + mu, "std": torch.exp(0.5 * logvar) * sd}
        return {"mean": raw * sd + mu}
    if spec.task == "multilabel":
        proba = torch.sigmoid(raw)
        thr = torch.as_tensor(spec.thresholds or [0.5] * spec.n_targets, device=raw.device)
        return {"proba": proba, "label": proba >= thr}
    if spec.one_vs_rest:
        scores = torch.sigmoid(raw)
        proba = scores / scores.sum(dim=1, keepdim=True).clamp_min(1e-12)
    else:
        proba = torch.softmax(raw, dim=1)
    return {"proba": proba, "label": proba.argmax(dim=1)}
