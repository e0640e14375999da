"""Streaming preprocessing: Parquet in, blocks through a stateless pipeline, Parquet out."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.cli import main
from spectrakit.core.errors import ConfigError
from spectrakit.preprocessing import (
    MeanCenter,
    Pipeline,
    get_pipeline,
    is_stateless,
    stream_transform,
)

AXIS = np.linspace(300.0, 1900.0, 300)


def _spectra(n: int, seed: int = 0) -> sk.Spectra:
    rng = np.random.default_rng(seed)
    t = (AXIS - AXIS[0]) / np.ptp(AXIS)
    bands = np.exp(-0.5 * ((AXIS - rng.uniform(400, 1800, (n, 1))) / 8.0) ** 2)
    values = 3 + rng.uniform(1, 4, (n, 1)) * t + bands + rng.normal(0, 0.01, (n, AXIS.size))
    return sk.Spectra(values, AXIS, unit="cm-1", meta={"id": np.arange(n)})


def _pipeline() -> Pipeline:
    # steps whose result for a spectrum does not depend on its block, so streaming is exact
    return Pipeline.from_config(
        {
            "steps": [
                {"name": "crop", "step": "Crop", "params": {"low": 350.0, "high": 1850.0}},
                {"name": "despike", "step": "WhitakerHayes", "params": {}},
                {"name": "baseline", "step": "AsPLS", "params": {"lam": 1e5}},
            ]
        }
    )


def test_streamed_blocks_equal_the_in_memory_result_in_order():
    data = _spectra(230)
    written: list[sk.Spectra] = []
    blocks = (data[i : i + 37] for i in range(0, data.n_spectra, 37))
    n = stream_transform(_pipeline(), blocks, written.append, depth=1)
    assert n == 230 and len(written) == 7
    out = sk.Spectra.concat(written)
    ref = _pipeline().fit_transform(data)
    np.testing.assert_array_equal(out.values, ref.values)
    np.testing.assert_array_equal(out.axis.values, ref.axis.values)
    np.testing.assert_array_equal(out.meta["id"], np.arange(230))


def test_stateful_pipeline_is_refused_for_streaming():
    assert is_stateless(get_pipeline("raman-default"))
    stateful = get_pipeline("nir-default")
    stateful.steps.append(("center", MeanCenter()))
    assert not is_stateless(stateful)
    with pytest.raises(ConfigError, match="block by block"):
        stream_transform(stateful, iter([_spectra(5)]), lambda b: None)


def test_a_failing_writer_stops_the_stream_with_its_error():
    def broken(block):
        raise OSError("disk full")

    blocks = (_spectra(10, seed=s) for s in range(50))
    with pytest.raises(OSError, match="disk full"):
        stream_transform(_pipeline(), blocks, broken)


def test_cli_streams_parquet_and_matches_in_memory(tmp_path, capsys):
    data = _spectra(300, seed=1)
    src = sk.write(data, tmp_path / "in.parquet")
    cfg = tmp_path / "pipe.json"
    _pipeline().save(cfg)
    out = tmp_path / "out.parquet"
    args = ["preprocess", str(src), "--pipeline", str(cfg), "--out", str(out)]
    assert main([*args, "--block-size", "64"]) == 0
    assert "wrote 300 spectra" in capsys.readouterr().out
    streamed = sk.read(out)
    ref = _pipeline().fit_transform(sk.read(src))
    np.testing.assert_array_equal(streamed.values, ref.values)
    assert streamed.axis.unit == "cm-1" and list(streamed.meta["id"]) == list(range(300))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet", "pipe.json"]
    assert main([*args, "--block-size", "0"]) == 2


def test_raman_default_streams_within_rounding_of_in_memory(tmp_path):
    # Savitzky-Golay's edge fit rounds differently with the number of rows in a call, and
    # asPLS's stopping at tol=1e-3 can amplify that: the two agree to well within parity
    data = sk.Spectra(_spectra(200, seed=2).values, AXIS, unit="cm-1", kind="raman_shift")
    src = sk.write(data, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    assert main(["preprocess", str(src), "--out", str(out), "--block-size", "50"]) == 0
    ref = get_pipeline("raman-default").fit_transform(data)
    diff = np.abs(sk.read(out).values - ref.values).max(axis=1) / np.ptp(data.values, axis=1)
    assert diff.max() < 1e-2
