"""Reference data sets shipped with chemotools: shapes, axes, metadata, CLI round trip."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import spectrakit
from spectrakit import DataError
from spectrakit.cli import main
from spectrakit.datasets import load_coffee, load_fermentation, load_fermentation_reference
from spectrakit.datasets.reference import load_builtin

pytest.importorskip("chemotools")


@pytest.fixture(scope="module")
def fermentation_test():
    return load_fermentation("test")


def test_coffee_has_three_balanced_origins_on_a_point_axis():
    coffee = load_coffee()
    assert coffee.shape == (60, 1841)
    assert coffee.meta["origin"].value_counts().to_dict() == {
        "Ethiopia": 20,
        "Brasil": 20,
        "Vietnam": 20,
    }
    # the shipped columns are point indices 0..1840 (no wavenumbers are recorded)
    assert coffee.axis.unit == "channel"
    assert coffee.axis.min == 0 and coffee.axis.max == 1840
    assert coffee.values.dtype == np.float32 and 0.5 < coffee.values.max() < 1.5


def test_fermentation_train_is_21_glucose_standards():
    train = load_fermentation("train")
    assert train.shape == (21, 1047)
    assert train.axis.unit == "cm-1" and train.axis.kind == "wavenumber"
    assert (train.axis.min, train.axis.max) == (428.0, 1833.0)
    glucose = train.meta["glucose"].to_numpy()
    assert glucose.min() == 0.0 and 38 < glucose.max() < 39


def test_fermentation_test_is_1629_online_spectra(fermentation_test):
    s = fermentation_test
    assert s.shape == (1629, 1047)
    assert (s.axis.min, s.axis.max, s.axis.n_points) == (428.0, 1833.0, 1047)
    np.testing.assert_allclose(np.diff(s.meta["time_min"]), 1.25)
    assert s.meta["time_min"].iloc[-1] == pytest.approx(1628 * 1.25)


def test_fermentation_reference_is_34_hplc_rows_in_minutes(fermentation_test):
    ref = load_fermentation_reference()
    assert ref.shape[0] == 34
    assert {"time_min", "glucose"} <= set(ref.columns)
    # the HPLC samples span the on-line run (stored in hours upstream)
    assert ref["time_min"].iloc[0] == 0.0
    assert 2000 < ref["time_min"].max() <= fermentation_test.meta["time_min"].max()
    # glucose is consumed during the fermentation
    assert ref["glucose"].iloc[0] > 40 and ref["glucose"].iloc[-1] < 5


def test_unknown_split_and_builtin_names_are_clear_errors():
    with pytest.raises(DataError, match="'train' or 'test'"):
        load_fermentation("validation")
    with pytest.raises(DataError, match="builtin:coffee"):
        load_builtin("wine")


def test_missing_chemotools_says_how_to_install(monkeypatch):
    # a None entry in sys.modules makes the import fail as if the package were absent
    monkeypatch.setitem(sys.modules, "chemotools.datasets", None)
    with pytest.raises(DataError) as err:
        load_coffee()
    text = str(err.value)
    assert "chemotools" in text and "pip install spectrakit[datasets]" in text


def test_cli_info_on_the_fermentation_test_set(tmp_path, capsys, fermentation_test):
    path = tmp_path / "fermentation_test.csv"
    spectrakit.write(fermentation_test, path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    for text in ("1629", "428", "1833", "1047"):
        assert text in out
    assert main(["info", "builtin:fermentation-test"]) == 0
    assert "1629" in capsys.readouterr().out
