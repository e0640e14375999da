"""Dig4Bio Raman challenge folder: one table-format CSV per instrument."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.core.errors import AxisError, FormatError
from spectrakit.io import read, read_blocks
from spectrakit.io.formats.dig4bio import read_dig4bio

GLUCOSE_BAND = 1125.0  # a glucose Raman band (cm-1)


def _instrument_csv(path, shift: np.ndarray, n: int, seed: int, fold_name: str = "fold_idx"):
    rng = np.random.default_rng(seed)
    glucose = rng.uniform(0.0, 20.0, n)
    spectra = glucose[:, None] * np.exp(-0.5 * ((shift - GLUCOSE_BAND) / 8.0) ** 2)
    df = pd.DataFrame(spectra, columns=[f"{v:.2f}" for v in shift])
    df["glucose"] = glucose
    df["Na_acetate"] = rng.uniform(0.0, 5.0, n)
    df["Mg_SO4"] = rng.uniform(0.0, 3.0, n)
    df[fold_name] = np.arange(n) % 5
    df.to_csv(path, index=True)  # a pandas index column, as many exports carry
    return glucose


@pytest.fixture
def challenge(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    grid_a = np.arange(300.0, 1800.0, 2.0)
    truth = {
        "anton_532": _instrument_csv(folder / "anton_532.csv", grid_a, 8, 0),
        "tec5": _instrument_csv(folder / "tec5.csv", grid_a, 6, 1, fold_name="fold"),
        "kaiser": _instrument_csv(folder / "kaiser.csv", np.arange(400.0, 1900.0, 1.5), 7, 2),
    }
    return folder, truth


def test_read_blocks_one_per_instrument(challenge):
    folder, truth = challenge
    blocks = read_blocks(folder)
    assert sorted(blocks) == ["anton_532", "kaiser", "tec5"]
    assert blocks["anton_532"].axis.laser_wavelength == 532.0
    assert blocks["kaiser"].axis.laser_wavelength is None  # not stated by the file name
    for name, s in blocks.items():
        assert s.axis.kind == "raman_shift" and s.axis.unit == "cm-1"
        assert set(s.meta["instrument"]) == {name}
        assert list(s.meta.columns) == ["instrument", "glucose", "Na_acetate", "Mg_SO4", "fold"]
        np.testing.assert_allclose(s.meta["glucose"], truth[name])
        strongest = s.axis.values[np.argmax(s.values[np.argmax(truth[name])])]
        assert strongest == pytest.approx(GLUCOSE_BAND, abs=1.0)


def test_read_needs_one_grid(challenge):
    folder, _ = challenge
    with pytest.raises(AxisError, match="combine"):
        read(folder)
    same = read(folder, instruments=["anton_532", "tec5"])
    assert same.n_spectra == 14 and same.meta["instrument"].tolist()[-1] == "tec5"
    combined = sk.combine(list(read_dig4bio(folder).values()))
    assert combined.n_spectra == 21
    assert combined.axis.min >= 400.0 and combined.axis.max <= 1798.0


def test_function_and_errors(challenge, tmp_path):
    folder, _ = challenge
    only = read_dig4bio(folder, instruments=["kaiser"])
    assert list(only) == ["kaiser"] and only["kaiser"].n_spectra == 7
    with pytest.raises(FormatError, match="no data for instrument"):
        read_dig4bio(folder, instruments=["horiba"])
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FormatError, match="not a Dig4Bio challenge folder"):
        read_dig4bio(empty)


def test_sniff_by_target_columns(tmp_path):
    folder = tmp_path / "renamed"
    folder.mkdir()
    glucose = _instrument_csv(folder / "my_probe.csv", np.arange(500.0, 600.0, 1.0), 4, 3)
    blocks = read_blocks(folder)
    assert list(blocks) == ["my_probe"]
    np.testing.assert_allclose(blocks["my_probe"].meta["glucose"], glucose)
