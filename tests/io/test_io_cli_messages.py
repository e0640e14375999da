"""`info` counts NaN instead of refusing the file; `convert` to a read-only format says so."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.cli import main
from spectrakit.core.errors import DataError


def test_info_reports_nan_counts(tmp_path, capsys):
    path = tmp_path / "nan.csv"
    path.write_text("id,400,401,402\na,1,,3\nb,1,2,3\nc,,,1\n")
    assert main(["info", str(path)]) == 0
    assert "2 spectra contain NaN" in capsys.readouterr().out


def test_reading_nan_needs_the_option(tmp_path):
    path = tmp_path / "nan.csv"
    path.write_text("id,400,401,402\na,1,,3\n")
    with pytest.raises(DataError, match="NaN"):
        sk.read(path)
    s = sk.read(path, allow_nan=True)
    assert int(np.isnan(s.values).sum()) == 1


def test_convert_to_spc_names_the_writable_formats(tmp_path, capsys):
    src = tmp_path / "x.csv"
    sk.io.write(sk.Spectra(np.ones((2, 3)), [1.0, 2.0, 3.0]), src)
    assert main(["convert", str(src), str(tmp_path / "y.spc")]) == 2
    err = capsys.readouterr().err
    assert "no spc writer" in err and "parquet" in err and "Traceback" not in err
    assert not (tmp_path / "y.spc").exists()
