"""The benchmark applies a case's declared target bound to every column, after the choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    import benchmarks.accuracy as bench

    return bench


def test_fermentation_declares_glucose_non_negative(bench):
    split = bench.CASES["fermentation"](0, True)
    assert split.target_min == 0.0 == bench.FERMENTATION_TARGET_MIN
    assert "glucose" not in split.test.meta.columns
    assert split.y.min() >= 0.0  # the standards agree with the declared bound


def test_declared_bound_clips_every_column_and_keeps_the_unbounded_auto(bench):
    split = bench.CASES["nir-30"](0, True)  # analyte fractions: >= 0
    split.deep, split.target_min = (), 0.0
    result = bench.run_split(split, 0, True)
    scores = result["scores"]
    assert {"auto", "auto (unbounded)", "PLS"} <= set(scores)
    assert scores["auto"]["score"] <= scores["auto (unbounded)"]["score"] + 1e-12
    assert result["below_target_min"] is None  # no unlabeled target spectra in this case
    split.target_min = None  # no bound declared: no extra column, nothing recorded
    split.sealed = bench.SealedTargets(np.zeros(len(split.test.values)), name="y")
    again = bench.run_split(split, 0, True)
    assert "auto (unbounded)" not in again["scores"] and again["below_target_min"] is None
