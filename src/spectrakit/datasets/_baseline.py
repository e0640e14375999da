"""Smooth backgrounds as random non-negative mixtures of a fixed basis (fast: one matmul).

Each spectrum's baseline is ``weights @ basis``: the basis (broad Gaussians and decaying
exponentials for fluorescence, Legendre polynomials for drift) is evaluated once per
instrument grid, so 100,000 baselines cost one (n, m) x (m, p) product.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre

from spectrakit.datasets._validate import check_choice

__all__ = ["BASELINES", "baseline_basis", "baseline_weights"]

#: baseline kinds understood by the generator.
BASELINES = ("none", "fluorescence", "polynomial", "mixed")

# Fluorescence-like shapes on u in [-1, 1] (the reference range): broad Gaussians centred in
# and beyond the range, and exponentials rising towards either end.
_GAUSS = ((-1.6, 1.0), (-0.6, 1.2), (0.4, 1.4), (1.4, 1.6), (2.4, 2.0))
_EXP = ((1.0, 0.6), (1.0, 1.5), (-1.0, 0.8))  # (direction, decay length)
_POLY_ORDER = 3


def _n_basis(kind: str) -> tuple[int, int]:
    n_fluo = len(_GAUSS) + len(_EXP) if kind in ("fluorescence", "mixed") else 0
    n_poly = _POLY_ORDER + 1 if kind in ("polynomial", "mixed") else 0
    return n_fluo, n_poly


def baseline_basis(kind: str, true_positions: np.ndarray, ref: tuple[float, float]) -> np.ndarray:
    """Basis functions evaluated at true positions, shape (n_basis, n_points), float64.

    ``ref`` is the physical range mapped to u in [-1, 1], shared by all instruments so a
    sample's background is the same function of the true axis on every instrument.
    """
    check_choice("baseline", kind, BASELINES)
    u = 2.0 * (np.asarray(true_positions, dtype=np.float64) - ref[0]) / (ref[1] - ref[0]) - 1.0
    rows = []
    n_fluo, n_poly = _n_basis(kind)
    if n_fluo:
        rows += [np.exp(-0.5 * ((u - c) / w) ** 2) for c, w in _GAUSS]
        rows += [np.exp((d * u - 1.0) / tau) for d, tau in _EXP]
    if n_poly:
        eye = np.eye(_POLY_ORDER + 1)
        rows += [legendre.legval(u, eye[k]) for k in range(_POLY_ORDER + 1)]
    if not rows:
        return np.zeros((0, u.size))
    return np.stack(rows)


def baseline_weights(
    kind: str, n: int, strength: tuple[float, float], rng: np.random.Generator
) -> np.ndarray:
    """Random weights, shape (n, n_basis): each baseline peaks near ``U(*strength)``.

    Fluorescence weights are non-negative (Dirichlet-like, summing to the strength);
    polynomial weights give a positive offset plus a random drift of comparable size.
    """
    n_fluo, n_poly = _n_basis(kind)
    amp = rng.uniform(strength[0], strength[1], (n, 1))
    parts = []
    if n_fluo:
        w = rng.gamma(0.6, 1.0, (n, n_fluo))
        parts.append(w / np.maximum(w.sum(axis=1, keepdims=True), 1e-12) * amp)
    if n_poly:
        p = rng.normal(0.0, 1.0, (n, n_poly)) / (1.0 + np.arange(n_poly)) * 0.3
        p[:, 0] = np.abs(p[:, 0]) + 0.5
        parts.append(p * amp * (0.5 if n_fluo else 1.0))
    if not parts:
        return np.zeros((n, 0))
    return np.concatenate(parts, axis=1)
