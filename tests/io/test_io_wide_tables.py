"""Tables with thousands of columns read row by row: same result, memory in proportion."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.core.errors import DataError, FormatError


def test_wide_csv_round_trip(tmp_path):
    x = np.linspace(400.0, 4000.0, 6000)
    values = np.random.default_rng(1).random((3, 6000)).astype(np.float32)
    s = sk.Spectra(values, x, meta={"id": ["a", "b", "c"], "y": [1.5, 2.5, 3.5]})
    sk.io.write(s, tmp_path / "w.csv")
    back = sk.read(tmp_path / "w.csv")
    np.testing.assert_array_equal(back.values, s.values)
    np.testing.assert_allclose(back.axis.values, x)
    assert list(back.meta["id"]) == ["a", "b", "c"]
    assert back.meta["y"].dtype.kind == "f"
    assert back.axis.unit == s.axis.unit


def test_wide_csv_errors(tmp_path):
    header = ",".join(str(400 + i) for i in range(5000))
    path = tmp_path / "bad.csv"
    path.write_text(header + "\n" + ",".join(["1"] * 4999) + "\n")
    with pytest.raises(FormatError, match="ragged"):
        sk.read(path)
    path.write_text(header + "\n" + ",".join(["1"] * 4999 + ["x"]) + "\n")
    with pytest.raises(DataError, match="non-numeric"):
        sk.read(path)
    path.write_text(header + "\n" + ",".join(["1"] * 4999 + [""]) + "\n")
    assert int(np.isnan(sk.read(path, allow_nan=True).values).sum()) == 1
