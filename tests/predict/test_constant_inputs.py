"""Constant spectra (placeholders, not measurements) are named everywhere they can mislead.

The chemotools fermentation process file ends with three spectra of 1.0 at every point. A
model predicts a number for them like for any spectrum; ``spectrakit info`` must say what
they are (not "saturated"), and every prediction engine warns and flags them ``is_ood``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.cli._app import main
from spectrakit.core.spectra_inputs import constant_rows
from spectrakit.preprocessing.quality import summarize

pytest.importorskip("chemotools", reason="the fermentation data ship with chemotools")
from spectrakit.datasets import load_fermentation


def test_constant_rows_known_answers():
    v = np.array(
        [
            [1.0, 1.0, 1.0, 1.0],  # constant
            [2.0, np.nan, 2.0, 2.0],  # constant where measured
            [np.nan] * 4,  # nothing measured: not called constant
            [1.0, 1.0, 1.0, 1.0 + 1e-6],  # one point differs: a measurement
        ]
    )
    assert constant_rows(v).tolist() == [True, True, False, False]
    assert constant_rows(np.ones((3, 1))).tolist() == [False] * 3  # one point says nothing
    assert constant_rows(np.ones((2, 3, 5))).tolist() == [True, True]  # packed channels


def test_the_real_process_file_has_three_placeholders_not_saturated_spectra(tmp_path, capsys):
    process = load_fermentation("test")
    summary = summarize(process)
    assert summary["spectra_constant"] == 3 and summary["spectra_saturated"] == 0
    sk.io.write(process, tmp_path / "process.parquet")
    assert main(["info", str(tmp_path / "process.parquet")]) == 0
    out = capsys.readouterr().out
    assert "3 spectra are constant" in out and "saturated" not in out


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("constant") / "pls"
    fit = ["finetune", "--data", "builtin:fermentation-train", "--target", "glucose"]
    assert main([*fit, "--model", "pls", "--out", str(out)]) == 0
    return out


def _four() -> sk.Spectra:
    """Two measured process spectra and two of the file's placeholders (rows 1626, 1627)."""
    return load_fermentation("test").select([0, 800, 1626, 1627])


def test_predictions_for_placeholders_warn_and_are_flagged(bundle):
    predictor = sk.load(bundle)
    with pytest.warns(UserWarning, match=r"2 of 4 input spectra are constant \(rows 2, 3"):
        got = predictor.predict(_four())
    assert got["is_ood"].tolist()[2:] == [True, True]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # measured spectra alone: no warning
        clean = predictor.predict(_four().select([0, 1]))
    np.testing.assert_allclose(clean["glucose"], got["glucose"][:2], rtol=1e-6)
    np.testing.assert_array_equal(clean["is_ood"], got["is_ood"][:2])


def test_the_onnx_runtime_flags_them_too(bundle):
    from spectrakit.predict.runtime import load_onnx

    assert main(["export", "--model", str(bundle), "--format", "onnx"]) == 0
    runtime = load_onnx(bundle)
    with pytest.warns(UserWarning, match="constant"):
        got = runtime.predict(_four())
    assert got["is_ood"].tolist()[2:] == [True, True]
    values = np.asarray(_four().values)
    with pytest.warns(UserWarning, match="constant"):
        lean = runtime.predict_values(values)
    assert lean.frame()["is_ood"].tolist()[2:] == [True, True]


def test_the_cli_prints_the_warning_as_one_line(bundle, tmp_path, capsys):
    sk.io.write(_four(), tmp_path / "four.csv")
    assert main(["predict", "--model", str(bundle), "--data", str(tmp_path / "four.csv")]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "constant" in x)
    assert line.startswith("spectrakit predict: warning: 2 of 4 input spectra are constant")
    assert ".py" not in err and "UserWarning" not in err
