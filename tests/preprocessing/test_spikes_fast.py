"""Compiled Whitaker-Hayes spike test against the vectorised numpy formulas it replaces."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectrakit.preprocessing as pp
from spectrakit import DataError, quality
from spectrakit.preprocessing._spike_kernels import _median, _pairwise_sum, _select


# ------------------------------------------------------------------ reference (numpy)
def _ref_zscores(values: np.ndarray) -> np.ndarray:
    d = np.diff(np.asarray(values, dtype=np.float64), axis=1)
    med = np.median(d, axis=1, keepdims=True)
    dev = np.abs(d - med)
    mad = np.median(dev, axis=1, keepdims=True)
    fallback = 1.2533 * np.mean(dev, axis=1, keepdims=True)
    scale = np.where(mad > 0, mad / 0.6745, fallback)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(scale > 0, (d - med) / np.where(scale > 0, scale, 1.0), 0.0)


def _ref_narrow_spikes(z: np.ndarray, threshold: float, max_width: int) -> np.ndarray:
    n, m = z.shape
    p = m + 1
    mask = np.zeros((n, p), dtype=bool)
    pad = np.zeros((n, 1), dtype=bool)
    for sign in (1.0, -1.0):
        up = np.concatenate([pad, sign * z > threshold, pad], axis=1)
        down = np.concatenate([pad, sign * z < -threshold, pad], axis=1)
        for w in range(1, max_width + 1):
            i = np.arange(1, p - w)
            if i.size == 0:
                continue
            hit = up[:, i] & down[:, i + w] & ~up[:, i - 1] & ~down[:, i + w + 1]
            for k in range(w):
                mask[:, i + k] |= hit
        mask[:, 0] |= down[:, 1] & ~down[:, 2] if p > 2 else down[:, 1]
        mask[:, p - 1] |= up[:, p - 1] & ~up[:, p - 2] if p > 2 else up[:, p - 1]
    return mask


def _ref_spike_mask(values: np.ndarray, threshold: float = 8.0, max_width: int = 2) -> np.ndarray:
    values = np.asarray(values)
    if values.shape[1] < 2:
        return np.zeros(values.shape, dtype=bool)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        z = _ref_zscores(values)
    return _ref_narrow_spikes(z, float(threshold), int(max_width))


def _ref_replace(X: np.ndarray, bad: np.ndarray, window: int) -> np.ndarray:
    good = (~bad).astype(np.float64)
    n, p = X.shape
    zeros = np.zeros((n, 1))
    csum = np.concatenate([zeros, np.cumsum(X * good, axis=1)], axis=1)
    ccount = np.concatenate([zeros, np.cumsum(good, axis=1)], axis=1)
    lo = np.clip(np.arange(p) - window, 0, p)
    hi = np.clip(np.arange(p) + window + 1, 0, p)
    total = csum[:, hi] - csum[:, lo]
    count = ccount[:, hi] - ccount[:, lo]
    out = X.copy()
    fixable = bad & (count > 0)
    out[fixable] = total[fixable] / count[fixable]
    for r in np.flatnonzero((bad & (count == 0)).any(axis=1)):
        ok = ~bad[r]
        if ok.any():
            out[r, bad[r]] = np.interp(np.flatnonzero(bad[r]), np.flatnonzero(ok), X[r, ok])
    return out


def _ref_whitaker_hayes(X: np.ndarray, threshold=8.0, window=3, max_width=2) -> np.ndarray:
    bad = _ref_spike_mask(X, threshold, max_width)
    return _ref_replace(X, bad, window) if bad.any() else X


# ------------------------------------------------------------------ test spectra
def _bands_on_baseline(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    """Gaussian/Lorentzian bands (2-40 points wide) on sloped, curved baselines with noise."""
    t = np.linspace(0.0, 1.0, p)
    idx = np.arange(p, dtype=float)
    X = np.empty((n, p))
    for r in range(n):
        y = (
            rng.uniform(-5, 20)
            + rng.uniform(-5, 5) * t
            + rng.uniform(0, 8) * np.exp(-(((t - 0.3) / 0.5) ** 2))
        )
        for _ in range(int(rng.integers(1, 9))):
            u = (idx - rng.uniform(0, p)) / rng.uniform(1.0, 20.0)
            shape = np.exp(-0.5 * u**2) if rng.random() < 0.5 else 1.0 / (1.0 + u**2)
            y = y + rng.uniform(0.2, 30.0) * shape
        X[r] = y + rng.normal(0.0, rng.choice([1e-3, 0.02, 0.3]), p)
    return X


def _add_spikes(rng: np.random.Generator, X: np.ndarray) -> np.ndarray:
    """1- and 2-point spikes up and down, also on the first, second, second-last and last points."""
    X = X.copy()
    n, p = X.shape
    scale = np.abs(np.diff(X, axis=1)).mean(axis=1)
    for r in range(n):
        for _ in range(int(rng.integers(0, 4))):
            width = int(rng.integers(1, 3))
            at = int(rng.choice([0, 1, p - 2, p - width, int(rng.integers(0, p - width + 1))]))
            sign = 1.0 if rng.random() < 0.7 else -1.0
            X[r, at : at + width] += sign * scale[r] * rng.uniform(5.0, 300.0)
    return X


def _special_rows(rng: np.random.Generator, p: int) -> np.ndarray:
    """Flat, linear and piecewise-linear rows (zero MAD), counts and quantised values."""
    idx = np.arange(p, dtype=float)
    knots = np.sort(rng.choice(np.arange(1, p - 1), 4, replace=False))
    piecewise = np.interp(idx, np.r_[0, knots, p - 1], [0.0, 40.0, 30.0, 60.0, 58.0, 120.0])
    stairs = np.floor(idx / 7.0)  # mostly zero differences, some of 1
    mostly_flat = np.full(p, 2.0)
    mostly_flat[p // 2 :] += 1.0  # one step: MAD 0 and mean absolute deviation > 0
    spiked_flat = np.full(p, 5.0)
    spiked_flat[p // 3] += 10.0
    spiked_flat[0] -= 4.0
    spiked_ramp = 3.0 * idx
    spiked_ramp[[5, 6, p - 1]] += 50.0
    half_ties = np.where(idx % 2 == 0, 1.0, 0.0).cumsum()  # half the differences equal
    jittered = 0.25 * idx  # most differences exactly equal, the rest noisy: the fallback
    hit = rng.random(p) < 0.15  # scale sums many different deviations
    jittered[hit] += rng.normal(0.0, 0.1, int(hit.sum()))
    return np.vstack(
        [
            np.zeros(p),
            np.full(p, 7.25),
            2.0 * idx - 11.0,
            -0.5 * idx,
            piecewise,
            stairs,
            mostly_flat,
            spiked_flat,
            spiked_ramp,
            half_ties,
            jittered,
            jittered[::-1] + 3.0,
            rng.poisson(0.2, p).astype(float),
            rng.poisson(30.0, p).astype(float),
            np.round(np.sin(idx / 9.0) * 10, 1),
            np.round(rng.normal(0, 1, p), 0),
        ]
    )


@pytest.fixture(scope="module")
def spectra() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(42)
    blocks = []
    for p in (8, 9, 17, 64, 65, 128, 129, 130, 257, 1000, 1001):
        clean = _bands_on_baseline(rng, 24, p)
        blocks.append((_add_spikes(rng, clean), _special_rows(rng, p)))
    return blocks


PARAMS = [(8.0, 2), (3.0, 1), (3.5, 3), (1.5, 2), (8.0, 0), (8.0, 40), (0.0, 2), (-1.0, 2)]


# ------------------------------------------------------------------ exactness
def test_difference_zscores_equal_the_numpy_formula_bit_for_bit(spectra):
    for spiked, special in spectra:
        for X in (spiked, special):
            np.testing.assert_array_equal(quality.difference_zscores(X), _ref_zscores(X))


@pytest.mark.parametrize(("threshold", "max_width"), PARAMS)
def test_spike_mask_equals_the_numpy_reference(spectra, threshold, max_width):
    for spiked, special in spectra:
        for X in (spiked, special):
            got = quality.spike_mask(X, threshold, max_width)
            np.testing.assert_array_equal(got, _ref_spike_mask(X, threshold, max_width))


def test_reference_data_exercise_every_kind_of_spike(spectra):
    """The data above hit the branches the comparison is meant to cover."""
    spiked = np.vstack([s for s, _ in spectra if s.shape[1] == 1000])
    mask = quality.spike_mask(spiked)
    z = quality.difference_zscores(spiked)
    assert mask[:, 0].any() and mask[:, -1].any()  # one-sided spikes at both edges
    assert (mask[:, 1:-1] & ~mask[:, :-2] & ~mask[:, 2:]).any()  # single points
    assert (mask[:, 1:-2] & mask[:, 2:-1]).any()  # two-point spikes
    assert ((z < -8) & mask[:, :-1]).any() and ((z > 8) & mask[:, :-1]).any()  # up and down
    special = spectra[-1][1]
    d = np.diff(special, axis=1)
    mad = np.median(np.abs(d - np.median(d, axis=1, keepdims=True)), axis=1)
    assert (mad == 0).sum() >= 5  # flat, linear and piecewise-linear rows use the fallback
    assert quality.spike_mask(special[mad == 0]).any()


def test_float32_and_non_contiguous_input(spectra):
    spiked, special = spectra[-2]
    X = np.vstack([spiked, special])
    for view in (X.astype(np.float32), X[:, ::2], X[::-1], np.asfortranarray(X), X.T.copy().T):
        np.testing.assert_array_equal(quality.spike_mask(view), _ref_spike_mask(view))
        np.testing.assert_array_equal(quality.difference_zscores(view), _ref_zscores(view))
    ints = np.round(X * 10).astype(np.int64)
    np.testing.assert_array_equal(quality.spike_mask(ints, 3.0), _ref_spike_mask(ints, 3.0))


@pytest.mark.parametrize("p", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize(("threshold", "max_width"), PARAMS)
def test_very_short_spectra(p, threshold, max_width):
    rng = np.random.default_rng(p)
    peak = np.zeros((1, p))
    peak[0, p // 2 :] = 9.0 * (np.arange(p // 2, p) == p // 2)
    X = np.vstack([rng.normal(0, 1, (20, p)), np.zeros((1, p)), peak])
    got = quality.spike_mask(X, threshold, max_width)
    assert got.shape == X.shape and got.dtype == bool
    np.testing.assert_array_equal(got, _ref_spike_mask(X, threshold, max_width))
    z = quality.difference_zscores(X)
    assert z.shape == (X.shape[0], max(p - 1, 0))
    if p >= 2:
        np.testing.assert_array_equal(z, _ref_zscores(X))


def test_non_finite_values_follow_numpy():
    rng = np.random.default_rng(3)
    X = rng.normal(0, 1, (8, 50))
    X[0, 10] = np.nan
    X[1, 20] = np.inf
    X[2, :30] = np.inf  # median of the differences is NaN (inf - inf)
    X[3, 5] = -np.inf
    X[4] = np.nan_to_num(np.where(np.arange(50) == 7, np.inf, X[4]))  # huge finite value
    X[5, ::2] = 1e308  # differences overflow
    np.testing.assert_array_equal(quality.spike_mask(X), _ref_spike_mask(X))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = _ref_zscores(X)
    np.testing.assert_array_equal(quality.difference_zscores(X), ref)


def test_threaded_blocks_equal_one_call_and_the_reference():
    rng = np.random.default_rng(7)
    X = _add_spikes(rng, _bands_on_baseline(rng, 301, 1000))  # above the threading size
    got = quality.spike_mask(X)
    np.testing.assert_array_equal(got, _ref_spike_mask(X))
    one_by_one = np.vstack([quality.spike_mask(X[i : i + 1]) for i in range(0, 301, 50)])
    np.testing.assert_array_equal(got[::50], one_by_one)
    np.testing.assert_array_equal(quality.difference_zscores(X), _ref_zscores(X))


@pytest.mark.parametrize("values", [np.zeros(5), np.zeros((2, 3, 4)), 3.0])
def test_spike_functions_reject_wrong_shapes(values):
    with pytest.raises(DataError, match="wrong shape"):
        quality.spike_mask(values)
    with pytest.raises(DataError, match="wrong shape"):
        quality.difference_zscores(values)


# ------------------------------------------------------------------ compiled helpers
def test_median_selection_matches_numpy_on_ties_and_sorted_orders():
    rng = np.random.default_rng(11)
    for trial in range(400):
        n = int(rng.integers(1, 40)) if trial % 2 else int(rng.integers(40, 2500))
        kind = trial % 5
        if kind == 0:
            a = rng.normal(size=n)
        elif kind == 1:
            a = rng.integers(0, 3, n).astype(float)
        elif kind == 2:
            a = np.sort(rng.standard_cauchy(n))
        elif kind == 3:
            a = np.sort(rng.normal(size=n))[::-1].copy()
        else:
            a = np.where(rng.random(n) < 0.8, 0.0, rng.normal(size=n))
        got = _median(a.copy(), n, np.empty(n), np.empty(31))
        assert got == np.median(a), (trial, n, kind)
    assert np.isnan(_median(np.array([1.0, np.nan, 2.0]), 3, np.empty(3), np.empty(31)))


def test_select_partitions_around_the_kth_value():
    rng = np.random.default_rng(12)
    for n in (1, 2, 3, 10, 100, 999):
        a = rng.integers(0, 5, n).astype(float)
        for k in {0, n // 2, n - 1}:
            b = a.copy()
            _select(b, n, k)
            assert b[k] == np.sort(a)[k]
            assert (b[:k] <= b[k]).all() and (b[k + 1 :] >= b[k]).all()
            np.testing.assert_array_equal(np.sort(b), np.sort(a))


def test_pairwise_sum_matches_numpy_mean():
    rng = np.random.default_rng(13)
    for n in [*range(1, 300), 511, 512, 513, 999, 1024, 1025, 4097]:
        rows = np.abs(rng.standard_cauchy((3, n)))
        ref = np.mean(rows, axis=1)
        for r in range(3):
            assert _pairwise_sum(rows[r], n) / n == ref[r], n


# ------------------------------------------------------------------ the step
def test_whitaker_hayes_output_equals_the_numpy_reference(spectra):
    for params in ({}, {"threshold": 3.0, "window": 1, "max_width": 3}, {"window": 6}):
        for spiked, special in spectra:
            if spiked.shape[1] < 8:
                continue
            X = np.vstack([spiked, special])
            out = pp.WhitakerHayes(**params).fit_transform(X)
            np.testing.assert_array_equal(out, _ref_whitaker_hayes(X, **params))


def test_whitaker_hayes_wide_spike_is_interpolated_like_the_reference():
    x = np.tile(np.linspace(0.0, 1.0, 60), (3, 1))
    x[0, 20:23] += 50.0  # the middle point has no good neighbour within the window
    x[1, 30:33] -= 40.0
    step = pp.WhitakerHayes(threshold=3.0, window=1, max_width=3)
    out = step.fit_transform(x)
    np.testing.assert_array_equal(out, _ref_whitaker_hayes(x, 3.0, 1, 3))
    np.testing.assert_allclose(out[:2], np.tile(np.linspace(0.0, 1.0, 60), (2, 1)), atol=1e-12)


def test_whitaker_hayes_idempotent_on_realistic_spiked_spectra():
    rng = np.random.default_rng(21)
    X = _bands_on_baseline(rng, 40, 700)
    noise = np.abs(np.diff(X, axis=1)).mean(axis=1)
    for r in range(40):  # isolated spikes, up and down, edges included
        for at in rng.choice([0, 120, 300, 410, 520, 699], 3, replace=False):
            width = 1 if at in (0, 699) else int(rng.integers(1, 3))
            X[r, at : at + width] += rng.choice([-1.0, 1.0]) * noise[r] * rng.uniform(20, 200)
    step = pp.WhitakerHayes().fit(X)
    once = step.transform(X)
    assert (once != X).any()
    np.testing.assert_array_equal(step.transform(once), once)
