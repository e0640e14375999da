"""Row-block parallelism: large blocks are cut into bounded chunks that change no value."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit.preprocessing as pp
from spectrakit.core import threads


def test_a_large_block_is_cut_into_chunks_of_bounded_size(monkeypatch):
    monkeypatch.setattr(threads, "CHUNK_SIZE", 10_000)
    X = np.arange(3_000 * 100, dtype=np.float64).reshape(3_000, 100)
    seen: list[int] = []

    def twice(block: np.ndarray) -> np.ndarray:
        seen.append(block.shape[0])
        return 2.0 * block

    out = threads.map_rows(twice, X, min_size=1)
    np.testing.assert_array_equal(out, 2.0 * X)  # in order, every row once
    assert sum(seen) == 3_000 and len(seen) == 30
    assert max(seen) * X.shape[1] <= 10_000  # no chunk above CHUNK_SIZE values


def test_small_blocks_run_in_one_call():
    seen: list[int] = []
    threads.map_rows(lambda b: seen.append(b.shape[0]) or b, np.ones((50, 100)))
    assert seen == [50]


@pytest.mark.parametrize(
    "step",
    [pp.AsPLS(lam=1e5), pp.SavitzkyGolay(11, 3, deriv=1), pp.WhitakerHayes()],
    ids=lambda s: type(s).__name__,
)
def test_chunked_steps_equal_one_call_bit_for_bit(monkeypatch, step):
    """Chunks of 7 rows give every spectrum the result of one whole-block call."""
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 500)
    bands = np.exp(-(((axis - 1000.0) / 25.0) ** 2)) + 0.5 * np.exp(-(((axis - 1400) / 9) ** 2))
    X = bands * rng.uniform(0.5, 2, (500, 1)) + np.linspace(0, 1, axis.size) ** 2
    X = X + rng.normal(0, 0.01, X.shape)
    X[::3, 250] += 40.0  # cosmic-ray spikes, so the despiking filter runs
    monkeypatch.setattr(threads, "N_THREADS", 1)
    monkeypatch.setattr(threads, "CHUNK_SIZE", 10**12)
    whole = step.fit(X, axis=axis).transform(X)  # one call over the whole block
    monkeypatch.setattr(threads, "N_THREADS", 2)
    monkeypatch.setattr(threads, "PARALLEL_MIN_SIZE", 1)
    monkeypatch.setattr(threads, "CHUNK_SIZE", 7 * axis.size)
    cuts: list[int] = []
    bounds = threads._bounds

    def spy(*args: int) -> np.ndarray | None:
        got = bounds(*args)
        cuts.append(0 if got is None else len(got) - 1)
        return got

    monkeypatch.setattr(threads, "_bounds", spy)
    np.testing.assert_array_equal(step.transform(X), whole)
    assert cuts and max(cuts) > 70  # the step really ran in chunks of 7 rows
