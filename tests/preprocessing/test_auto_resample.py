"""A step that needs a uniform grid gets one: resampled, logged, and kept in the pipeline."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.core.errors import PreprocessingError
from spectrakit.preprocessing import Pipeline, SavitzkyGolay, get_pipeline, list_presets
from spectrakit.preprocessing._pipeline import uniform_grid


def _uneven(n: int = 40) -> sk.Spectra:
    axis = np.cumsum(np.r_[1000.0, np.tile([1.0, 2.0], 60)])  # spacing 1 and 2, as rounded
    rng = np.random.default_rng(0)
    x = np.sin(axis / 15.0)[None, :] * rng.uniform(0.5, 1.5, (n, 1)) + 0.01 * rng.normal(
        size=(n, axis.size)
    )
    return sk.Spectra(x, axis)


def test_derivative_on_an_uneven_axis_is_resampled_onto_its_finest_grid(caplog):
    data = _uneven()
    pipe = Pipeline([("sg", SavitzkyGolay(window=9, polyorder=2, deriv=1))])
    with caplog.at_level(logging.WARNING, logger="spectrakit.preprocessing"):
        out = pipe.fit_transform(data)
    step = 1.0
    expected_n = int((data.axis.max - data.axis.min) / step) + 1
    assert out.n_points == expected_n and out.axis.is_uniform
    line = f"resampled {data.n_points} -> {expected_n} points at step 1 cm-1 for SavitzkyGolay"
    assert line in caplog.text
    # the grid is part of the pipeline: its config rebuilds the same transform
    steps = [s["step"] for s in pipe.to_config()["steps"]]
    assert steps == ["Resample", "SavitzkyGolay"]
    again = Pipeline.from_config(pipe.to_config(), state=pipe.state_arrays())
    np.testing.assert_allclose(again.transform(data).values, out.values, rtol=1e-6)
    # a derivative of the resampled sine, not of the uneven samples
    grid = out.axis.values
    slope = np.gradient(np.sin(grid / 15.0), grid)
    corr = np.corrcoef(out.values.mean(axis=0)[10:-10], slope[10:-10])[0, 1]
    assert corr > 0.99
    # a uniform axis is left alone
    caplog.clear()
    uniform = sk.Spectra(out.values, out.axis)
    plain = Pipeline([("sg", SavitzkyGolay(window=9, polyorder=2, deriv=1))])
    with caplog.at_level(logging.WARNING, logger="spectrakit.preprocessing"):
        plain.fit(uniform)
    assert "resampled" not in caplog.text
    assert [s["step"] for s in plain.to_config()["steps"]] == ["SavitzkyGolay"]


def test_near_duplicate_positions_do_not_blow_the_grid_up():
    axis = np.r_[np.linspace(0.0, 100.0, 50), 100.0001]
    grid = uniform_grid(sk.SpectralAxis(axis, "cm-1")).target()
    assert grid.size <= 4 * axis.size + 1


@pytest.fixture(scope="module")
def fermentation():
    pytest.importorskip("chemotools", reason="the fermentation data ship with chemotools")
    from spectrakit.datasets import load_fermentation

    process = load_fermentation("test")
    flat = process.values.std(axis=1) == 0  # three constant placeholder rows at the end
    return load_fermentation("train"), process, flat


def test_every_preset_works_on_the_fermentation_set(fermentation):
    train, process, flat = fermentation
    good = process.select(np.flatnonzero(~flat))
    for name in list_presets():
        pipe = get_pipeline(name)
        out = pipe.fit_transform(train)
        assert np.isfinite(out.values).all(), name
        assert np.isfinite(pipe.transform(good).values).all(), name


def test_a_preset_bundle_records_the_grid_and_predicts_the_process(fermentation, tmp_path):
    from spectrakit.training.chemometric import fit_chemometric

    train, process, flat = fermentation
    pred = fit_chemometric(train, ["glucose"], model="pls", pipeline="nir-default",
                           out=tmp_path / "b", ood="none")  # fmt: skip
    steps = [s["step"] for s in pred.config["preprocessing"][0]["steps"]]
    assert steps == ["SNV", "Resample", "SavitzkyGolay"]
    good = process.select(np.flatnonzero(~flat)[:50])
    assert np.isfinite(sk.load(tmp_path / "b").predict(good)["glucose"]).all()
    with pytest.raises(PreprocessingError, match="zero standard deviation"):
        pred.predict(process.select(np.flatnonzero(flat)))
