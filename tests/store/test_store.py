"""The on-disk store: exact round trips, atomic chunks, and streaming with flat memory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectrakit import SpectralAxis
from spectrakit.core.errors import DataError, FormatError
from spectrakit.data import PretrainDataModule, SpectraStore
from spectrakit.training import pretrain


def rss_mb() -> float:
    """Resident set size of this process from /proc (Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS")


def test_round_trip_and_random_reads(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 50)).astype(np.float32)
    with SpectraStore.create(tmp_path / "s", SpectralAxis(np.arange(50.0)), chunk_size=300) as st:
        st.append(x[:450])
        st.append(x[450:])
    store = SpectraStore.open(tmp_path / "s")
    assert len(store) == 1000 and store.shape == (1000, 50)
    index = json.loads((tmp_path / "s" / "store.json").read_text())
    assert [c["rows"] for c in index["chunks"]] == [300, 300, 300, 100]
    idx = rng.integers(0, 1000, 300)
    np.testing.assert_array_equal(store.read(idx), x[idx])
    np.testing.assert_array_equal(store.read(np.arange(290, 320)), x[290:320])  # across chunks
    np.testing.assert_array_equal(store.to_spectra([5]).values, x[5:6])


def test_bad_input_is_refused(tmp_path):
    store = SpectraStore.create(tmp_path / "s", SpectralAxis(np.arange(10.0)))
    with pytest.raises(DataError, match="wrong shape"):
        store.append(np.ones((3, 11)))
    with pytest.raises(DataError, match="NaN"):
        store.append(np.full((2, 10), np.nan))
    with pytest.raises(FormatError, match="already exists"):
        SpectraStore.create(tmp_path / "s", SpectralAxis(np.arange(10.0)))
    with pytest.raises(FormatError, match="not a spectra store"):
        SpectraStore.open(tmp_path)


def test_interrupted_writer_leaves_a_valid_store(tmp_path):
    store = SpectraStore.create(tmp_path / "s", SpectralAxis(np.arange(10.0)), chunk_size=4)
    store.append(np.ones((9, 10)))  # two full chunks written, one row buffered
    del store  # the process dies without flush
    reopened = SpectraStore.open(tmp_path / "s")
    assert len(reopened) == 8
    assert not list((tmp_path / "s").glob(".*"))  # no temporary leftovers


@pytest.mark.slow
def test_streaming_200mb_keeps_memory_flat(tmp_path, one_torch_thread):
    """50,000 x 1,000 float32 (200 MB) streamed in random batches: RSS grows < 60 MB."""
    n, p = 50_000, 1000
    axis = SpectralAxis(np.linspace(400.0, 1800.0, p))
    rng = np.random.default_rng(0)
    base = np.exp(-0.5 * ((axis.values - 1000.0) / 30.0) ** 2).astype(np.float32)
    with SpectraStore.create(tmp_path / "big", axis, chunk_size=8192) as store:
        for _ in range(n // 5000):  # never more than 20 MB in memory while writing
            block = rng.uniform(0, 1, (5000, 1)).astype(np.float32) * base
            store.append(block + rng.normal(0, 0.01, (5000, p)).astype(np.float32))
    store = SpectraStore.open(tmp_path / "big")
    assert len(store) == n

    dm = PretrainDataModule([store], patch_size=16, batch_size=256)
    dm.setup()
    before = rss_mb()
    total = 0
    for i in range(len(dm.train_dataset)):  # one full pass: every row read once on average
        total += dm.train_dataset[i]["x"].shape[0]
    grown = rss_mb() - before
    assert total >= 0.9 * n
    assert grown < 60, f"RSS grew by {grown:.0f} MB while streaming 200 MB"

    out = pretrain(
        store, model="specbert_tiny", max_steps=4, batch_size=64, out=tmp_path / "enc",
        progress=False, loggers=(), patience=None,
    )  # fmt: skip
    assert json.loads((out / "config.json").read_text())["training"]["steps"] == 4
