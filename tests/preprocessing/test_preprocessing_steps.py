"""Preprocessing steps on data with known answers."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit.preprocessing as pp
from spectrakit import AxisError, ConfigError, DataError, PreprocessingError, Spectra, _threads


def gaussian(axis, centre, fwhm, height=1.0):
    return height * np.exp(-4 * np.log(2) * ((axis - centre) / fwhm) ** 2)


# ---------------------------------------------------------------------- Savitzky-Golay
def test_savgol_returns_linear_ramp_exactly_including_edges():
    axis = 100.0 + 0.37 * np.arange(200)
    ramp = np.vstack([3.0 * axis - 7.0, -0.5 * axis + 2.0])
    out = pp.SavitzkyGolay(9, 3).fit_transform(ramp, axis=axis)
    np.testing.assert_allclose(out, ramp, rtol=0, atol=1e-9)


def test_savgol_derivative_matches_analytic_derivative_with_real_spacing():
    x = np.arange(0.0, 30.0, 0.37)
    out = pp.SavitzkyGolay(9, 5, deriv=1).fit_transform(np.sin(x)[None], axis=x)[0]
    np.testing.assert_allclose(out, np.cos(x), atol=1e-2)  # edges included
    np.testing.assert_allclose(out[9:-9], np.cos(x[9:-9]), atol=1e-3)
    second = pp.SavitzkyGolay(7, 4, deriv=2).fit_transform(np.sin(x)[None], axis=x)[0]
    np.testing.assert_allclose(second[7:-7], -np.sin(x[7:-7]), atol=5e-3)


def test_savgol_parameter_errors():
    with pytest.raises(ConfigError, match="odd"):
        pp.SavitzkyGolay(8, 3).fit(np.ones((2, 50)))
    with pytest.raises(PreprocessingError, match="longer than the spectra"):
        pp.SavitzkyGolay(21, 3).fit(np.ones((2, 15)))
    axis = np.cumsum(np.linspace(1.0, 2.0, 50))  # spacing grows from 1 to 2
    with pytest.raises(AxisError, match="Resample to a uniform grid first"):
        pp.SavitzkyGolay(9, 3, deriv=1).fit(np.ones((2, 50)), axis=axis)
    # smoothing (deriv=0) does not need uniform spacing
    pp.SavitzkyGolay(9, 3).fit(np.ones((2, 50)), axis=axis)


def test_savgol_parallel_chunks_equal_single_call(monkeypatch, rng):
    X = rng.normal(size=(600, 800))
    threaded = pp.SavitzkyGolay(11, 3).fit_transform(X)
    monkeypatch.setattr(_threads, "N_THREADS", 1)
    single = pp.SavitzkyGolay(11, 3).fit_transform(X)
    np.testing.assert_array_equal(threaded, single)


# ---------------------------------------------------------------------- Whittaker
def test_whittaker_equals_dense_solution_for_all_spectra(rng):
    n, lam = 80, 50.0
    Y = rng.normal(size=(5, n))
    for order in (1, 2, 3):
        D = np.diff(np.eye(n), order, axis=0)
        dense = np.linalg.solve(np.eye(n) + lam * D.T @ D, Y.T).T
        out = pp.WhittakerSmooth(lam, order).fit_transform(Y)
        np.testing.assert_allclose(out, dense, atol=1e-10)


def test_whittaker_reduces_noise_on_a_smooth_signal(rng):
    x = np.linspace(0, 1, 400)
    clean = np.sin(2 * np.pi * x)
    noisy = clean + rng.normal(0, 0.1, (3, x.size))
    out = pp.WhittakerSmooth(1e4).fit_transform(noisy)
    assert np.sqrt(np.mean((out - clean) ** 2)) < 0.3 * np.sqrt(np.mean((noisy - clean) ** 2))


# ---------------------------------------------------------------------- spikes
def _with_spikes(rng):
    axis = np.linspace(400, 1800, 700)
    clean = 100 * gaussian(axis, 1000, 30) + 50 * gaussian(axis, 1450, 8) + 10
    X = clean + rng.normal(0, 0.5, (6, axis.size))
    spiked = X.copy()
    spiked[0, 150] += 80  # single-point cosmic ray
    spiked[1, 400:402] += 60  # two-point cosmic ray
    spiked[2, 0] += 40  # on the first point
    spiked[3, 250] -= 50  # dead pixel
    return axis, X, spiked


def test_whitaker_hayes_removes_planted_spikes_and_nothing_else(rng):
    axis, X, spiked = _with_spikes(rng)
    out = pp.WhitakerHayes().fit_transform(spiked, axis=axis)
    changed = np.argwhere(out != spiked)
    assert {tuple(c) for c in changed} == {(0, 150), (1, 400), (1, 401), (2, 0), (3, 250)}
    assert np.abs(out - X).max() < 3.0  # replaced by the local mean: within noise (sd 0.5)


def test_whitaker_hayes_idempotent(rng):
    axis, _, spiked = _with_spikes(rng)
    step = pp.WhitakerHayes().fit(spiked, axis=axis)
    once = step.transform(spiked)
    np.testing.assert_array_equal(step.transform(once), once)


@pytest.mark.parametrize("fwhm_points", [3, 4, 6, 25])
def test_whitaker_hayes_keeps_real_peaks(rng, fwhm_points):
    axis = np.arange(500.0)
    peak = gaussian(axis, 250.3, fwhm_points, height=1000.0)
    X = peak + 20 + rng.normal(0, 1.0, (20, axis.size))
    out = pp.WhitakerHayes().fit_transform(X)
    top = slice(245, 256)
    np.testing.assert_allclose(out[:, top].max(axis=1), X[:, top].max(axis=1), rtol=0.01)
    np.testing.assert_array_equal(out, X)


def test_whitaker_hayes_batch_equals_one_by_one(rng):
    _, _, spiked = _with_spikes(rng)
    step = pp.WhitakerHayes().fit(spiked)
    rows = np.vstack([step.transform(spiked[i : i + 1]) for i in range(len(spiked))])
    np.testing.assert_array_equal(step.transform(spiked), rows)


def test_median_despike_removes_spike(rng):
    axis, X, spiked = _with_spikes(rng)
    out = pp.MedianDespike(kernel=5).fit_transform(spiked[:1], axis=axis)
    assert abs(out[0, 150] - X[0, 150]) < 3.0
    assert out.shape == X[:1].shape


# ---------------------------------------------------------------------- scatter / norms
def test_snv_zero_mean_unit_std_and_constant_spectrum(rng):
    X = rng.normal(5, 2, (4, 100))
    out = pp.SNV().fit_transform(X)
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1, atol=1e-12)
    X[3] = 7.0
    with pytest.raises(PreprocessingError, match="spectrum 3 has zero standard deviation"):
        pp.SNV().fit_transform(X)
    kept = pp.SNV(on_zero="keep").fit_transform(X)
    assert np.all(np.isfinite(kept)) and np.all(kept[3] == 0)


def test_msc_reference_learned_in_fit_only(rng):
    axis = np.linspace(0, 1, 200)
    ref = gaussian(axis, 0.3, 0.05) + 0.5 * gaussian(axis, 0.7, 0.1)
    a = rng.uniform(-0.2, 0.2, 10)
    b = rng.uniform(0.5, 1.5, 10)
    train = a[:, None] + b[:, None] * ref
    step = pp.MSC().fit(train)
    np.testing.assert_allclose(step.reference_, train.mean(axis=0))
    test = 3.0 + 2.0 * ref[None] + np.zeros((3, 1))
    out = step.transform(test)
    np.testing.assert_array_equal(step.reference_, train.mean(axis=0))  # untouched
    # corrected spectra lie on the training reference
    np.testing.assert_allclose(out, np.broadcast_to(step.reference_, out.shape), atol=1e-10)
    with pytest.raises(PreprocessingError, match="constant"):
        pp.MSC().fit(np.ones((3, 50)))
    bad = np.vstack([test, np.full((1, 200), 4.0)])
    with pytest.raises(PreprocessingError, match="spectrum 3"):
        step.transform(bad)


def test_emsc_removes_polynomial_baseline(rng):
    axis = np.linspace(500, 1500, 300)
    ref = gaussian(axis, 800, 40) + gaussian(axis, 1200, 60)
    t = np.linspace(-1, 1, axis.size)
    b = rng.uniform(0.5, 2.0, (6, 1))
    X = b * ref + rng.normal(0, 0.3, (6, 1)) + rng.normal(0, 0.3, (6, 1)) * t
    X += rng.normal(0, 0.2, (6, 1)) * t**2
    step = pp.EMSC(order=2).fit(X, axis=axis)
    out = step.transform(X)
    # every corrected spectrum equals the reference (the mean model) up to its baseline
    np.testing.assert_allclose(np.ptp(out - out[0], axis=1), 0, atol=1e-8)
    assert step._get_state()["reference_"].shape == (axis.size,)


def test_norms(rng):
    axis = np.sort(rng.uniform(0, 10, 120))  # uneven spacing
    X = rng.uniform(0.1, 2.0, (4, 120))
    np.testing.assert_allclose(
        np.trapezoid(pp.AreaNorm().fit_transform(X, axis=axis), axis, axis=1), 1.0
    )
    np.testing.assert_allclose(np.linalg.norm(pp.VectorNorm().fit_transform(X), axis=1), 1.0)
    np.testing.assert_allclose(np.abs(pp.MaxNorm().fit_transform(X)).max(axis=1), 1.0)
    mm = pp.MinMax().fit_transform(X)
    np.testing.assert_allclose(mm.min(axis=1), 0.0)
    np.testing.assert_allclose(mm.max(axis=1), 1.0)
    for step in (pp.AreaNorm(), pp.VectorNorm(), pp.MaxNorm(), pp.MinMax()):
        with pytest.raises(PreprocessingError, match="spectrum 1"):
            step.fit_transform(np.vstack([X[:1], np.zeros((1, 120))]), axis=axis)


def test_peak_norm_scales_reference_band_to_one():
    axis = np.linspace(400, 1800, 701)
    X = np.vstack([h * gaussian(axis, 1001.0, 20) + 1 for h in (2.0, 5.0)])
    out = pp.PeakNorm(position=1001.0, window=10.0).fit_transform(X, axis=axis)
    np.testing.assert_allclose(out.max(axis=1), 1.0)
    with pytest.raises(AxisError, match="outside the axis"):
        pp.PeakNorm(position=3000.0).fit(X, axis=axis)


# ---------------------------------------------------------------------- column scaling
def test_standardize_and_mean_center_zero_variance_points(rng):
    X = rng.normal(3, 2, (30, 10))
    X[:, 4] = 1.5  # constant point (e.g. a clipped detector pixel)
    step = pp.Standardize().fit(X)
    out = step.transform(X)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[:, 4], 0.0)
    np.testing.assert_allclose(np.delete(out, 4, axis=1).std(axis=0), 1.0)
    assert step.scale_[4] == 1.0
    np.testing.assert_allclose(pp.MeanCenter().fit(X).transform(X).mean(axis=0), 0, atol=1e-12)


# ---------------------------------------------------------------------- axis steps
def test_crop_in_axis_units_on_spectra(raman_like):
    out = pp.Crop(600, 1200, unit="cm-1").fit_transform(raman_like)
    assert isinstance(out, Spectra)
    assert out.axis.min >= 600 and out.axis.max <= 1200
    np.testing.assert_array_equal(out.values, raman_like.crop(600, 1200).values)
    assert list(out.meta["sample"]) == list(raman_like.meta["sample"])
    # a range wider than the axis keeps what it overlaps
    assert pp.Crop(300, 1942).fit_transform(raman_like).n_points == raman_like.n_points


def test_crop_outside_axis_and_wrong_unit(raman_like):
    with pytest.raises(AxisError, match="selects no points"):
        pp.Crop(2500, 3000).fit(raman_like)
    with pytest.raises(AxisError, match="in nm"):
        pp.Crop(600, 700, unit="nm").fit(raman_like)
    with pytest.raises(ConfigError, match="low is above high"):
        pp.Crop(900, 800).fit(raman_like)


def test_select_and_exclude_regions(raman_like):
    regions = [[500, 700], [1300, 1500]]
    kept = pp.SelectRegions(regions).fit_transform(raman_like)
    dropped = pp.ExcludeRegions(regions).fit_transform(raman_like)
    assert kept.n_points + dropped.n_points == raman_like.n_points
    ax = kept.axis.values
    assert np.all(((ax >= 500) & (ax <= 700)) | ((ax >= 1300) & (ax <= 1500)))
    with pytest.raises(ConfigError, match="invalid regions"):
        pp.SelectRegions([[700, 500]]).fit(raman_like)


def test_resample_onto_grid_and_out_of_range(raman_like):
    step = pp.Resample(start=500.0, stop=1500.0, step=5.0)
    out = step.fit_transform(raman_like)
    np.testing.assert_allclose(out.axis.values, np.arange(500.0, 1500.1, 5.0))
    np.testing.assert_allclose(out.values, raman_like.resample(out.axis.values).values)
    with pytest.raises(AxisError, match="beyond the measured axis"):
        pp.Resample(grid=[300.0, 500.0, 700.0]).fit_transform(raman_like)
    padded = pp.Resample(grid=[300.0, 500.0, 700.0], fill="edge").fit_transform(raman_like)
    np.testing.assert_allclose(padded.values[:, 0], raman_like.values[:, 0])
    X = np.asarray(raman_like.values, dtype=float)
    with pytest.warns(RuntimeWarning, match="1 grid points lie outside"):
        nan_padded = pp.Resample(grid=[300.0, 500.0], fill="nan").fit_transform(
            X, axis=raman_like.axis
        )
    assert np.isnan(nan_padded[:, 0]).all() and np.isfinite(nan_padded[:, 1]).all()


# ---------------------------------------------------------------------- common input errors
def test_nan_inside_a_spectrum_is_refused(raman_like):
    X = np.array(raman_like.values, dtype=float)
    X[2, 17] = np.nan
    with pytest.raises(DataError, match="spectrum 2, point 17"):
        pp.SNV().fit(X)
    step = pp.SavitzkyGolay().fit(raman_like.values)
    with pytest.raises(DataError, match="NaN"):
        step.transform(X)


def test_transform_on_another_axis_is_refused(raman_like):
    step = pp.SNV().fit(raman_like)
    shifted = Spectra(raman_like.values, raman_like.axis.values + 2.0, raman_like.meta)
    with pytest.raises(AxisError, match="another axis"):
        step.transform(shifted)
    with pytest.raises(DataError, match="expecting 701 features"):
        step.transform(raman_like.values[:, :100])


def test_output_axis_matches_transform(raman_like):
    step = pp.Crop(700, 1300).fit(raman_like)
    assert step.output_axis(raman_like.axis) == step.transform(raman_like).axis
    names = step.get_feature_names_out()
    assert len(names) == step.transform(raman_like).n_points
