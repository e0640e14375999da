"""What detectors score, computed from a model or a predictor: embeddings, logits, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from spectrakit.core.errors import ConfigError, ModelError
from spectrakit.ood._base import INPUT_KINDS, OODDetector

__all__ = ["detector_inputs", "model_inputs", "reconstruction_errors"]


@torch.no_grad()
def reconstruction_errors(
    model: torch.nn.Module,
    x: torch.Tensor,
    *,
    axis: torch.Tensor | None = None,
    n_masks: int = 8,
    mask_ratio: float = 0.3,
    seed: int = 0,
) -> np.ndarray:
    """Masked-reconstruction error of each spectrum under several random masks.

    Parameters
    ----------
    model : SpectralModel
        A masked-modeling model (``patch_size`` set, ``forward_masked``).
    x : Tensor of shape (n, C, L)
        Model inputs; points beyond the last whole patch are ignored.
    n_masks : int, default=8
        Random masks per spectrum.
    mask_ratio : float, default=0.3
        Fraction of patches hidden by each mask (at least one).

    Returns
    -------
    ndarray of shape (n, n_masks)
        Mean squared error over the masked patches.
    """
    patch = getattr(model, "patch_size", None)
    if not patch or not hasattr(model, "forward_masked"):
        raise ModelError(
            "reconstruction scores need a masked-pretrained model",
            expected="a model with patch_size and forward_masked (specbert, spectrafm)",
            got=f"model {getattr(model, 'family', type(model).__name__)!r}",
            fix="use method='dime', 'mahalanobis' or 'knn'",
        )
    model.eval()
    if axis is not None and hasattr(model, "token_grid"):  # the patches the model reads
        x, axis = model.token_grid(x, axis)
    n_patch = model.num_patches(x.shape[-1])
    x = x[..., : n_patch * patch]
    if axis is not None:
        axis = axis[..., : n_patch * patch]
    target = model.patchify(x)
    n_hide = max(1, round(mask_ratio * n_patch))
    gen = torch.Generator().manual_seed(seed)
    out = np.empty((x.shape[0], n_masks))
    for j in range(n_masks):
        order = torch.rand(x.shape[0], n_patch, generator=gen).argsort(dim=1)
        mask = torch.zeros(x.shape[0], n_patch, dtype=torch.bool)
        mask.scatter_(1, order[:, :n_hide], True)
        recon = model.forward_masked(x, mask, axis=axis)
        err = ((recon - target) ** 2).mean(dim=-1)  # (n, N)
        out[:, j] = ((err * mask).sum(dim=1) / mask.sum(dim=1)).numpy()
    return out


@torch.no_grad()
def model_inputs(
    model: torch.nn.Module,
    x: torch.Tensor,
    kind: str,
    *,
    axis: torch.Tensor | None = None,
    extra: torch.Tensor | None = None,
    batch_size: int = 256,
    **options: Any,
) -> np.ndarray:
    """Detector inputs of ``kind`` for model inputs ``x`` (n, C, L).

    Returns
    -------
    ndarray
        Embeddings (n, D), logits (n, n_outputs) or reconstruction errors (n, n_masks).
    """
    if kind not in INPUT_KINDS:
        raise ConfigError(
            "unknown detector input", expected="one of " + ", ".join(INPUT_KINDS), got=repr(kind)
        )
    model.eval()
    if kind == "reconstruction":
        return reconstruction_errors(model, x, axis=axis, **options)
    parts = []
    for s in range(0, x.shape[0], batch_size):
        e = None if extra is None else extra[s : s + batch_size]
        xb = x[s : s + batch_size]
        if kind == "embedding":
            parts.append(model.forward_features(xb, axis=axis, extra=e))
        else:
            parts.append(model(xb, axis=axis, extra=e))
    return torch.cat(parts).float().numpy()


def detector_inputs(
    predictor: Any, spectra: Any, detector: OODDetector | str, **options: Any
) -> np.ndarray:
    """What ``detector`` scores, for ``spectra`` passed through ``predictor``.

    Parameters
    ----------
    predictor : Predictor
        A loaded bundle (its preprocessing and axis are applied).
    spectra : Spectra
        Spectra to score.
    detector : OODDetector or str
        A detector, or its input kind (``"embedding"``, ``"logits"``, ``"reconstruction"``).

    Examples
    --------
    >>> det = load_detector(bundle_dir)  # doctest: +SKIP
    >>> det.score_samples(detector_inputs(predictor, spectra, det))  # doctest: +SKIP
    """
    kind = detector if isinstance(detector, str) else detector.input_kind
    if kind == "embedding":
        return np.asarray(predictor.embed(spectra))
    if kind == "logits":
        return predictor.raw_outputs(spectra).float().numpy()
    model = predictor.model
    x, axis = predictor.prepare_inputs(spectra)  # an axis-aware model keeps the input's grid
    axis = axis.to_torch() if getattr(model, "axis_aware", False) else None
    return model_inputs(model, x, kind, axis=axis, **options)
