"""Parquet block streaming: Arrow straight to NumPy and back, bounded memory, exact values."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pyarrow.parquet as pq

import spectrakit as sk
from spectrakit.io.formats.parquet_table import ParquetBlockWriter, iter_parquet
from spectrakit.preprocessing import Pipeline, stream_transform

AXIS = np.linspace(300.0, 1900.0, 300)


def _spectra(n: int, seed: int = 0) -> sk.Spectra:
    rng = np.random.default_rng(seed)
    values = 3 + rng.normal(0, 0.5, (n, AXIS.size)).cumsum(axis=1) / 20
    meta = {"id": np.arange(n), "sample": [f"s{i % 7}" for i in range(n)]}
    return sk.Spectra(values, AXIS, unit="cm-1", kind="raman_shift", meta=meta)


def test_blocks_read_and_written_equal_the_whole_file(tmp_path):
    data = _spectra(250)
    src = sk.write(data, tmp_path / "in.parquet")
    blocks = list(iter_parquet(src, 64))
    assert [b.n_spectra for b in blocks] == [64, 64, 64, 58]
    whole = sk.read(src)
    joined = sk.Spectra.concat(blocks)
    np.testing.assert_array_equal(joined.values, whole.values)
    np.testing.assert_array_equal(joined.axis.values, whole.axis.values)
    assert list(joined.meta["sample"]) == list(whole.meta["sample"])
    assert joined.axis.unit == "cm-1"
    out = tmp_path / "out.parquet"
    with ParquetBlockWriter(out) as writer:
        for block in blocks:
            writer.write(block)
    back = sk.read(out)
    np.testing.assert_array_equal(back.values, data.values)
    assert list(back.meta["id"]) == list(range(250)) and back.axis.unit == "cm-1"
    # intensities are float32 columns without dictionary pages; metadata keeps them
    meta = pq.ParquetFile(out).metadata.row_group(0)
    names = [meta.column(i).path_in_schema for i in range(meta.num_columns)]
    spectral = meta.column(names.index(sk.read(out).to_pandas().columns[2]))
    assert spectral.physical_type == "FLOAT" and not spectral.has_dictionary_page
    assert meta.column(names.index("sample")).has_dictionary_page


def test_integer_spectral_columns_fall_back_to_exact_values(tmp_path):
    data = sk.Spectra(np.arange(20.0).reshape(4, 5), np.arange(5.0) + 100, unit="nm")
    table = data.to_pandas().astype("int64")
    table.to_parquet(tmp_path / "ints.parquet")
    (block,) = iter_parquet(tmp_path / "ints.parquet", 10)
    np.testing.assert_array_equal(block.values, data.values)


def test_streaming_memory_is_bounded_by_blocks_not_the_store(tmp_path):
    data = _spectra(8000, seed=1)  # 8000 x 300: 9.6 MB as float32, 19.2 MB as float64
    src = sk.write(data, tmp_path / "in.parquet")
    del data
    pipeline = Pipeline.from_config(
        {"steps": [{"name": "baseline", "step": "AsPLS", "params": {"lam": 1e4}}]}
    )
    pipeline.fit_transform(_spectra(40))  # kernels loaded before the memory is traced
    out = tmp_path / "out.parquet"
    tracemalloc.start()
    try:
        with ParquetBlockWriter(out) as writer:
            n = stream_transform(pipeline, iter_parquet(src, 100), writer.write, depth=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 8000 and sk.read(out).n_spectra == 8000
    assert peak < 5_000_000, peak  # a few blocks of 100 x 300, not the 9.6 MB store


def test_reading_a_many_row_group_store_keeps_arrow_memory_to_one_group(tmp_path):
    """Arrow's own buffers (unseen by tracemalloc) stay at a block, not the whole file.

    With pyarrow's read-ahead buffering, every row group read stayed allocated until the
    file was closed, so a store streamed through in row groups grew to its full size.
    """
    import pyarrow as pa

    src = tmp_path / "groups.parquet"
    with ParquetBlockWriter(src) as writer:
        for k in range(40):  # 40 row groups of 200 x 300 float32: 240 kB each, 9.6 MB in all
            writer.write(_spectra(200, seed=k))
    assert pq.ParquetFile(src).metadata.num_row_groups == 40
    before, peak, n = pa.total_allocated_bytes(), 0, 0
    for block in iter_parquet(src, 200):
        n += block.n_spectra
        peak = max(peak, pa.total_allocated_bytes() - before)
    assert n == 8000
    assert peak < 2_000_000, peak  # a few groups of 240 kB, not the 9.6 MB file
