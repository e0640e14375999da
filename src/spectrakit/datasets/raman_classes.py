"""A realistic small-sample Raman classification set: classes told apart by one weak band.

Every spectrum is a mixture of :data:`N_MATRIX` shared Lorentzian bands (the sample
matrix, with random heights, the same for every class) plus one weak *marker* band whose
position decides the class: class ``k`` has it at ``MARKER + k * MARKER_STEP`` cm-1
(neighbouring classes overlap, since the marker is wider than the step), at 15-40 % of the
matrix bands' height and varying from sample to sample. On top come what a real Raman
measurement adds:

- a fluorescence background (a broad, sloped Gaussian hump, 1-12x the marker's height);
- cosmic-ray spikes (Poisson, one per spectrum on average, one or two points wide);
- an instrument shift: each spectrum's axis is off by up to +-``shift`` cm-1 (calibration
  drift), a shift of the order of the marker step;
- shot and read noise.

Outside :func:`marker_band` the classes have the same distribution, so a faithful model
reads the class from that band. ``clean=True`` returns the class signal alone (matrix and
marker, no background, spikes, shift or noise), for known-answer checks.
"""

from __future__ import annotations

import numpy as np

from spectrakit.core.errors import ConfigError
from spectrakit.core.spectra import Spectra

__all__ = ["AXIS", "MARKER", "MARKER_STEP", "N_MATRIX", "make_raman_classes", "marker_band"]

#: 700 points, 400-1798 cm-1
AXIS = 400.0 + 2.0 * np.arange(700)
#: position of class 0's marker band and the step between classes (cm-1)
MARKER, MARKER_STEP = 1002.0, 8.0
#: half width at half maximum of the marker band (cm-1)
MARKER_WIDTH = 5.0
#: number of shared matrix bands
N_MATRIX = 12


def _lorentz(centre: np.ndarray, width: np.ndarray) -> np.ndarray:
    """Bands (k, L) of unit height at ``centre`` (k,) with half widths ``width`` (k,)."""
    return 1.0 / (1.0 + ((AXIS[None] - centre[:, None]) / width[:, None]) ** 2)


def marker_band(n_classes: int = 4) -> tuple[float, float]:
    """The cm-1 range (low, high) that holds every class's marker, +- 3 half widths."""
    last = MARKER + (n_classes - 1) * MARKER_STEP
    return MARKER - 3 * MARKER_WIDTH, last + 3 * MARKER_WIDTH


def _matrix(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shared band positions (kept off the marker range) and half widths."""
    low, high = marker_band(8)
    pos = rng.uniform(AXIS[0] + 30, AXIS[-1] - 30, 4 * N_MATRIX)
    pos = pos[(pos < low - 20) | (pos > high + 20)][:N_MATRIX]
    return pos, rng.uniform(6.0, 14.0, N_MATRIX)


def _measured(x: np.ndarray, rng: np.random.Generator, shift: float) -> np.ndarray:
    """Background, axis shift, spikes and noise added to clean spectra (n, L)."""
    n, L = x.shape
    u = (AXIS - AXIS.mean()) / np.ptp(AXIS)
    centre = rng.uniform(900.0, 1500.0, (n, 1))
    hump = np.exp(-0.5 * ((AXIS[None] - centre) / rng.uniform(400.0, 800.0, (n, 1))) ** 2)
    x = x + rng.uniform(0.3, 1.8, (n, 1)) * hump * (1 + rng.uniform(-0.4, 0.4, (n, 1)) * u)
    offsets = rng.uniform(-shift, shift, n)
    x = np.stack([np.interp(AXIS + d, AXIS, row) for d, row in zip(offsets, x, strict=True)])
    x = x + rng.normal(0.0, 1.0, x.shape) * (0.004 + 0.01 * np.sqrt(np.abs(x)))
    for row in range(n):
        for col in rng.integers(0, L - 1, rng.poisson(1.0)):
            x[row, col : col + rng.integers(1, 3)] += rng.uniform(0.5, 3.0)
    return x


def make_raman_classes(
    n: int, seed: int, *, n_classes: int = 4, shift: float = 2.0, clean: bool = False
) -> Spectra:
    """``n`` Raman-like spectra of ``n_classes`` classes (about equal shares).

    Parameters
    ----------
    n : int
        Number of spectra.
    seed : int
        Seed of every random draw (the matrix bands too: one seed, one "material").
    n_classes : int, default=4
        Number of classes, 2-8.
    shift : float, default=2.0
        Largest per-spectrum axis shift, cm-1.
    clean : bool, default=False
        Return the matrix and marker signal alone (no background, shift, spikes or noise).

    Returns
    -------
    Spectra of shape (n, 700)
        Metadata ``label`` (``"class0"`` ...) and ``y`` (0 ... n_classes - 1).
    """
    if not 2 <= n_classes <= 8 or n < 1:
        raise ConfigError("make_raman_classes needs spectra and 2-8 classes",
                          expected="n >= 1, 2 <= n_classes <= 8",
                          got=f"n={n}, n_classes={n_classes}")  # fmt: skip
    rng = np.random.default_rng(seed)
    pos, width = _matrix(rng)
    y = rng.permutation(np.arange(n) % n_classes)
    heights = rng.lognormal(0.0, 0.35, (n, N_MATRIX))
    x = heights @ _lorentz(pos, width)
    centre = MARKER + MARKER_STEP * y
    marker = _lorentz(centre, np.full(n, MARKER_WIDTH)) * rng.uniform(0.15, 0.4, (n, 1))
    x = x + marker
    if not clean:
        x = _measured(x, rng, shift)
    labels = np.array([f"class{k}" for k in range(n_classes)])[y]
    return Spectra(x, AXIS, {"label": labels, "y": y}, unit="cm-1", kind="raman_shift")
