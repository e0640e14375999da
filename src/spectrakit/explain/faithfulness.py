"""Is an explanation faithful to the model? Infidelity, max-sensitivity, deletion/insertion.

References: Yeh et al. 2019 (infidelity and max-sensitivity, through Captum's
``captum.metrics``); Petsiuk et al. 2018 (RISE deletion/insertion curves). Bands are removed
by :func:`~spectrakit.explain.fill_removed` (straight line under the band by default).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from captum.metrics import infidelity, sensitivity_max
from scipy.integrate import trapezoid

from spectrakit.core.errors import ConfigError
from spectrakit.explain._attribution import Attribution
from spectrakit.explain._explain import attribute_tensor, explain
from spectrakit.explain._inputs import Prepared, prepare, resolve_target
from spectrakit.explain._perturb import fill_removed
from spectrakit.explain._registry import canonical_name

__all__ = ["compare_methods", "deletion_curve", "infidelity_score", "sensitivity_score"]


def _target_score(prep: Prepared, x: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Probability of the target class (classifiers) or the raw target output."""
    with torch.no_grad():
        out = prep.forward(x)
    out = torch.softmax(out, dim=1) if out.shape[1] > 1 else out
    return out.gather(1, target[:, None])[:, 0].numpy()


def deletion_curve(
    model_or_predictor: Any,
    spectra: Any,
    attribution: Attribution | None = None,
    *,
    order: str = "attribution",
    mode: str = "deletion",
    fill: str = "interp",
    reference: np.ndarray | None = None,
    n_steps: int = 20,
    seed: int = 0,
    **explain_options: Any,
) -> pd.DataFrame:
    """Score of the explained target as the most important points are removed (or inserted).

    Parameters
    ----------
    model_or_predictor, spectra
        As for :func:`~spectrakit.explain.explain`.
    attribution : Attribution, optional
        Ranking of the points; computed with ``explain(..., **explain_options)`` if absent.
    order : {"attribution", "random"}
        Remove points by decreasing ``|attribution|``, or in random order (reference).
    mode : {"deletion", "insertion"}
        Deletion starts from the spectrum and removes points; insertion starts from the
        fully removed spectrum and puts points back.
    fill : {"interp", "mean", "zero"}
        Replacement of removed points; ``reference`` is the ``"mean"`` spectrum (e.g. the
        training mean).
    n_steps : int, default=20
        Number of fractions between 0 and 1.

    Returns
    -------
    DataFrame
        Columns ``fraction`` and ``score`` (mean over spectra: target probability for a
        classifier, the output otherwise); ``df.attrs["auc"]`` is the area under the curve.
    """
    if order not in ("attribution", "random") or mode not in ("deletion", "insertion"):
        raise ConfigError(
            "invalid deletion-curve options",
            expected="order in {attribution, random}, mode in {deletion, insertion}",
            got=f"order={order!r}, mode={mode!r}",
        )
    if attribution is None:
        attribution = explain(model_or_predictor, spectra, **explain_options)
    prep = prepare(model_or_predictor, spectra)
    target = torch.as_tensor(attribution.target)
    if (target < 0).any():  # class-agnostic maps: follow the predicted class
        target, _ = resolve_target(prep, None)
    rank = _removal_order(attribution.values, order, seed)
    fractions = np.linspace(0.0, 1.0, n_steps + 1)
    scores = [
        float(_target_score(prep, _removed_at(prep, rank, f, mode, fill, reference), target).mean())
        for f in fractions
    ]
    frame = pd.DataFrame({"fraction": fractions, "score": scores})
    frame.attrs["auc"] = float(trapezoid(scores, fractions))
    return frame


def _removal_order(values: np.ndarray, order: str, seed: int) -> np.ndarray:
    """Per spectrum, point indices of shape (n, L) in the order they are removed."""
    n, length = values.shape
    if order == "random":
        return np.argsort(np.random.default_rng(seed).random((n, length)), axis=1)
    return np.argsort(-np.abs(values), axis=1, kind="stable")


def _removed_at(
    prep: Prepared,
    rank: np.ndarray,
    fraction: float,
    mode: str,
    fill: str,
    reference: np.ndarray | None,
) -> torch.Tensor:
    """The inputs with the first ``fraction`` of ``rank`` removed (deletion) or kept (insertion)."""
    n, length = rank.shape
    k = round(fraction * length)
    chosen = np.zeros((n, length), dtype=bool)
    np.put_along_axis(chosen, rank[:, :k], True, axis=1)
    removed = chosen if mode == "deletion" else ~chosen
    return fill_removed(prep.x, removed, fill, reference)


def _tensor_explainer(prep: Prepared, method: str, options: dict[str, Any]):
    def explanation(inputs: torch.Tensor | tuple, target: torch.Tensor) -> tuple[torch.Tensor]:
        inputs = inputs[0] if isinstance(inputs, tuple) else inputs  # Captum works with tuples
        sub = Prepared(prep.model, inputs, prep.axis, prep.forward, prep.classes, prep.meta)
        return (attribute_tensor(sub, method, target, **options)[:, None, :],)

    return explanation


def infidelity_score(
    model_or_predictor: Any,
    spectra: Any,
    method: str = "ig",
    target: Any = None,
    *,
    noise: float = 0.05,
    n_perturb_samples: int = 16,
    seed: int = 0,
    relative: bool = False,
    **options: Any,
) -> np.ndarray:
    """Infidelity (Yeh et al. 2019) of ``method`` on each spectrum; lower is better.

    Perturbations are Gaussian noise of standard deviation ``noise`` times the inputs'
    spread; attributions are normalized (Captum's ``normalize=True``: the best multiple of
    the attribution), so infidelity is the mean squared part of the output change the
    attribution does not predict, in the output's units squared.

    Parameters
    ----------
    relative : bool, default=False
        Divide by the mean squared output change under the same perturbations: the share
        of it the attribution leaves unexplained, between 0 (exact) and 1 (no better than
        predicting no change), comparable between models whose outputs differ in scale
        (NaN where the output does not change).

    Returns
    -------
    ndarray of shape (n_spectra,)
    """
    prep = prepare(model_or_predictor, spectra)
    idx, _ = resolve_target(prep, target)
    (attr,) = _tensor_explainer(prep, canonical_name(method), options)(prep.x, idx)
    attr = attr.expand_as(prep.x) / prep.x.shape[1]
    sd = noise * (float(prep.x.amax() - prep.x.amin()) or 1.0)
    drawn: list[torch.Tensor] = []

    def perturb(inputs: torch.Tensor):
        noise_t = torch.randn_like(inputs) * sd
        drawn.append(noise_t)
        return noise_t, inputs - noise_t

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        out = infidelity(
            prep.forward, perturb, prep.x, attr, target=idx,
            n_perturb_samples=n_perturb_samples, normalize=True,
        ).detach()  # fmt: skip
    if relative:
        change = _output_change(prep, torch.cat(drawn), idx, n_perturb_samples)
        out = torch.where(change > 0, out / change, torch.nan)
    return out.numpy()


def _output_change(
    prep: Prepared, perturbations: torch.Tensor, target: torch.Tensor, n_samples: int
) -> torch.Tensor:
    """Per spectrum, the mean of (f(x) - f(x - I))^2 over its perturbations I, shape (n,)."""
    x = prep.x.repeat_interleave(n_samples, 0)
    tgt = target.repeat_interleave(n_samples)[:, None]
    with torch.no_grad():
        diff = prep.forward(x).gather(1, tgt) - prep.forward(x - perturbations).gather(1, tgt)
    return (diff[:, 0] ** 2).reshape(-1, n_samples).mean(1)


def sensitivity_score(
    model_or_predictor: Any,
    spectra: Any,
    method: str = "ig",
    target: Any = None,
    *,
    radius: float = 0.02,
    n_perturb_samples: int = 8,
    seed: int = 0,
    **options: Any,
) -> np.ndarray:
    """Max-sensitivity (Yeh et al. 2019) of ``method`` on each spectrum.

    The largest change of the explanation under small input changes (uniform noise of
    ``radius`` times the inputs' spread), relative to the explanation's norm (Captum's
    ``sensitivity_max``, Frobenius norm), so a map's overall scale cancels.

    Returns
    -------
    ndarray of shape (n_spectra,)
        Lower is more stable. NaN where the explanation of the spectrum itself is zero
        (e.g. a Grad-CAM map the ReLU removes entirely): a relative change is undefined
        there, and Captum would report the perturbed map's absolute norm instead.
    """
    prep = prepare(model_or_predictor, spectra)
    idx, _ = resolve_target(prep, target)
    explanation = _tensor_explainer(prep, canonical_name(method), options)
    r = radius * (float(prep.x.amax() - prep.x.amin()) or 1.0)
    unperturbed: list[torch.Tensor] = []

    def recorded(inputs: torch.Tensor | tuple, target: torch.Tensor) -> tuple[torch.Tensor]:
        out = explanation(inputs, target)
        if not unperturbed:  # Captum explains the unperturbed inputs first
            unperturbed.append(out[0])
        return out

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        out = sensitivity_max(
            recorded, prep.x, perturb_radius=r,
            n_perturb_samples=n_perturb_samples, target=idx,
        ).detach()  # fmt: skip
    zero = unperturbed[0].flatten(1).abs().amax(1) == 0
    return torch.where(zero, torch.nan, out).numpy()


def compare_methods(
    model_or_predictor: Any,
    spectra: Any,
    methods: Sequence[str] = ("saliency", "ig", "smoothgrad", "shap", "occlusion"),
    target: Any = None,
    *,
    fill: str = "interp",
    n_steps: int = 20,
    with_infidelity: bool = True,
    with_sensitivity: bool = False,
) -> pd.DataFrame:
    """Faithfulness of several methods on the same model and spectra.

    Returns
    -------
    DataFrame
        One row per method: ``deletion_auc`` (lower = better), ``insertion_auc``
        (higher = better), ``deletion_auc_random`` (random-order reference), optionally
        ``infidelity`` and ``sensitivity`` (means, lower = better; sensitivity over the spectra
        whose map is not zero), and ``seconds``.
    """
    rows = []
    for method in methods:
        start = time.perf_counter()
        attr = explain(model_or_predictor, spectra, method=method, target=target)
        seconds = time.perf_counter() - start
        kw = {"fill": fill, "n_steps": n_steps}
        row = {
            "method": attr.method,
            "deletion_auc": deletion_curve(model_or_predictor, spectra, attr, **kw).attrs["auc"],
            "insertion_auc": deletion_curve(
                model_or_predictor, spectra, attr, mode="insertion", **kw
            ).attrs["auc"],
            "deletion_auc_random": deletion_curve(
                model_or_predictor, spectra, attr, order="random", **kw
            ).attrs["auc"],
        }
        tgt = target if attr.target.min() < 0 else attr.target.tolist()
        if with_infidelity:
            row["infidelity"] = float(
                infidelity_score(model_or_predictor, spectra, method, tgt).mean()
            )
        if with_sensitivity:
            row["sensitivity"] = float(
                np.nanmean(sensitivity_score(model_or_predictor, spectra, method, tgt))
            )
        row["seconds"] = seconds
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")
