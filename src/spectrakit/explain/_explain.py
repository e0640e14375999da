"""The one entry point: :func:`explain`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from spectrakit.core.progress import progress
from spectrakit.core.spectra import Spectra

# importing the method modules registers them
from spectrakit.explain._attribution import NO_TARGET, Attribution
from spectrakit.explain._inputs import Prepared, prepare, resolve_target
from spectrakit.explain._registry import canonical_name, get_method, is_faithful
from spectrakit.explain.measured import ChannelAttributions, per_channel

__all__ = ["attribute_tensor", "explain"]


def attribute_tensor(
    prep: Prepared, method: str, target: torch.Tensor, **options: Any
) -> torch.Tensor:
    """Run ``method`` on prepared inputs; returns detached attributions of shape (n, L)."""
    fn = get_method(method)
    return fn(prep, target, **options).detach().float()


def explain(
    model_or_predictor: Any,
    spectra: Spectra | np.ndarray,
    method: str = "ig",
    target: int | str | Sequence[int | str] | None = None,
    *,
    axis: Any = None,
    classes: Sequence[str] | None = None,
    batch_size: int = 64,
    **options: Any,
) -> Attribution | ChannelAttributions:
    """Explain a model's output on each spectrum, point by point along the axis.

    Parameters
    ----------
    model_or_predictor : SpectralModel or Predictor
        A :class:`~spectrakit.predict.Predictor` (its preprocessing and axis are applied) or a
        model following the :class:`~spectrakit.models.SpectralModel` contract.
    spectra : Spectra, ChannelSet or ndarray of shape (n, L)
        Spectra to explain (arrays need ``axis``); a model on separately measured
        channels takes a :class:`~spectrakit.ChannelSet`.
    method : str, default="ig"
        ``"saliency"``, ``"ig"`` (integrated gradients), ``"smoothgrad"``, ``"shap"``
        (GradientSHAP), ``"occlusion"``, ``"gradcam"``, ``"attention"`` (rollout),
        ``"ip-gradcam"`` (PeakMixer's class-specific channels).
    target : int, str or sequence, optional
        Class name or output index (one for all spectra, or one per spectrum). Default:
        the predicted class (output 0 for regression).
    axis : SpectralAxis, optional
        For a raw model: the axis it expects; spectra are resampled onto it when it lies
        inside their range, refused otherwise.
    classes : sequence of str, optional
        Output names for a raw model.
    batch_size : int, default=64
        Spectra explained per pass.
    **options
        Method options, e.g. ``baseline="mean"``, ``n_steps=64`` (ig), ``window=20``
        (occlusion, axis units), ``layer="features.6"`` (gradcam), ``channels=
        "complementary"`` (ip-gradcam), ``mode="layer"`` (attention).

    Returns
    -------
    Attribution or ChannelAttributions
        Values of shape (n_spectra, n_points) on the model's axis; for a model on
        measured channels one such attribution per channel, on the channel's own axis
        (:class:`~spectrakit.explain.measured.ChannelAttributions`).

    Examples
    --------
    >>> attr = explain(predictor, spectra, method="ig", target="contaminated")  # doctest: +SKIP
    >>> attr.top_bands(3)  # doctest: +SKIP
    """
    name = canonical_name(method)
    prep = prepare(model_or_predictor, spectra, axis=axis, classes=classes)
    idx, labels = resolve_target(prep, target)
    values = _in_batches(prep, name, idx, batch_size, options)
    return _attribution(prep, name, values, idx, labels, options)


def _in_batches(
    prep: Prepared, name: str, idx: torch.Tensor, batch_size: int, options: dict[str, Any]
) -> np.ndarray:
    """Attributions of shape (n, L) computed ``batch_size`` spectra at a time."""
    parts = []
    starts = range(0, prep.x.shape[0], batch_size)
    for start in progress(starts, len(starts), f"explain {name}", unit="batch"):
        sl = slice(start, start + batch_size)
        part = attribute_tensor(replace(prep, x=prep.x[sl]), name, idx[sl], **options)
        if prep.channels and part.ndim == 2:  # a map of model positions: every channel's
            part = part[:, None, :].expand(-1, len(prep.channels), -1)
        parts.append(part)
    return torch.cat(parts).numpy()


def _attribution(
    prep: Prepared,
    name: str,
    values: np.ndarray,
    idx: torch.Tensor,
    labels: Sequence[str],
    options: dict[str, Any],
) -> Attribution | ChannelAttributions:
    """Wrap the values with their axis, targets (none for a class-agnostic map) and options."""
    if not is_faithful(name):  # a class-agnostic map
        idx = torch.full_like(idx, NO_TARGET)
        labels = ("all",) * len(labels)
    fields = dict(
        method=name, target=idx.numpy(), target_names=tuple(labels), meta=prep.meta,
        params={k: v for k, v in options.items() if isinstance(v, int | float | str | bool)},
    )  # fmt: skip
    if prep.channels:
        inputs = prep.x.detach().numpy()
        return per_channel(values, inputs, prep.channels, prep.channel_axes, **fields)
    inputs = prep.x.detach().mean(dim=1).numpy()
    return Attribution(values=values, axis=prep.axis, inputs=inputs, **fields)
