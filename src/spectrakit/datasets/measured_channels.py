"""A known-answer set of separately measured channels: the label lives in one channel only.

Every sample is measured on two excitation channels, each on its own emission range. Both
channels carry the same random mixture of broad bands (the sample's "matrix"), so they look
alike; only the second channel holds a narrow peak whose presence is the class. A model that
reads channel 1 alone is at chance; a model reading both channels can be perfect.
"""

from __future__ import annotations

import numpy as np

from spectrakit.core.channel_set import ChannelSet
from spectrakit.core.spectra import Spectra

__all__ = ["make_deciding_channel"]


def _bands(rng: np.random.Generator, grid: np.ndarray, n: int, k: int) -> np.ndarray:
    """``n`` spectra of ``k`` broad Gaussian bands at random positions and heights."""
    lo, hi = grid.min(), grid.max()
    centres = rng.uniform(lo, hi, size=(n, k, 1))
    widths = rng.uniform(0.08, 0.2, size=(n, k, 1)) * (hi - lo)
    heights = rng.uniform(0.5, 1.5, size=(n, k, 1))
    return (heights * np.exp(-0.5 * ((grid - centres) / widths) ** 2)).sum(axis=1)


def make_deciding_channel(
    n: int = 64,
    n_points: int = 64,
    *,
    peak: float = 2.0,
    noise: float = 0.05,
    seed: int = 0,
    names: tuple[str, str] = ("ex277", "ex380"),
) -> ChannelSet:
    """Two measured channels of ``n`` samples; the class is decidable from channel 2 only.

    Parameters
    ----------
    n : int, default=64
        Samples (classes alternate, so both are balanced).
    n_points : int, default=64
        Points of each channel (channel 1 on 300-400 nm, channel 2 on 420-560 nm).
    peak : float, default=2.0
        Height of the deciding peak (at 490 nm in channel 2) in samples of class ``"b"``.
    noise : float, default=0.05
        Standard deviation of the white noise added to both channels.
    seed : int, default=0
    names : (str, str)
        Channel names.

    Returns
    -------
    ChannelSet
        Metadata ``sample_id`` (``s000``, ...) and ``label`` (``"a"`` or ``"b"``).
    """
    rng = np.random.default_rng(seed)
    g1 = np.linspace(300.0, 400.0, n_points)
    g2 = np.linspace(420.0, 560.0, n_points)
    label = np.arange(n) % 2
    rng.shuffle(label)
    matrix = _bands(rng, np.linspace(0.0, 1.0, n_points), n, 3)
    deciding = peak * label[:, None] * np.exp(-0.5 * ((g2 - 490.0) / 4.0) ** 2)
    one = matrix + noise * rng.normal(size=matrix.shape)
    two = 0.8 * matrix + deciding + noise * rng.normal(size=matrix.shape)
    meta = {"sample_id": [f"s{i:03d}" for i in range(n)], "label": np.where(label, "b", "a")}
    return ChannelSet(
        {
            names[0]: Spectra(one, g1, meta, unit="nm"),
            names[1]: Spectra(two, g2, meta, unit="nm"),
        }
    )
