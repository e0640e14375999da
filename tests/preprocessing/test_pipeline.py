"""Pipeline: axis kept through steps, JSON/YAML round trips with fitted state, presets."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from sklearn.base import clone

import spectrakit.preprocessing as pp
from spectrakit import AxisError, ConfigError, Spectra


def stateful_pipeline() -> pp.Pipeline:
    return pp.Pipeline(
        [
            ("crop", pp.Crop(450, 1750, unit="cm-1")),
            ("despike", pp.WhitakerHayes()),
            ("smooth", pp.SavitzkyGolay(9, 3)),
            ("msc", pp.MSC()),
            ("scale", pp.Standardize()),
        ]
    )


def test_spectra_in_spectra_out_keeps_axis_and_meta(raman_like):
    pipe = stateful_pipeline()
    out = pipe.fit_transform(raman_like)
    assert isinstance(out, Spectra)
    assert out.axis.unit == "cm-1" and out.axis.kind == "raman_shift"
    assert out.axis.laser_wavelength == 785.0
    assert out.axis.min >= 450 and out.axis.max <= 1750
    assert out.axis == pipe.output_axis(raman_like.axis)
    assert list(out.meta["sample"]) == list(raman_like.meta["sample"])
    np.testing.assert_allclose(pipe.transform(raman_like).values, out.values)


def test_arrays_with_axis_equal_spectra_path(raman_like):
    X = np.asarray(raman_like.values, dtype=np.float64)
    arr = stateful_pipeline().fit(X, axis=raman_like.axis).transform(X)
    spectra = stateful_pipeline().fit_transform(raman_like)
    assert isinstance(arr, np.ndarray)
    np.testing.assert_allclose(arr, spectra.values, rtol=1e-5, atol=1e-5)


def test_steps_chained_in_float64(raman_like):
    X = np.asarray(raman_like.values, dtype=np.float64)
    pipe = stateful_pipeline().fit(X, axis=raman_like.axis)
    manual, axis = X, raman_like.axis
    for _, step in pipe.steps:
        manual = clone(step).fit(manual, axis=axis).transform(manual)
        axis = step.output_axis(axis)
    np.testing.assert_array_equal(pipe.transform(X), manual)


def test_config_round_trip_with_state_gives_identical_output(raman_like):
    train, test = raman_like[:14], raman_like[14:]
    pipe = stateful_pipeline().fit(train)
    cfg = json.loads(json.dumps(pipe.to_config()))  # plain JSON
    state = pipe.state_arrays()
    assert set(state) == {"input_axis", "3.reference_", "4.mean_", "4.scale_"}
    rebuilt = pp.Pipeline.from_config(cfg, state=state)
    np.testing.assert_array_equal(rebuilt.transform(test).values, pipe.transform(test).values)
    assert rebuilt.transform(test).axis == pipe.transform(test).axis
    # without state the same configuration refits to the same result
    refit = pp.Pipeline.from_config(cfg).fit(train)
    np.testing.assert_array_equal(refit.transform(test).values, pipe.transform(test).values)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_save_load_round_trip(raman_like, tmp_path, suffix):
    train, test = raman_like[:14], raman_like[14:]
    pipe = stateful_pipeline().fit(train)
    path = pipe.save(tmp_path / f"pipe{suffix}")
    text = path.read_text()
    cfg = yaml.safe_load(text) if suffix == ".yaml" else json.loads(text)
    assert [s["step"] for s in cfg["steps"]] == [
        "Crop",
        "WhitakerHayes",
        "SavitzkyGolay",
        "MSC",
        "Standardize",
    ]
    loaded = pp.Pipeline.load(path)
    np.testing.assert_array_equal(loaded.transform(test).values, pipe.transform(test).values)
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind
    unfitted = pp.Pipeline.load(stateful_pipeline().save(tmp_path / f"cfg{suffix}"))
    assert [type(s).__name__ for _, s in unfitted.steps] == [s["step"] for s in cfg["steps"]]


def test_loaded_pipeline_refuses_another_axis(raman_like, tmp_path):
    pipe = pp.Pipeline.load(stateful_pipeline().fit(raman_like).save(tmp_path / "p.json"))
    shifted = Spectra(raman_like.values, raman_like.axis.values + 3.0, raman_like.meta)
    with pytest.raises(AxisError, match="another axis"):
        pipe.transform(shifted)


def test_hand_written_config_and_errors():
    pipe = pp.Pipeline.from_config(
        {"steps": ["SNV", {"step": "savitzkygolay", "params": {"window": 11, "polyorder": 2}}]}
    )
    assert [n for n, _ in pipe.steps] == ["snv", "savitzkygolay"]
    assert pipe.steps[1][1].window == 11
    with pytest.raises(ConfigError, match=r"unknown preprocessing step 'Smooth'.*SavitzkyGolay"):
        pp.Pipeline.from_config({"steps": [{"step": "Smooth"}]})
    with pytest.raises(ConfigError, match=r"unknown parameter.*windw"):
        pp.Pipeline.from_config({"steps": [{"step": "SavitzkyGolay", "params": {"windw": 9}}]})
    with pytest.raises(ConfigError, match="odd"):
        pp.Pipeline.from_config({"steps": [{"step": "SavitzkyGolay", "params": {"window": 8}}]})
    with pytest.raises(ConfigError, match="'steps'"):
        pp.Pipeline.from_config({"stages": []})
    with pytest.raises(ConfigError, match="unknown keys"):
        pp.Pipeline.from_config({"steps": [{"step": "SNV", "param": {}}]})


def test_broken_file_and_missing_state(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [SNV\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        pp.Pipeline.load(bad)
    cfg = pp.Pipeline([("msc", pp.MSC())]).to_config()
    with pytest.raises(ConfigError, match="input axis"):
        pp.Pipeline.from_config(cfg, state={"0.reference_": np.ones(5)})


def test_get_pipeline_accepts_every_spec(tmp_path):
    by_name = pp.get_pipeline("nir-default")
    assert [type(s).__name__ for _, s in by_name.steps] == ["SNV", "SavitzkyGolay"]
    assert by_name.steps[1][1].deriv == 1 and by_name.steps[1][1].window == 15
    path = by_name.save(tmp_path / "nir.yaml")
    assert pp.get_pipeline(path).to_config() == by_name.to_config()
    assert pp.get_pipeline(str(path)).to_config() == by_name.to_config()
    assert pp.get_pipeline(by_name.to_config()).to_config() == by_name.to_config()
    assert pp.get_pipeline(by_name) is by_name
    with pytest.raises(ConfigError, match="raman-default"):
        pp.get_pipeline("raman-defualt")
    with pytest.raises(ConfigError, match="not found"):
        pp.get_pipeline(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="presets only"):
        pp.get_pipeline(path, normalize=True)


def test_raman_default_on_realistic_data(raman_like):
    pipe = pp.get_pipeline("raman-default")
    assert [type(s).__name__ for _, s in pipe.steps] == [
        "Crop",
        "WhitakerHayes",
        "SavitzkyGolay",
        "AsPLS",
    ]
    out = pipe.fit_transform(raman_like)
    assert out.n_points == raman_like.n_points  # 300-1942 covers the whole 400-1800 axis
    axis = out.axis.values
    # the sloped background is gone and the bands are where they were put
    assert abs(axis[np.argmax(out.values.mean(axis=0))] - 1000.0) < 4
    quiet = (axis > 1150) & (axis < 1350)
    assert np.abs(out.values[:, quiet]).mean() < 0.05
    peak = out.values[:, np.argmin(np.abs(axis - 1000.0))]
    np.testing.assert_allclose(peak, raman_like.meta["c1"], rtol=0.1)
    normalized = pp.get_pipeline("raman-default", normalize=True).fit_transform(raman_like)
    np.testing.assert_allclose(normalized.values.max(axis=1), 1.0, rtol=1e-6)


def test_nir_and_ftir_presets_run(raman_like):
    nir = pp.get_pipeline("nir-default").fit_transform(raman_like)
    assert nir.shape == raman_like.shape and np.all(np.isfinite(nir.values))
    ftir = pp.get_pipeline("ftir-default").fit_transform(raman_like)
    assert ftir.axis.min >= 600 and ftir.axis.max <= 1800
    np.testing.assert_allclose(np.linalg.norm(ftir.values, axis=1), 1.0, rtol=1e-5)


def test_raman_preset_needs_a_known_axis(raman_like):
    with pytest.raises(AxisError, match="cm-1"):
        pp.get_pipeline("raman-default").fit(np.asarray(raman_like.values))


def test_clone_and_params(raman_like):
    pipe = stateful_pipeline()
    twin = clone(pipe)
    assert twin.to_config() == pipe.to_config()
    pipe.set_params(smooth__window=11)
    assert pipe.to_config()["steps"][2]["params"]["window"] == 11


# ---------------------------------------------------------------------- spectrakit preprocess
def test_cli_preprocess_writes_output_plot_and_pipeline(raman_like, tmp_path, capsys):
    from spectrakit import read, write
    from spectrakit.cli import main

    src = write(raman_like, tmp_path / "raw.csv")
    out, fig, saved = tmp_path / "clean.csv", tmp_path / "fig.png", tmp_path / "pipe.yaml"
    argv = [
        "preprocess",
        str(src),
        "--pipeline",
        "nir-default",
        "--out",
        str(out),
        "--plot",
        str(fig),
    ]
    assert main([*argv, "--save-pipeline", str(saved)]) == 0
    result = read(out)
    assert result.shape == raman_like.shape
    assert list(result.meta["sample"]) == list(raman_like.meta["sample"])
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and fig.stat().st_size > 10_000
    # the saved pipeline is fitted and reproduces the written output
    again = pp.Pipeline.load(saved).transform(read(src))
    np.testing.assert_allclose(again.values, result.values, rtol=1e-4, atol=1e-4)
    assert "wrote 20 spectra" in capsys.readouterr().out


def test_cli_preprocess_bad_pipeline_is_one_line_exit_2(raman_like, tmp_path, capsys):
    from spectrakit import write
    from spectrakit.cli import main

    src = write(raman_like, tmp_path / "raw.csv")
    out = tmp_path / "clean.csv"
    assert main(["preprocess", str(src), "--pipeline", "raman-fancy", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "unknown pipeline" in err and "raman-default" in err
    assert not out.exists()
