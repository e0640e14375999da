"""Unsupervised adaptation of a network to a new instrument: AdaBN, CORAL, MMD.

- Per-domain centering and AdaBN (Li et al., 2018, "Adaptive batch normalization for
  practical domain adaptation"): source and target batches pass through the network
  separately, so batch norm normalizes each with its own statistics; after training the
  target's running statistics are re-estimated on all target spectra.
- CORAL (Sun & Saenko, 2016, "Deep CORAL"): match the feature covariances of both domains,
  ``||C_s - C_t||_F^2 / (4 d^2)``, plus their means.
- MMD (Gretton et al., 2012) with a sum of Gaussian kernels at several bandwidths around the
  median distance.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from spectrakit.core.errors import ConfigError

__all__ = ["ALIGNMENTS", "alignment_loss", "coral_loss", "mmd_loss", "target_batchnorm"]

#: names of the feature-alignment losses.
ALIGNMENTS = ("coral", "mmd")


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
    raise ConfigError("unknown alignment loss", expected=" or ".join(ALIGNMENTS), got=repr(name))


@torch.no_grad()
def target_batchnorm(model: nn.Module, X_target: torch.Tensor, batch: int = 256) -> nn.Module:
    """A copy of ``model`` whose batch-norm statistics are those of the target spectra (AdaBN).

    Parameters
    ----------
    model : nn.Module
        Called as ``model(x, domain=1)``.
    X_target : Tensor of shape (n_t, L)
    batch : int
        Spectra per forward pass (cumulative averaging over all of them).
    """
    out = copy.deepcopy(model)
    bns = [m for m in out.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative moving average: exact mean over batches
    out.train()
    for start in range(0, len(X_target), batch):
        out(X_target[start : start + batch], domain=1)
    out.eval()
    return out
