"""Known answers of the Raman-like classification set: one weak shifted band decides."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import ConfigError
from spectrakit.datasets.raman_classes import (
    AXIS,
    MARKER,
    MARKER_STEP,
    make_raman_classes,
    marker_band,
)


def _nearest_centroid(x: np.ndarray, y: np.ndarray, train: np.ndarray) -> float:
    """Accuracy on the rows outside ``train`` of a nearest-centroid rule fitted on ``train``."""
    test = np.setdiff1d(np.arange(len(y)), train)
    classes = np.unique(y[train])
    centroids = np.stack([x[train][y[train] == c].mean(axis=0) for c in classes])
    d = ((x[test][:, None, :] - centroids[None]) ** 2).sum(axis=2)
    return float(np.mean(classes[d.argmin(axis=1)] == y[test]))


def test_the_marker_band_decides_the_class_and_nothing_else_does():
    clean = make_raman_classes(400, seed=3, clean=True)
    y = clean.meta["y"].to_numpy()
    low, high = marker_band()
    inside = (low <= AXIS) & (high >= AXIS)
    x = clean.values
    # the class is the position of the marker: its maximum over the band, minus the matrix
    resid = x[:, inside] - np.median(x[:, inside], axis=0)
    peak = AXIS[inside][resid.argmax(axis=1)]
    assert np.mean(np.round((peak - MARKER) / MARKER_STEP) == y) > 0.95
    train = np.arange(200)
    x_in = x[:, inside] / x.sum(axis=1, keepdims=True)
    x_out = x[:, ~inside] / x.sum(axis=1, keepdims=True)
    assert _nearest_centroid(x_in, y, train) > 0.9
    assert _nearest_centroid(x_out, y, train) < 0.4  # 4 classes: chance is 0.25


def test_measured_spectra_add_background_spikes_and_shift_to_the_same_signal():
    clean = make_raman_classes(60, seed=1, clean=True)
    meas = make_raman_classes(60, seed=1)
    assert np.array_equal(clean.meta["y"], meas.meta["y"])
    diff = meas.values - clean.values
    # fluorescence: a broad positive background much larger than the marker (<= 0.4)
    assert np.median(diff.mean(axis=1)) > 0.3
    # cosmic spikes: isolated points far above their neighbours in some spectra
    jump = np.abs(np.diff(meas.values, n=2, axis=1)).max(axis=1)
    assert np.mean(jump > 0.5) > 0.3
    assert np.bincount(clean.meta["y"].to_numpy()).tolist() == [15, 15, 15, 15]


def test_seeded_and_refused_when_malformed():
    a, b = make_raman_classes(8, seed=5), make_raman_classes(8, seed=5)
    assert np.array_equal(a.values, b.values) and a.values.shape == (8, AXIS.size)
    with pytest.raises(ConfigError):
        make_raman_classes(8, seed=0, n_classes=1)
