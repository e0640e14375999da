"""core/spectra.py is split by job; every public name keeps its old import path."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
import spectrakit.core as core
import spectrakit.core.spectra as spectra_module
from spectrakit.core.common_grid import combine
from spectrakit.core.errors import DataError
from spectrakit.core.spectra_inputs import as_meta, as_values, check_finite
from spectrakit.core.table_columns import axis_column_names, split_table_columns


def test_old_paths_give_the_same_objects():
    assert spectra_module.combine is combine is sk.combine is core.combine
    assert spectra_module.axis_column_names is axis_column_names
    assert spectra_module.split_table_columns is split_table_columns
    with pytest.raises(AttributeError):
        spectra_module.no_such_name  # noqa: B018


def test_table_columns_round_trip():
    axis = sk.SpectralAxis(np.array([400.0, 400.5, 1000.125]), unit="cm-1")
    names = axis_column_names(axis)
    assert names == ["400", "400.5", "1000.125"]
    spectral, meta, values = split_table_columns(["id", *names, "label", True])
    assert spectral == names and meta == ["id", "label", True]
    np.testing.assert_array_equal(values, axis.values)


def test_inputs_are_validated_with_their_position():
    assert as_values([1.0, 2.0]).shape == (1, 2) and as_values([[1.0]]).dtype == np.float32
    with pytest.raises(DataError, match="overflow float32"):
        as_values([[1e300]])
    with pytest.raises(DataError, match="spectrum 1, point 0"):
        check_finite(np.array([[1.0], [np.inf]], dtype=np.float32), allow_nan=True)
    check_finite(np.array([[np.nan]], dtype=np.float32), allow_nan=True)
    with pytest.raises(DataError, match="3 rows"):
        as_meta({"a": [1, 2]}, 3)


def test_spectra_module_has_one_job():
    from pathlib import Path

    lines = Path(spectra_module.__file__).read_text(encoding="utf-8").count("\n")
    assert lines < 550, f"core/spectra.py grew back to {lines} lines"


def test_axis_label_is_one_rule_for_every_plot():
    raman = sk.SpectralAxis(np.array([100.0, 200.0]), unit="cm-1", kind="raman_shift")
    assert raman.label() == "Raman shift (cm-1)"
    assert raman.label(tex=True) == "Raman shift (cm$^{-1}$)"
    nm = sk.SpectralAxis(np.array([500.0, 600.0]), unit="nm")
    assert nm.label() == "Wavelength (nm)"
