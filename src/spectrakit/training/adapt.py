"""Unsupervised adaptation of a network to a new instrument: AdaBN, CORAL, MMD, DANN.

- Per-domain centering and AdaBN (Li et al., 2018, "Adaptive batch normalization for
  practical domain adaptation"): source and target batches pass through the network
  separately, so batch norm normalizes each with its own statistics; after training the
  target's running statistics are re-estimated on all target spectra.
- CORAL (Sun & Saenko, 2016, "Deep CORAL"): match the feature covariances of both domains,
  ``||C_s - C_t||_F^2 / (4 d^2)``, plus their means.
- MMD (Gretton et al., 2012) with a sum of Gaussian kernels at several bandwidths around the
  median distance.
- DANN (Ganin & Lempitsky, 2015, "Unsupervised domain adaptation by backpropagation";
  Ganin et al., 2016, JMLR 17(59)): a domain classifier learns to tell source from target
  features while a gradient reversal layer makes the feature extractor defeat it; the
  reversal weight follows ``lambda_p = 2 / (1 + exp(-10 p)) - 1`` over the training
  progress ``p`` in [0, 1], so early, noisy domain gradients do not disturb the task.

:class:`FeatureAligner` gives all of them one call, ``aligner(f_source, f_target, p)``; the
DANN classifier's parameters are trained with the network (give ``aligner.parameters()``
to the optimizer) and are not part of the fitted model.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from spectrakit.core.errors import ConfigError

__all__ = [
    "ALIGNMENTS",
    "DomainClassifier",
    "FeatureAligner",
    "alignment_loss",
    "coral_loss",
    "dann_lambda",
    "grad_reverse",
    "mmd_loss",
    "target_batchnorm",
]

#: names of the feature-alignment losses (``dann``: adversarial, see :class:`FeatureAligner`).
ALIGNMENTS = ("coral", "mmd", "dann")


def coral_loss(fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """CORAL distance between features (n_s, d) and (n_t, d) (covariances and means)."""
    d = fs.shape[1]
    cs = torch.cov(fs.T) if len(fs) > 1 else torch.zeros(d, d)
    ct = torch.cov(ft.T) if len(ft) > 1 else torch.zeros(d, d)
    mean = (fs.mean(dim=0) - ft.mean(dim=0)).pow(2).sum() / d
    return ((cs - ct).pow(2).sum() / (4.0 * d * d)) * d + mean


def mmd_loss(fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """Squared MMD with Gaussian kernels at 0.25-4x the median squared distance."""
    z = torch.cat([fs, ft])
    d2 = torch.cdist(z, z).pow(2)
    med = d2.detach().median().clamp_min(1e-6)
    k = sum(torch.exp(-d2 / (med * s)) for s in (0.25, 1.0, 4.0))
    n = len(fs)
    return k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean()


def alignment_loss(name: str, fs: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """The alignment loss called ``name`` (one of :data:`ALIGNMENTS`)."""
    if name == "coral":
        return coral_loss(fs, ft)
    if name == "mmd":
        return mmd_loss(fs, ft)
    if name == "dann":
        raise ConfigError(
            "dann trains a domain classifier with the network",
            expected="FeatureAligner('dann', n_features) (its parameters in the optimizer)",
            got="alignment_loss('dann', ...)",
        )
    raise ConfigError("unknown alignment loss", expected=" or ".join(ALIGNMENTS), got=repr(name))


class _GradReverse(torch.autograd.Function):
    """Identity forward; the gradient is multiplied by ``-lambda`` backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lam: float) -> torch.Tensor:
        ctx.lam = float(lam)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.lam * grad, None


def grad_reverse(x: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
    """Gradient reversal layer: ``x`` unchanged, its gradient times ``-lam``."""
    return _GradReverse.apply(x, lam)


def dann_lambda(progress: float, gamma: float = 10.0) -> float:
    """Reversal weight ``2 / (1 + exp(-gamma p)) - 1`` at training progress ``p`` in [0, 1]."""
    p = min(max(float(progress), 0.0), 1.0)
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


class DomainClassifier(nn.Module):
    """Features (B, D) -> logit (B,) of "target domain", behind a gradient reversal layer.

    Parameters
    ----------
    n_features : int
        Feature width D.
    hidden : int, default=32
    """

    def __init__(self, n_features: int, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(int(n_features), hidden), nn.ReLU(), nn.Linear(hidden, hidden),
            nn.ReLU(), nn.Linear(hidden, 1),
        )  # fmt: skip

    def forward(self, feats: torch.Tensor, lam: float = 1.0) -> torch.Tensor:
        """Logits (B,) of the reversed features."""
        return self.net(grad_reverse(feats, lam))[:, 0]


class FeatureAligner(nn.Module):
    """One alignment loss of :data:`ALIGNMENTS` between source and target features.

    Parameters
    ----------
    name : {"coral", "mmd", "dann"}
    n_features : int
        Feature width D (the DANN domain classifier's input).
    gamma : float, default=10.0
        Steepness of the DANN reversal schedule (:func:`dann_lambda`).

    Attributes
    ----------
    history : list of float
        DANN only: the domain classifier's accuracy on every training batch.
    """

    def __init__(self, name: str, n_features: int, gamma: float = 10.0) -> None:
        super().__init__()
        if name not in ALIGNMENTS:
            raise ConfigError("unknown alignment loss", expected=" or ".join(ALIGNMENTS),
                              got=repr(name))  # fmt: skip
        self.name, self.gamma = name, float(gamma)
        self.classifier = DomainClassifier(n_features) if name == "dann" else None
        self.history: list[float] = []

    def forward(self, fs: torch.Tensor, ft: torch.Tensor, progress: float = 1.0) -> torch.Tensor:
        """Loss between features (n_s, D) and (n_t, D) at training progress in [0, 1]."""
        if self.classifier is None:
            return alignment_loss(self.name, fs, ft)
        logits = self.classifier(torch.cat([fs, ft]), dann_lambda(progress, self.gamma))
        labels = torch.cat([torch.zeros(len(fs)), torch.ones(len(ft))]).to(logits)
        with torch.no_grad():
            self.history.append(float(((logits > 0).to(labels) == labels).float().mean()))
        return nn.functional.binary_cross_entropy_with_logits(logits, labels)


@torch.no_grad()
def target_batchnorm(
    model: nn.Module, X_target: torch.Tensor, batch: int = 256, domain: int = 1
) -> nn.Module:
    """A copy of ``model`` whose batch-norm statistics are those of the given spectra (AdaBN).

    Parameters
    ----------
    model : nn.Module
        Called as ``model(x, domain=domain)``.
    X_target : Tensor of shape (n_t, L)
        Spectra of one instrument (the new one by default).
    batch : int
        Spectra per forward pass (cumulative averaging over all of them).
    domain : int, default=1
        The instrument of ``X_target`` (0: the training instrument, whose statistics the
        shared training steps mix with the target's).
    """
    out = copy.deepcopy(model)
    bns = [m for m in out.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average: exact mean over batches
    out.train()
    for start in range(0, len(X_target), batch):
        out(X_target[start : start + batch], domain=domain)
    out.eval()
    return out
