"""Gradient attributions through Captum: saliency, integrated gradients, SmoothGrad, SHAP.

References: Simonyan et al. 2014 (saliency); Sundararajan et al. 2017 (integrated
gradients); Smilkov et al. 2017 (SmoothGrad); Lundberg & Lee 2017 (GradientSHAP).
"""

from __future__ import annotations

import numpy as np
import torch
from captum.attr import GradientShap, IntegratedGradients, NoiseTunnel, Saliency

from spectrakit.core.errors import ConfigError
from spectrakit.explain._inputs import Prepared
from spectrakit.explain._perturb import baseline_tensor
from spectrakit.explain._registry import register_method

__all__: list[str] = []


def _input(prep: Prepared) -> torch.Tensor:
    return prep.x.detach().clone().requires_grad_(True)


@register_method("saliency")
def saliency(prep: Prepared, target: torch.Tensor, *, absolute: bool = True) -> torch.Tensor:
    """Input gradient of the target output (absolute value by default)."""
    attr = Saliency(prep.forward).attribute(_input(prep), target=target, abs=absolute)
    return prep.reduce(attr)


@register_method("ig")
def integrated_gradients(
    prep: Prepared,
    target: torch.Tensor,
    *,
    baseline: str | float | np.ndarray = "zero",
    n_steps: int = 32,
) -> torch.Tensor:
    """Integrated gradients from ``baseline`` ("zero", "mean", a number or an array)."""
    ref = baseline_tensor(prep.x, baseline)
    ig = IntegratedGradients(prep.forward)
    attr = ig.attribute(
        _input(prep), baselines=ref, target=target, n_steps=n_steps, internal_batch_size=256
    )
    return prep.reduce(attr)


@register_method("smoothgrad")
def smoothgrad(
    prep: Prepared,
    target: torch.Tensor,
    *,
    noise_level: float = 0.1,
    n_samples: int = 16,
    base: str = "saliency",
    seed: int = 0,
) -> torch.Tensor:
    """SmoothGrad: average ``base`` attributions over noisy copies of the input.

    ``noise_level`` is the noise standard deviation as a fraction of the inputs' spread.
    """
    spread = float(prep.x.amax() - prep.x.amin()) or 1.0
    inner = IntegratedGradients(prep.forward) if base == "ig" else Saliency(prep.forward)
    kwargs = {"n_steps": 16} if base == "ig" else {"abs": True}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        attr = NoiseTunnel(inner).attribute(
            _input(prep),
            nt_type="smoothgrad",
            nt_samples=n_samples,
            stdevs=noise_level * spread,
            target=target,
            **kwargs,
        )
    return prep.reduce(attr)


@register_method("shap")
def gradient_shap(
    prep: Prepared,
    target: torch.Tensor,
    *,
    background: np.ndarray | torch.Tensor | None = None,
    n_samples: int = 32,
    seed: int = 0,
) -> torch.Tensor:
    """GradientSHAP values against a background set (default: zeros and the inputs' mean).

    ``background`` has shape (k, L) or (k, C, L), on the model's axis.
    """
    x = prep.x
    if background is None:
        ref = torch.cat([torch.zeros_like(x[:1]), x.mean(dim=0, keepdim=True)])
    else:
        ref = torch.as_tensor(np.asarray(background), dtype=x.dtype)
        ref = ref.unsqueeze(1) if ref.ndim == 2 else ref
        if ref.ndim != 3 or ref.shape[1:] != x.shape[1:]:
            raise ConfigError(
                "SHAP background does not match the inputs",
                expected=f"shape (k, {x.shape[-1]}) or (k, {x.shape[1]}, {x.shape[-1]})",
                got=f"shape {tuple(ref.shape)}",
                fix="give background spectra on the model's axis",
            )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        attr = GradientShap(prep.forward).attribute(
            _input(prep), baselines=ref, n_samples=n_samples, target=target
        )
    return prep.reduce(attr)
