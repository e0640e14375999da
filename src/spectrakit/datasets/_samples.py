"""Draw the samples of a synthetic dataset: concentrations, classes, backgrounds, shifts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectrakit.datasets._baseline import baseline_weights
from spectrakit.datasets._components import ComponentLibrary
from spectrakit.datasets._settings import Settings

__all__ = ["Samples", "draw_samples"]


@dataclass
class Samples:
    """The drawn samples of a dataset (ground truth shared by all instruments)."""

    conc: np.ndarray  # (n, k) concentrations (ground truth)
    class_index: np.ndarray | None  # (n,) class of each sample
    class_names: list[str]
    class_libraries: list[ComponentLibrary]  # one per class when perturbed, else [library]
    base_weights: np.ndarray  # (n, m) in units of `intensity`
    jitter: np.ndarray | None  # (n,) per-spectrum shifts, axis units


def draw_samples(n: int, s: Settings, rng: np.random.Generator) -> Samples:
    """Concentrations (or classes), background weights and shifts of ``n`` samples."""
    k = len(s.library)
    class_index = None
    names: list[str] = []
    libraries = [s.library]
    if s.task == "regression":
        lo, hi = s.concentration_range
        conc = rng.uniform(lo, hi, (n, k))
    else:
        protos, names = class_mixtures(s, rng)
        class_index = rng.integers(0, s.n_classes, n)
        spread = rng.lognormal(0.0, s.class_spread, (n, k)) if s.class_spread else 1.0
        conc = protos[class_index] * spread
        if s.class_perturbation > 0:
            d = s.class_perturbation
            libraries = [
                s.library.perturbed(
                    rng, shift=d, width=min(0.05 * d, 0.3), height=min(0.1 * d, 0.5)
                )
                for _ in range(s.n_classes)
            ]
    weights = baseline_weights(s.baseline, n, s.baseline_strength, rng)
    jitter = rng.normal(0.0, s.shift_jitter, n) if s.shift_jitter > 0 else None
    return Samples(conc, class_index, names, libraries, weights, jitter)


def class_mixtures(s: Settings, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Characteristic concentrations of each class and the class names."""
    k = len(s.library)
    if s.n_classes <= k:
        protos = rng.uniform(0.0, 0.15, (s.n_classes, k))
        protos[np.arange(s.n_classes), np.arange(s.n_classes)] = 1.0
        return protos, s.library.names[: s.n_classes]
    protos = rng.dirichlet(np.full(k, 0.5), s.n_classes) * 1.5
    return protos, [f"class{j}" for j in range(s.n_classes)]
