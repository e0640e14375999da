"""Baseline correction: one battery of tests applied to every method, plus what is specific.

Reference results come from pybaselines (one call per spectrum); known answers come from
synthetic spectra whose true baseline is known.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pytest
from pybaselines import Baseline
from scipy.spatial import ConvexHull
from sklearn.base import clone

from spectrakit import Spectra
from spectrakit.core.errors import SpectraError
from spectrakit.preprocessing.baseline import (
    SNIP,
    AirPLS,
    ArPLS,
    AsLS,
    AsPLS,
    DrPLS,
    IModPoly,
    ModPoly,
    Rubberband,
)
from spectrakit.preprocessing.baseline._lanes import LANES

N_SPECTRA, N_POINTS = 8, 500
AXIS = np.linspace(400.0, 1800.0, N_POINTS)


def smooth_background(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Sloped polynomial + broad fluorescence hump, different per spectrum (n, p)."""
    t = (x - x[0]) / (x[-1] - x[0])
    slope = rng.uniform(0.5, 1.5, (n, 1))
    hump = rng.uniform(1.0, 2.0, (n, 1))
    return 2.0 + slope * t + 0.5 * t**2 + hump * np.exp(-(((t - 0.3) / 0.5) ** 2))


def convex_background(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Convex background (fluorescence tail + offset), as a rubber band can follow."""
    t = (x - x[0]) / (x[-1] - x[0])
    return 1.0 + rng.uniform(1.0, 2.0, (n, 1)) * (t - rng.uniform(0.4, 0.6, (n, 1))) ** 2


def peaks(x: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Six Gaussian and Lorentzian Raman-like bands per spectrum (n, p), heights 0.3-1."""
    out = np.zeros((n, x.size))
    for k in range(n):
        for center in rng.uniform(480.0, 1720.0, 6):
            height, width = rng.uniform(0.3, 1.0), rng.uniform(5.0, 10.0)
            if rng.random() < 0.5:
                out[k] += height * np.exp(-0.5 * ((x - center) / width) ** 2)
            else:
                out[k] += height / (1.0 + ((x - center) / width) ** 2)
    return out


def synthetic(background=smooth_background, x=AXIS, seed=0, noise=0.005):
    """(spectra, true baselines), both (N_SPECTRA, n_points)."""
    rng = np.random.default_rng(seed)
    base = background(x, rng, N_SPECTRA)
    y = base + peaks(x, rng, N_SPECTRA) + rng.normal(0.0, noise, (N_SPECTRA, x.size))
    return y, base


def pybaselines_loop(name: str, x: np.ndarray, Y: np.ndarray, **kwargs) -> np.ndarray:
    fitter = Baseline(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.stack([getattr(fitter, name)(y, **kwargs)[0] for y in Y])


class BaselineTester:
    """Battery every baseline method must pass; subclasses set what differs."""

    cls: type
    kwargs: ClassVar[dict] = {}
    #: pybaselines method name and arguments (None: no reference implementation)
    reference: str | None = None
    reference_kwargs: ClassVar[dict] = {}
    #: max |ours - pybaselines| / signal range on realistic spectra
    reference_rtol = 1e-5
    background = staticmethod(smooth_background)
    #: max RMSE(estimated - true baseline) / peak-to-peak of the true baseline
    recovery_tol = 0.05
    bad_params: tuple[dict, ...] = ()

    def make(self, **extra):
        return self.cls(**{**self.kwargs, **extra})

    def data(self, seed=0):
        return synthetic(self.background, seed=seed)

    def test_input_not_mutated(self):
        y, _ = self.data()
        before = y.copy()
        self.make().fit_transform(y)
        self.make().baseline(y)
        np.testing.assert_array_equal(y, before)

    def test_matches_pybaselines(self):
        if self.reference is None:
            pytest.skip("no pybaselines counterpart")
        y, _ = self.data()
        ours = self.make().baseline(y, axis=AXIS)
        ref = pybaselines_loop(self.reference, AXIS, y, **self.reference_kwargs)
        rel = np.abs(ours - ref).max(axis=1) / np.ptp(y, axis=1)
        assert rel.max() < self.reference_rtol, rel

    def test_recovers_known_baseline(self):
        y, true = self.data(seed=1)
        est = self.make().baseline(y, axis=AXIS)
        rmse = np.sqrt(np.mean((est - true) ** 2, axis=1))
        assert (rmse / np.ptp(true, axis=1)).max() < self.recovery_tol
        # and far better than no correction at all (the spectrum as its own baseline)
        assert np.all(rmse < 0.3 * np.sqrt(np.mean((y - true) ** 2, axis=1)))

    def test_transform_subtracts_baseline(self):
        y, _ = self.data()
        step = self.make()
        np.testing.assert_allclose(step.fit_transform(y), y - step.baseline(y), atol=1e-12)

    def test_batch_equals_single(self):
        y, _ = self.data()
        batch = self.make().baseline(y, axis=AXIS)
        for k in (0, 5):
            single = self.make().baseline(y[k : k + 1], axis=AXIS)
            np.testing.assert_allclose(single[0], batch[k], rtol=0, atol=1e-12)

    def test_spectra_in_spectra_out(self):
        y, _ = self.data()
        spectra = Spectra(y, AXIS, meta={"id": [f"s{i}" for i in range(N_SPECTRA)]}, unit="cm-1")
        out = self.make().fit(spectra).transform(spectra)
        assert isinstance(out, Spectra)
        np.testing.assert_array_equal(out.axis.values, spectra.axis.values)
        assert out.axis.unit == "cm-1"
        assert list(out.meta["id"]) == list(spectra.meta["id"])
        expected = spectra.values - self.make().baseline(spectra)
        np.testing.assert_allclose(out.values, expected, atol=1e-5)

    def test_constant_spectrum(self):
        y = np.full((2, N_POINTS), 3.0)
        base = self.make().baseline(y)
        np.testing.assert_allclose(base, 3.0, atol=1e-6)

    def test_output_finite(self):
        y, _ = self.data()
        assert np.all(np.isfinite(self.make().fit_transform(y)))

    def test_nan_input_raises(self):
        y, _ = self.data()
        y[2, 10] = np.nan
        with pytest.raises(SpectraError, match="NaN"):
            self.make().baseline(y)
        with pytest.raises(SpectraError, match="NaN"):
            self.make().fit_transform(y)

    def test_bad_parameters_raise(self):
        y, _ = self.data()
        for params in self.bad_params:
            with pytest.raises(SpectraError, match="invalid"):
                self.make(**params).baseline(y)

    def test_sklearn_params_and_clone(self):
        step = self.make()
        assert clone(step).get_params() == step.get_params()


class TestAsLS(BaselineTester):
    cls = AsLS
    kwargs: ClassVar[dict] = {"lam": 1e5, "p": 0.01}
    reference = "asls"
    reference_kwargs: ClassVar[dict] = {"lam": 1e5, "p": 0.01}
    bad_params = ({"lam": 0.0}, {"lam": -1.0}, {"p": 0.0}, {"p": 1.0}, {"p": 1.5})


class TestArPLS(BaselineTester):
    cls = ArPLS
    kwargs: ClassVar[dict] = {"lam": 1e5}
    reference = "arpls"
    reference_kwargs: ClassVar[dict] = {"lam": 1e5}
    bad_params = ({"lam": 0.0}, {"diff_order": 0}, {"max_iter": -1})


class TestAirPLS(BaselineTester):
    cls = AirPLS
    kwargs: ClassVar[dict] = {"lam": 1e5}
    reference = "airpls"
    reference_kwargs: ClassVar[dict] = {"lam": 1e5}
    bad_params = ({"lam": -5.0}, {"tol": -1.0})


class TestAsPLS(BaselineTester):
    cls = AsPLS
    kwargs: ClassVar[dict] = {"lam": 1e5, "method": "reference"}
    reference = "aspls"
    reference_kwargs: ClassVar[dict] = {"lam": 1e5}
    # asPLS's adaptive smoothness amplifies rounding from one iteration to the next:
    # pybaselines' own result moves by ~1e-6..1e-5 of the range under 1e-13 input changes.
    reference_rtol = 1e-3
    bad_params = ({"lam": 0.0}, {"asymmetric_coef": 0.0})


class TestAsPLSFast(BaselineTester):
    """The default fast solver; its pybaselines contract is on the objective (test_aspls_fast)."""

    cls = AsPLS
    kwargs: ClassVar[dict] = {"lam": 1e5}
    bad_params = ({"lam": 0.0}, {"asymmetric_coef": 0.0}, {"method": "quick"})


class TestDrPLS(BaselineTester):
    cls = DrPLS
    kwargs: ClassVar[dict] = {"lam": 1e5}
    reference = "drpls"
    reference_kwargs: ClassVar[dict] = {"lam": 1e5}
    bad_params = ({"lam": 0.0}, {"eta": 1.5}, {"diff_order": 1})


class TestModPoly(BaselineTester):
    cls = ModPoly
    kwargs: ClassVar[dict] = {"poly_order": 3}
    reference = "modpoly"
    reference_kwargs: ClassVar[dict] = {"poly_order": 3}
    bad_params = ({"poly_order": -1}, {"tol": -1.0})


class TestIModPoly(BaselineTester):
    cls = IModPoly
    kwargs: ClassVar[dict] = {"poly_order": 3}
    reference = "imodpoly"
    reference_kwargs: ClassVar[dict] = {"poly_order": 3}
    bad_params = ({"num_std": -1.0}, {"poly_order": 2.5})


class TestSNIP(BaselineTester):
    cls = SNIP
    kwargs: ClassVar[dict] = {"max_half_window": 15}
    reference = "snip"
    reference_kwargs: ClassVar[dict] = {"max_half_window": 15}
    bad_params = ({"max_half_window": 0}, {"filter_order": 3})


class TestRubberband(BaselineTester):
    cls = Rubberband
    background = staticmethod(convex_background)

    def test_matches_convex_hull_reference(self):
        y, _ = self.data()
        ours = Rubberband().baseline(y, axis=AXIS)
        for k in range(N_SPECTRA):
            hull = ConvexHull(np.column_stack([AXIS, y[k]]))
            # lower hull: facets whose outward normal points down
            lower = np.unique(hull.simplices[hull.equations[:, 1] < 0])
            ref = np.interp(AXIS, AXIS[lower], y[k, lower])
            np.testing.assert_allclose(ours[k], ref, atol=1e-9)


@pytest.mark.parametrize(
    ("est", "name", "kwargs"),
    [
        (ModPoly(poly_order=3), "modpoly", {"poly_order": 3}),
        (ModPoly(poly_order=2, mask_initial_peaks=True), "modpoly", {"mask_initial_peaks": True}),
        (IModPoly(poly_order=3), "imodpoly", {"poly_order": 3}),
    ],
)
def test_polynomial_matches_pybaselines_on_non_uniform_axis(est, name, kwargs):
    x = 400.0 + 1400.0 * np.linspace(0.0, 1.0, N_POINTS) ** 2
    y, _ = synthetic(x=x)
    ref = pybaselines_loop(name, x, y, **kwargs)
    np.testing.assert_allclose(est.baseline(y, axis=x), ref, atol=1e-8 * np.ptp(y))


def test_polynomial_and_rubberband_use_the_real_axis():
    # a quadratic (convex) in wavenumber, sampled very unevenly: exactly its own baseline
    x = 400.0 + 1400.0 * np.linspace(0.0, 1.0, N_POINTS) ** 3
    y = (1e-6 * (x - 900.0) ** 2 + 1.0)[None]
    for est in (ModPoly(poly_order=2), IModPoly(poly_order=2), Rubberband()):
        np.testing.assert_allclose(est.baseline(y, axis=x), y, rtol=1e-9)
    # on point indices the same curve is not a quadratic: index-based fits would miss it
    assert np.abs(ModPoly(poly_order=2).baseline(y) - y).max() > 1e-2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_half_window": 20, "filter_order": 4, "decreasing": True},
        {"max_half_window": 15, "filter_order": 8, "smooth_half_window": 2},
    ],
)
def test_snip_options_match_pybaselines(kwargs):
    y, _ = synthetic()
    ref = pybaselines_loop("snip", AXIS, y, **kwargs)
    np.testing.assert_allclose(SNIP(**kwargs).baseline(y), ref, atol=1e-10 * np.ptp(y))


@pytest.mark.parametrize(
    ("cls", "name", "diff_order"),
    [
        (ArPLS, "arpls", 1),
        (ArPLS, "arpls", 3),
        (AsLS, "asls", 1),
        (AirPLS, "airpls", 3),
        (DrPLS, "drpls", 3),
    ],
)
def test_whittaker_other_difference_orders_match_pybaselines(cls, name, diff_order):
    # orders other than 2 take the lane-by-lane solves (drPLS: the general banded LU)
    y, _ = synthetic()
    lam = 1e2 if diff_order == 1 else 1e7
    ours = cls(lam=lam, diff_order=diff_order).baseline(y)
    ref = pybaselines_loop(name, AXIS, y, lam=lam, diff_order=diff_order)
    assert (np.abs(ours - ref).max(axis=1) / np.ptp(y, axis=1)).max() < 1e-5


def test_whittaker_stops_at_max_iter_like_pybaselines():
    y, _ = synthetic()
    ours = AsLS(lam=1e5, p=0.01, max_iter=2).baseline(y)
    ref = pybaselines_loop("asls", AXIS, y, lam=1e5, p=0.01, max_iter=2)
    np.testing.assert_allclose(ours, ref, atol=1e-8 * np.ptp(y))


def test_airpls_normalized_weights_match_pybaselines():
    y, _ = synthetic()
    ours = AirPLS(lam=1e5, normalize_weights=True).baseline(y)
    ref = pybaselines_loop("airpls", AXIS, y, lam=1e5, normalize_weights=True)
    assert (np.abs(ours - ref).max(axis=1) / np.ptp(y, axis=1)).max() < 1e-5


def test_too_short_spectra_raise():
    with pytest.raises(SpectraError, match="at least 4 points"):
        ModPoly(poly_order=3).baseline(np.ones((1, 3)))


@pytest.mark.parametrize("cls", [AsLS, ArPLS, AirPLS, AsPLS, DrPLS])
def test_whittaker_result_independent_of_batch_composition(cls):
    # over twice as many spectra as the kernels keep in flight, so finished spectra hand
    # their lane over to the next ones, several times per lane
    y = np.concatenate([synthetic(seed=s)[0] for s in range(9)])
    assert len(y) > 2 * LANES
    batch = cls(lam=1e5).baseline(y)
    order = np.random.default_rng(0).permutation(len(y))
    shuffled = cls(lam=1e5).baseline(y[order])
    np.testing.assert_array_equal(shuffled, batch[order])
    for k in (0, 11, 40, len(y) - 1):
        np.testing.assert_array_equal(cls(lam=1e5).baseline(y[k : k + 1])[0], batch[k])
    # a block smaller than the lane count uses only as many lanes as it has spectra
    np.testing.assert_array_equal(cls(lam=1e5).baseline(y[3:8]), batch[3:8])


def test_threaded_chunks_equal_single_thread():
    # 450 x 1000 values is above the size at which rows are split across threads
    y = np.tile(synthetic()[0], (57, 2))[:450]
    full = ArPLS(lam=1e6).baseline(y)
    np.testing.assert_array_equal(full[-3:], ArPLS(lam=1e6).baseline(y[-3:]))


def test_fast_exp_matches_numpy():
    from numba import njit

    from spectrakit.preprocessing.baseline._fastexp import exp, expit

    @njit
    def apply(x, out_exp, out_expit):
        for i in range(x.size):
            out_exp[i] = exp(x[i])
            out_expit[i] = expit(x[i])

    x = np.concatenate([np.linspace(-700.0, 700.0, 20001), [-1e4, 1e4, 0.0]])
    got_exp, got_expit = np.empty_like(x), np.empty_like(x)
    apply(x, got_exp, got_expit)
    inner = np.abs(x) <= 700
    np.testing.assert_allclose(got_exp[inner], np.exp(x[inner]), rtol=5e-16)
    expected = 1.0 / (1.0 + np.exp(-np.clip(x, -700, 700)))
    np.testing.assert_allclose(got_expit, expected, rtol=1e-15, atol=1e-300)


def test_steps_are_registered_for_pipeline_configs():
    from spectrakit.preprocessing import build_step

    step = build_step("ArPLS", {"lam": 1e4})
    assert isinstance(step, ArPLS) and step.lam == 1e4
    with pytest.raises(SpectraError):
        build_step("AsLS", {"p": 2.0})


@pytest.mark.parametrize(
    ("cls", "name", "kwargs"),
    [
        (AsLS, "asls", {"lam": 1e5}),
        (ArPLS, "arpls", {"lam": 1e5}),
        (AirPLS, "airpls", {"lam": 1e5}),
        (DrPLS, "drpls", {"lam": 1e5}),
        (AsLS, "asls", {"lam": 1e5, "max_iter": 2}),
        (AsPLS, "aspls", {"lam": 1e5, "max_iter": 3}),
    ],
)
def test_whittaker_iterations_match_pybaselines_tol_history(cls, name, kwargs):
    # (asPLS runs to convergence along a rounding-sensitive path: its iteration counts
    # differ from pybaselines' by a few; see benchmarks/preprocessing.py, asPLS objective)
    y, _ = synthetic()
    fitter = Baseline(AXIS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = [getattr(fitter, name)(row, **kwargs)[1]["tol_history"] for row in y]
    tol = cls().tol
    step = cls(**kwargs, **({"method": "reference"} if cls is AsPLS else {}))
    step.baseline(y)
    np.testing.assert_array_equal(step.spectrum_n_iter_, [len(h) for h in history])
    assert step.n_iter_ == max(len(h) for h in history)
    np.testing.assert_array_equal(step.converged_, [h[-1] < tol for h in history])
    if "max_iter" in kwargs:  # ran out of iterations: max_iter + 1 solves, not converged
        assert (step.spectrum_n_iter_ == kwargs["max_iter"] + 1).all()
        assert not step.converged_.any()


def test_whittaker_fit_records_diagnostics_and_transform_keeps_state():
    y, _ = synthetic()
    step = AsPLS(lam=1e5).fit(y)
    assert step.spectrum_n_iter_.shape == (N_SPECTRA,) and step.converged_.dtype == bool
    assert (step.spectrum_n_iter_ >= 1).all() and step.n_iter_ == step.spectrum_n_iter_.max()
    before = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in vars(step).items()}
    step.transform(y[:3])  # transform changes nothing on the step
    assert vars(step).keys() == before.keys()
    np.testing.assert_array_equal(step.spectrum_n_iter_, before["spectrum_n_iter_"])
    out = AsPLS(lam=1e5)
    np.testing.assert_array_equal(out.fit_transform(y), step.transform(y))
    np.testing.assert_array_equal(out.spectrum_n_iter_, step.spectrum_n_iter_)
