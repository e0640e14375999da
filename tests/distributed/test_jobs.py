"""Batch work on a 2-worker Dask LocalCluster equals the single-process path."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import spectrakit
from spectrakit import Spectra, write
from spectrakit.core.errors import ConfigError
from spectrakit.preprocessing import get_pipeline
from spectrakit.preprocessing.quality import summarize

distributed = pytest.importorskip("spectrakit.distributed")
zarr = pytest.importorskip("zarr")

N, P = 100_000, 32


def _spectra(n: int, seed: int = 0) -> Spectra:
    rng = np.random.default_rng(seed)
    axis = np.linspace(1000.0, 2500.0, P)
    c = rng.uniform(0, 1, n)
    values = 1.0 + c[:, None] * np.exp(-0.5 * ((axis - 1700.0) / 90.0) ** 2)
    values = values + rng.normal(0, 0.01, (n, P))
    meta = {"c": c, "batch": np.array(["a", "b", "c"])[np.arange(n) % 3]}
    return Spectra(values, axis, meta=meta, unit="nm", kind="wavelength")


def _write_zarr(spectra: Spectra, path, chunk: int) -> None:
    group = zarr.open_group(str(path), mode="w")
    group.create_array("values", data=spectra.values, chunks=(chunk, P))
    group.create_array("axis", data=spectra.axis.values)
    group.create_array("meta/c", data=spectra.meta["c"].to_numpy())
    group.attrs.update({"unit": "nm", "kind": "wavelength"})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    spectra = _spectra(N)
    _write_zarr(spectra, root / "big.zarr", 12_500)
    return spectra, root / "big.zarr"


@pytest.fixture(scope="module")
def client():
    with distributed.connect("local:2", processes=False) as c:
        yield c


def test_preprocess_on_two_workers_equals_one_process(corpus, client, tmp_path):
    spectra, path = corpus
    out = distributed.preprocess(path, "nir-default", tmp_path / "clean.zarr")
    expected = get_pipeline("nir-default").fit_transform(spectra)
    group = zarr.open_group(str(out), mode="r")
    np.testing.assert_array_equal(group["values"][:], expected.values)
    np.testing.assert_array_equal(group["axis"][:], expected.axis.values)
    np.testing.assert_array_equal(group["meta/c"][:], spectra.meta["c"].to_numpy())
    prov = group.attrs["provenance"]
    assert prov["job"] == "preprocess" and prov["n_spectra"] == N
    assert prov["chunks"] == [12_500] * 8 and prov["source"] == str(path)
    assert [s["name"] for s in prov["pipeline"]["steps"]] == ["snv", "derivative"]
    # the result reads back as a corpus: the same job can continue from it
    again = distributed.open_corpus(out)
    assert again.values.shape == (N, expected.n_points)


def _raman_zarr(path, n: int, p: int, chunk: int) -> Spectra:
    rng = np.random.default_rng(3)
    axis = np.linspace(400.0, 1800.0, p)
    band = np.exp(-0.5 * ((axis - 1000.0) / 8.0) ** 2)
    values = 500 + 0.2 * axis + rng.uniform(50, 200, (n, 1)) * band + rng.normal(0, 2, (n, p))
    values[::97, p // 3] += 400.0  # cosmic rays for the despiking step
    group = zarr.open_group(str(path), mode="w")
    group.create_array("values", data=values, chunks=(chunk, p))
    group.create_array("axis", data=axis)
    group.attrs.update({"unit": "cm-1", "kind": "raman_shift"})
    return Spectra(values, axis, unit="cm-1", kind="raman_shift")


def test_raman_default_on_two_workers_equals_one_process(client, tmp_path):
    """Crop, despike, Savitzky-Golay and AsPLS: every chunk of 250 gives the in-process bits."""
    spectra = _raman_zarr(tmp_path / "raman.zarr", 1_500, 400, 250)
    out = distributed.preprocess(tmp_path / "raman.zarr", "raman-default", tmp_path / "r.zarr")
    expected = get_pipeline("raman-default").fit_transform(spectra)
    group = zarr.open_group(str(out), mode="r")
    assert group.attrs["provenance"]["chunks"] == [250] * 6
    np.testing.assert_array_equal(group["values"][:], expected.values)
    np.testing.assert_array_equal(group["axis"][:], expected.axis.values)


def test_info_equals_summarize(corpus, client):
    spectra, path = corpus
    got = distributed.info(path, rows=20_000)
    want = summarize(Spectra(spectra.values, spectra.axis, meta={"c": spectra.meta["c"]}))
    got.pop("provenance")
    assert got == json.loads(json.dumps(want))


@pytest.mark.parametrize("suffix", [".parquet", ".h5"])
def test_predict_other_formats_equals_predictor(tmp_path, client, suffix):
    from spectrakit.training import fit_supervised

    small = _spectra(3_000, seed=1)
    bundle = tmp_path / "model"
    fit_supervised(
        small[:200], "c", model="mlp_tiny", max_epochs=1, batch_size=32, out=bundle,
        progress=False, loggers=(), patience=None,
    )  # fmt: skip
    path = write(small, tmp_path / f"corpus{suffix}")
    from spectrakit.cli.predict import predictions_table

    expected = predictions_table(small, spectrakit.load(bundle).predict(small))
    csv = distributed.predict(path, bundle, tmp_path / "pred.csv", rows=700)
    pd.testing.assert_frame_equal(pd.read_csv(csv), expected, check_dtype=False)
    parts = distributed.predict(path, bundle, tmp_path / "pred.parquet", rows=700)
    table = pd.read_parquet(parts).reset_index(drop=True)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    prov = json.loads((parts / "_provenance.json").read_text())
    assert prov["chunks"] == [700, 700, 700, 700, 200] and prov["job"] == "predict"


def test_existing_output_and_bad_cluster_are_refused(corpus, client, tmp_path):
    _, path = corpus
    keep = tmp_path / "keep.zarr"
    keep.mkdir()
    (keep / "precious.txt").write_text("x")
    with pytest.raises(ConfigError, match="already exists"):
        distributed.preprocess(path, "nir-default", keep)
    assert (keep / "precious.txt").read_text() == "x"
    for spec in ("local:0", "dask://", "tcp://h:1", "local:two", "dask://h:99999"):
        with pytest.raises(ConfigError):
            distributed.parse_cluster(spec)
    assert distributed.parse_cluster("dask://10.0.0.5:8786") == ("remote", "tcp://10.0.0.5:8786")


def test_learning_pipeline_is_refused(corpus, client, tmp_path):
    _, path = corpus
    spec = {"steps": [{"step": "MSC"}]}  # learns the reference spectrum
    with pytest.raises(ConfigError, match="learns from the data"):
        distributed.preprocess(path, spec, tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()


@pytest.mark.slow
def test_cli_cluster_runs_on_two_worker_processes(tmp_path, capsys):
    from spectrakit.cli import main

    small = _spectra(4_000, seed=2)
    path = write(small, tmp_path / "corpus.parquet")
    out = tmp_path / "clean.zarr"
    assert main(["preprocess", str(path), "--pipeline", "nir-default", "--out", str(out),
                 "--cluster", "local:2", "--chunk-rows", "1000"]) == 0  # fmt: skip
    expected = get_pipeline("nir-default").fit_transform(small)
    np.testing.assert_array_equal(zarr.open_group(str(out), mode="r")["values"][:], expected.values)
    assert (
        main(["info", str(path), "--cluster", "local:2", "--json", str(tmp_path / "i.json")]) == 0
    )
    summary = json.loads((tmp_path / "i.json").read_text())[str(path)]
    assert summary["n_spectra"] == 4_000 and summary["meta"]["batch"]["distinct"] == 3
    capsys.readouterr()
    assert main(["predict", "--model", "x", "--data", str(path), "--cluster", "local:2"]) == 2
    assert "written to a file" in capsys.readouterr().err


def _kernel_threads() -> int:
    from spectrakit.core import threads

    return threads.N_THREADS


@pytest.mark.slow
def test_worker_processes_share_the_cores_between_their_kernel_threads(tmp_path):
    """local:2 gives each worker process half the cores for its kernels, not all of them."""
    import os

    from spectrakit.core import threads

    own = int(threads.N_THREADS)
    spectra = _raman_zarr(tmp_path / "raman.zarr", 400, 200, 100)
    with distributed.connect("local:2") as c:
        c.wait_for_workers(2)
        out = distributed.preprocess(tmp_path / "raman.zarr", "raman-default", tmp_path / "o.zarr")
        used = set(c.run(_kernel_threads).values())
    cores = len(os.sched_getaffinity(0))
    assert used == {max(1, min(own, cores // 2))}
    after = threads.N_THREADS
    assert after == own  # the client's own kernels keep their threads
    expected = get_pipeline("raman-default").fit_transform(spectra).values
    np.testing.assert_array_equal(zarr.open_group(str(out), mode="r")["values"][:], expected)
