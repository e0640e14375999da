"""The synthetic generator: known peaks, linear mixtures, instruments, noise, validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import voigt_profile

from spectrakit import ConfigError, Spectra
from spectrakit.datasets import (
    DEFAULT_AXIS,
    RAMAN_COMPONENTS,
    BackgroundSettings,
    Component,
    ComponentLibrary,
    Instrument,
    MeasurementSettings,
    MixtureSettings,
    Peak,
    make_multi_instrument,
    make_peaks,
    make_synthetic,
)
from spectrakit.datasets._peaks import voigt_widths

X = DEFAULT_AXIS.values
STEP = DEFAULT_AXIS.spacing


def fwhm_of(x: np.ndarray, y: np.ndarray) -> float:
    """Width at half maximum by linear interpolation of the two crossings."""
    i = int(np.argmax(y))
    half = y[i] / 2
    left = np.flatnonzero(y[:i] < half)[-1]
    right = i + np.flatnonzero(y[i:] < half)[0]
    xl = np.interp(half, [y[left], y[left + 1]], [x[left], x[left + 1]])
    xr = np.interp(half, [y[right], y[right - 1]], [x[right], x[right - 1]])
    return float(xr - xl)


# ----------------------------------------------------------------------------- peak shapes
@pytest.mark.parametrize("shape", ["gaussian", "lorentzian", "pseudo_voigt", "voigt"])
def test_peak_shapes_have_the_requested_height_position_and_width(shape):
    x = np.linspace(900, 1100, 20001)
    y = make_peaks(x, 1004.0, fwhm=12.0, heights=3.0, shape=shape, eta=0.4)
    assert x[np.argmax(y)] == pytest.approx(1004.0, abs=0.01)
    assert y.max() == pytest.approx(3.0, rel=1e-6)
    # Olivero-Longbothum is accurate to ~0.02 %; the others are exact.
    assert fwhm_of(x, y) == pytest.approx(12.0, rel=1e-3)


def test_voigt_matches_scipy_and_tends_to_its_limits():
    x = np.linspace(-60, 60, 4001)
    sigma, gamma = voigt_widths(np.array(10.0), np.array(0.5))
    ref = voigt_profile(x, sigma, gamma)
    y = make_peaks(x, 0.0, fwhm=10.0, shape="voigt", eta=0.5)
    np.testing.assert_allclose(y, ref / ref.max(), atol=1e-9)
    gauss = make_peaks(x, 0.0, fwhm=10.0, shape="gaussian")
    lorentz = make_peaks(x, 0.0, fwhm=10.0, shape="lorentzian")
    np.testing.assert_allclose(make_peaks(x, 0.0, 10.0, shape="voigt", eta=0.0), gauss, atol=1e-6)
    np.testing.assert_allclose(make_peaks(x, 0.0, 10.0, shape="voigt", eta=1.0), lorentz, atol=2e-3)


def test_make_peaks_rows_and_sum():
    rows = make_peaks(X, [600, 1200], fwhm=[10, 20], heights=[1, 2], sum_peaks=False)
    assert rows.shape == (2, X.size)
    np.testing.assert_allclose(rows.sum(0), make_peaks(X, [600, 1200], [10, 20], [1, 2]))


# ----------------------------------------------------------------------------- ground truth
def test_named_components_peak_where_the_library_says():
    lib = ComponentLibrary.named("glucose", "acetate", "sulfate", "phenylalanine")
    _, parts = make_synthetic(
        4,
        mixture=MixtureSettings(library=lib),
        background=BackgroundSettings(baseline=None),
        measurement=MeasurementSettings(read_noise=0.0, shot_noise=0.0),
        seed=0,
        return_components=True,
    )
    for j, comp in enumerate(lib):
        pure = parts["profiles"][j]
        assert abs(X[np.argmax(pure)] - comp.strongest) <= STEP
    # a pure-sulfate mixture peaks at the sulfate band at 981 cm-1
    assert RAMAN_COMPONENTS["sulfate"].strongest == 981
    assert abs(X[np.argmax(parts["profiles"][2])] - 981) <= STEP
    # and so do noisy measured spectra once their (known) background is removed
    sulfate = ComponentLibrary.named("sulfate")
    noisy, truth = make_synthetic(
        20,
        mixture=MixtureSettings(library=sulfate, concentration_range=(0.5, 1.0)),
        seed=1,
        return_components=True,
    )
    peaks = X[np.argmax(noisy.values - truth["baseline"], axis=1)]
    assert np.all(np.abs(peaks - 981) <= STEP)


def test_clean_signal_is_linear_in_the_concentrations():
    s, parts = make_synthetic(
        300, mixture=MixtureSettings(n_components=5), seed=3, return_components=True
    )
    c_true = s.meta[[f"c_{n}" for n in parts["names"]]].to_numpy()
    np.testing.assert_array_equal(c_true, parts["concentrations"])
    coef, *_ = np.linalg.lstsq(
        parts["profiles"].T.astype(np.float64), parts["signal"].T.astype(np.float64), rcond=None
    )
    np.testing.assert_allclose(coef.T, c_true, atol=1e-3)
    # and from the noisy, baseline-corrected spectra within noise level
    noisy = (s.values - parts["baseline"] - parts["spikes"]).T.astype(np.float64)
    coef, *_ = np.linalg.lstsq(parts["profiles"].T.astype(np.float64), noisy, rcond=None)
    assert np.abs(coef.T - c_true).max() < 0.05


def test_components_sum_to_the_spectra_and_spikes_are_where_reported():
    s, parts = make_synthetic(
        200,
        background=BackgroundSettings(baseline="mixed"),
        measurement=MeasurementSettings(spike_rate=2.0, spike_height=(3.0, 6.0), shift_jitter=0.5),
        seed=1,
        return_components=True,
    )
    total = parts["signal"] + parts["baseline"] + parts["noise"] + parts["spikes"]
    np.testing.assert_allclose(total, s.values, rtol=1e-6, atol=1e-3)
    pos = parts["spike_positions"]
    assert pos.shape[1] == 2 and 200 < len(pos) < 600  # Poisson(2) per spectrum
    assert np.all(parts["spikes"][pos[:, 0], pos[:, 1]] >= 3000.0)
    spiky = np.zeros(s.shape, dtype=bool)
    spiky[pos[:, 0], pos[:, 1]] = True
    # every point carrying a large spike amplitude is a reported maximum or its neighbour
    big = parts["spikes"] > 0
    neighbour = np.zeros_like(spiky)
    neighbour[:, 1:] = spiky[:, :-1]
    assert np.all(spiky[big] | neighbour[big])
    assert s.meta["sample_id"].tolist() == list(range(200))


def test_noise_levels_follow_shot_and_read_settings():
    _, parts = make_synthetic(
        400,
        measurement=MeasurementSettings(read_noise=4.0, shot_noise=1.0),
        seed=2,
        return_components=True,
    )
    clean = parts["signal"] + parts["baseline"]
    z = parts["noise"] / np.sqrt(np.maximum(clean, 0) + 16.0)
    assert z.std() == pytest.approx(1.0, rel=0.02)
    _, quiet = make_synthetic(
        50,
        measurement=MeasurementSettings(read_noise=0.0, shot_noise=0.0),
        seed=2,
        return_components=True,
    )
    assert np.all(quiet["noise"] == 0)


def test_baseline_is_smooth_positive_and_in_the_requested_range():
    _, parts = make_synthetic(
        200,
        background=BackgroundSettings(baseline="fluorescence", baseline_strength=(1.0, 2.0)),
        seed=4,
        return_components=True,
    )
    b = parts["baseline"]
    assert b.min() >= 0
    assert np.all(b.max(axis=1) <= 2000.0 * 1.001)
    assert np.median(b.max(axis=1)) > 500.0
    assert np.abs(np.diff(b, 2, axis=1)).max() < 1.0  # no peaks in the background
    _, none = make_synthetic(
        5, background=BackgroundSettings(baseline=None), seed=4, return_components=True
    )
    assert np.all(none["baseline"] == 0)


# ----------------------------------------------------------------------------- instruments
def _clean_one(inst: Instrument, lib: ComponentLibrary, **kw) -> np.ndarray:
    s = make_synthetic(
        1,
        instruments=[inst],
        mixture=MixtureSettings(library=lib, concentration_range=(1.0, 1.0)),
        background=BackgroundSettings(baseline=None),
        measurement=MeasurementSettings(read_noise=0.0, shot_noise=0.0),
        seed=0,
        **kw,
    )
    return s.values[0]


def test_instrument_shift_moves_a_peak_by_the_given_amount():
    lib = ComponentLibrary([Component("line", (Peak(1000.0, 10.0, 1.0, "gaussian"),))])
    x = np.linspace(900, 1100, 2001)  # 0.1 cm-1 grid
    base = _clean_one(Instrument("a", axis=x), lib)
    moved = _clean_one(Instrument("b", axis=x, shift=7.3), lib)
    assert x[np.argmax(base)] == pytest.approx(1000.0, abs=0.1)
    assert x[np.argmax(moved)] == pytest.approx(1007.3, abs=0.1)
    stretched = _clean_one(Instrument("c", axis=x, stretch=0.01), lib)  # centre 1000 stays
    assert x[np.argmax(stretched)] == pytest.approx(1000.0, abs=0.1)


def test_resolution_broadening_adds_widths_in_quadrature():
    lib = ComponentLibrary([Component("line", (Peak(1000.0, 8.0, 1.0, "gaussian"),))])
    x = np.linspace(900, 1100, 4001)
    sharp = _clean_one(Instrument("a", axis=x), lib)
    broad = _clean_one(Instrument("b", axis=x, resolution=6.0), lib)
    assert fwhm_of(x, sharp) == pytest.approx(8.0, rel=1e-3)
    assert fwhm_of(x, broad) == pytest.approx(10.0, rel=5e-3)  # sqrt(8^2 + 6^2)
    # broadening keeps the band area
    assert broad.sum() == pytest.approx(sharp.sum(), rel=1e-3)


def test_response_and_gain_scale_the_signal():
    lib = ComponentLibrary([Component("line", (Peak(1100.0, 10.0, 1.0, "gaussian"),))])
    flat = _clean_one(Instrument("a"), lib)
    gained = _clean_one(Instrument("b", gain=2.0, response=(0.3,)), lib)
    i = int(np.argmax(flat))
    u = 2 * (X[i] - X[0]) / (X[-1] - X[0]) - 1
    assert gained[i] / flat[i] == pytest.approx(2.0 * (1 + 0.3 * u), rel=1e-4)


def test_multi_instrument_same_samples_on_different_grids():
    insts = [
        Instrument("a", axis=(400, 1800, 1000)),
        Instrument("b", axis=(350, 1850, 600), shift=3.0, resolution=5.0, response=(0.2, -0.1)),
        Instrument("c", axis=np.geomspace(450, 1750, 800), stretch=0.002),
    ]
    blocks = make_multi_instrument(
        30, insts, mixture=MixtureSettings(library="raman", n_components=3), seed=5
    )
    assert list(blocks) == ["a", "b", "c"]
    assert [b.n_points for b in blocks.values()] == [1000, 600, 800]
    ref = blocks["a"].meta
    for b in blocks.values():
        assert b.meta["sample_id"].tolist() == list(range(30))
        np.testing.assert_array_equal(b.meta["c_glucose"], ref["c_glucose"])
    assert blocks["b"].axis.min == 350 and blocks["c"].axis.max == pytest.approx(1750)
    # different instruments really differ
    common = blocks["a"].resample(blocks["b"].crop(400, 1800).axis).values
    assert not np.allclose(common, blocks["b"].crop(400, 1800).values, rtol=0.05)
    both = make_multi_instrument(
        30, insts, mixture=MixtureSettings(library="raman", n_components=3), seed=5, combined=True
    )
    assert isinstance(both, Spectra) and both.n_spectra == 90
    assert sorted(set(both.meta["instrument"])) == ["a", "b", "c"]
    assert both.axis.min >= 450 and both.axis.max <= 1750


def test_random_instruments_and_mixed_instruments_in_one_dataset():
    blocks = make_multi_instrument(10, 3, seed=0)
    assert len({b.n_points for b in blocks.values()}) == 3
    s = make_synthetic(
        60, seed=0, instruments=[Instrument("x"), Instrument("y", axis=(300, 1900, 700))]
    )
    assert set(s.meta["instrument"]) == {"x", "y"}
    assert s.meta["sample_id"].tolist() == list(range(60))
    assert s.axis.min >= 400 and s.axis.max <= 1800


# ----------------------------------------------------------------------------- classes, seeds
def test_classification_labels_and_class_specific_peaks():
    s, parts = make_synthetic(
        400,
        task="classification",
        mixture=MixtureSettings(library="raman", n_components=3, class_perturbation=4.0),
        background=BackgroundSettings(baseline=None),
        seed=7,
        return_components=True,
    )
    assert set(s.meta["label"]) == {"glucose", "acetate", "sulfate"}
    for name, band in [("acetate", 928), ("sulfate", 981)]:
        mean = parts["signal"][s.meta["label"].to_numpy() == name].mean(axis=0)
        assert abs(X[np.argmax(mean)] - band) <= 4 * 4.0  # moved by the class perturbation
    many = make_synthetic(
        100, task="classification", mixture=MixtureSettings(n_components=2, n_classes=5), seed=0
    )
    assert many.meta["label"].nunique() == 5


def test_seeding_is_reproducible_and_seeds_differ():
    a = make_synthetic(
        50, measurement=MeasurementSettings(spike_rate=1.0, shift_jitter=0.3), seed=11
    )
    b = make_synthetic(
        50, measurement=MeasurementSettings(spike_rate=1.0, shift_jitter=0.3), seed=11
    )
    c = make_synthetic(
        50, measurement=MeasurementSettings(spike_rate=1.0, shift_jitter=0.3), seed=12
    )
    assert a.equals(b)
    assert not np.allclose(a.values, c.values)
    g1 = make_synthetic(20, seed=np.random.default_rng(3))
    g2 = make_synthetic(20, seed=np.random.default_rng(3))
    assert g1.equals(g2)
    lib1 = ComponentLibrary.random(3, (400, 1800), seed=1)
    assert lib1.names == ["comp0", "comp1", "comp2"]
    assert np.allclose(lib1.matrix(X), ComponentLibrary.random(3, (400, 1800), seed=1).matrix(X))


def test_output_is_float32_with_axis_and_ground_truth_meta():
    s = make_synthetic(10, mixture=MixtureSettings(library="raman", n_components=2), seed=0)
    assert s.values.dtype == np.float32 and s.axis.kind == "raman_shift"
    assert list(s.meta.columns) == ["sample_id", "instrument", "c_glucose", "c_acetate"]


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_spectra": -5}, "n_spectra"),
        ({"n_spectra": 2.5}, "n_spectra"),
        ({"task": "clustering"}, "task"),
        ({"baseline": "wavy"}, "baseline"),
        ({"read_noise": -1.0}, "read_noise"),
        ({"concentration_range": (1.0, 0.0)}, "concentration_range"),
        ({"library": "ir"}, "library"),
        ({"library": "raman", "n_components": 50}, "Raman components"),
        ({"task": "classification", "n_components": 1}, "two classes"),
        ({"seed": "abc"}, "seed"),
        ({"instruments": ["a"]}, "Instrument"),
        ({"instruments": [Instrument("a"), Instrument("a", shift=1.0)]}, "unique"),
    ],
)
def test_bad_parameters_raise_clear_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match) as err:
        make_synthetic(**{"n_spectra": 5, **kwargs})
    assert "expected" in str(err.value) or "Fix" in str(err.value)


def test_bad_peaks_and_instruments_raise_clear_errors():
    with pytest.raises(ConfigError, match="unknown shape"):
        make_peaks(X, 1000, shape="triangle")
    with pytest.raises(ConfigError, match="widths must be positive"):
        make_peaks(X, 1000, fwhm=-1)
    with pytest.raises(ConfigError, match="peak shape"):
        Peak(1000, 5, shape="box")
    with pytest.raises(ConfigError, match="resolution"):
        Instrument("a", resolution=-2)
    with pytest.raises(ConfigError, match="unique"):
        ComponentLibrary([RAMAN_COMPONENTS["urea"], RAMAN_COMPONENTS["urea"]])
    with pytest.raises(ConfigError, match="share one grid"):
        make_synthetic(
            5,
            instruments=[Instrument("a"), Instrument("b", axis=(0, 10, 5))],
            return_components=True,
        )
    with pytest.raises(ConfigError, match="unknown option"):
        make_multi_instrument(5, 2, noise=3)


def test_instrument_noise_overrides_and_multi_instrument_components():
    quiet = Instrument("quiet", read_noise=0.0, shot_noise=0.0, spike_rate=0.0)
    loud = Instrument("loud", read_noise=50.0, axis=(400, 1800, 500), spike_rate=3.0)
    blocks, parts = make_multi_instrument(
        40,
        [quiet, loud],
        measurement=MeasurementSettings(spike_rate=1.0),
        seed=0,
        return_components=True,
    )
    assert np.all(parts["quiet"]["noise"] == 0) and len(parts["quiet"]["spike_positions"]) == 0
    assert parts["loud"]["noise"].std() > 40
    assert 60 < len(parts["loud"]["spike_positions"]) < 180  # Poisson(3) x 40
    assert parts["loud"]["signal"].shape == (40, 500) and blocks["loud"].n_points == 500
    q = parts["quiet"]
    np.testing.assert_allclose(blocks["quiet"].values, q["signal"] + q["baseline"], rtol=1e-6)
    # the same samples: identical concentrations behind both blocks
    np.testing.assert_array_equal(parts["quiet"]["concentrations"], parts["loud"]["concentrations"])
    assert Instrument.random("r", seed=3) == Instrument.random("r", seed=3)
    assert Instrument.random("r", seed=3) != Instrument.random("r", seed=4)


def test_per_spectrum_shift_jitter_matches_exactly_shifted_peaks():
    lib = ComponentLibrary([Component("line", (Peak(1000.0, 12.0, 1.0, "gaussian"),))])
    s, parts = make_synthetic(
        50,
        mixture=MixtureSettings(library=lib, concentration_range=(1.0, 1.0)),
        background=BackgroundSettings(baseline=None),
        measurement=MeasurementSettings(shift_jitter=1.0, read_noise=0.0, shot_noise=0.0),
        seed=9,
        return_components=True,
    )
    shifts = s.meta["axis_shift"].to_numpy()
    assert 0.6 < shifts.std() < 1.4
    exact = 1000.0 * np.stack([make_peaks(X, 1000.0 + d, 12.0) for d in shifts])
    # third-order Taylor expansion: error ~ (d / fwhm)^4 of the peak height
    err = np.abs(parts["signal"] - exact).max(axis=1) / 1000.0
    tenth, fifth = np.abs(shifts) < 12.0 / 10, np.abs(shifts) < 12.0 / 5
    assert tenth.sum() > 30 and fifth.sum() > 45
    assert err[tenth].max() < 1e-3 and err[fifth].max() < 1e-2
    centroid = (parts["signal"] * X).sum(1) / parts["signal"].sum(1)
    np.testing.assert_allclose(centroid, 1000.0 + shifts, atol=0.05)


# The named steps of the generators: which instrument measures which sample, and with what.
def _steps_inputs(n: int, n_inst: int, seed: int = 7):
    from spectrakit.datasets import _settings as st
    from spectrakit.datasets._samples import draw_samples

    settings = st.settings_from(seed, {"mixture": MixtureSettings(n_components=2)})
    seeds = st.seed_sequence(seed, extra=True).spawn(3)
    samples = draw_samples(n, settings, np.random.default_rng(seeds[0]))
    insts = [Instrument(f"i{j}", shift=float(j)) for j in range(n_inst)]
    return samples, insts, settings, seeds


def test_each_sample_is_measured_once_on_its_assigned_instrument():
    from spectrakit.datasets.synthetic import _measure_assigned

    samples, insts, settings, seeds = _steps_inputs(40, 3)
    blocks, assign = _measure_assigned(samples, insts, settings, seeds, False)
    assert len(blocks) == 3 and assign.shape == (40,)
    rows = np.concatenate([r for r, _ in blocks])
    assert sorted(rows.tolist()) == list(range(40))  # every sample exactly once
    for j, (r, res) in enumerate(blocks):
        assert (assign[r] == j).all() and res.values.shape == (r.size, X.size)
    assert len(set(assign.tolist())) == 3  # 40 draws of 3 instruments reach all three
    again, assign2 = _measure_assigned(*_steps_inputs(40, 3), False)  # the same seed
    np.testing.assert_array_equal(assign2, assign)
    for (_, a), (_, b) in zip(blocks, again, strict=True):
        np.testing.assert_array_equal(a.values, b.values)


def test_every_instrument_measures_every_sample_with_its_own_noise():
    from spectrakit.datasets.synthetic import _measure_every

    samples, insts, settings, seeds = _steps_inputs(12, 2)
    blocks, comps = _measure_every(samples, insts, settings, seeds, True)
    assert list(blocks) == ["i0", "i1"] and list(comps) == ["i0", "i1"]
    for name, s in blocks.items():
        assert s.n_spectra == 12 and (s.meta["instrument"] == name).all()
        parts = comps[name]
        total = parts["signal"] + parts["baseline"] + parts["noise"] + parts["spikes"]
        np.testing.assert_allclose(total, s.values, rtol=1e-5, atol=1e-2)
    assert not np.allclose(comps["i0"]["noise"], comps["i1"]["noise"])
    plain, none = _measure_every(*_steps_inputs(12, 2), False)
    assert none == {}
    np.testing.assert_allclose(plain["i1"].values, blocks["i1"].values, rtol=1e-6)


def test_instruments_from_a_count_or_a_list():
    from spectrakit.datasets.synthetic import _instruments

    _, insts, settings, _ = _steps_inputs(4, 2)
    rng = np.random.default_rng(0)
    made = _instruments(3, settings, rng)
    assert len(made) == 3 and len({i.name for i in made}) == 3
    assert _instruments(insts, settings, rng) == insts
    with pytest.raises(ConfigError):
        _instruments(True, settings, rng)  # a bool is not a count


@pytest.mark.parametrize("bad", [True, 2.5, "abc", [Instrument("a"), 3]])
def test_instruments_that_are_neither_a_list_nor_a_count_are_refused_in_one_line(bad):
    with pytest.raises(ConfigError, match="instruments must be Instrument objects") as info:
        make_synthetic(5, instruments=bad)
    assert "\n" not in str(info.value)
