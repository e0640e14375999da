"""One numeric conversion for every input: float64 or one clear error, as each caller words it."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import AxisError, ConfigError, DataError
from spectrakit.core.numeric import as_float64, central_span


def test_numbers_become_float64_without_a_copy_when_already_float64():
    arr = np.arange(6.0).reshape(2, 3)
    assert as_float64(arr, "x") is arr
    out = as_float64([[1, 2], [3, 4]], "x")
    assert out.dtype == np.float64 and out.shape == (2, 2) and out[1, 0] == 3.0
    assert as_float64(5, "x").shape == ()


def test_text_is_refused_in_one_line_with_the_callers_words():
    described = []

    def got(value):
        described.append(value)
        return "the text"

    with pytest.raises(ConfigError) as info:
        as_float64(["a", "b"], "width is not numeric", error=ConfigError, expected="numbers",
                   got=got, fix="give numbers")  # fmt: skip
    message = str(info.value)
    assert "width is not numeric" in message and "the text" in message
    assert "give numbers" in message and "\n" not in message
    assert described == [["a", "b"]]
    with pytest.raises(DataError, match="object"):
        as_float64(object(), "not numeric")  # default: the type name
    as_float64([1.0], "unused", got=got)
    assert len(described) == 1  # described only on failure


def test_the_callers_refuse_text_through_it():
    import spectrakit as sk
    from spectrakit.chemometrics import make_baseline
    from spectrakit.ood import DIME

    with pytest.raises(DataError, match="intensities are not numeric"):
        sk.Spectra([["a", "b"]], [1.0, 2.0])
    with pytest.raises(DataError, match="OOD inputs are not numeric"):
        DIME().fit([["a", "b"], ["c", "d"]])
    s = sk.Spectra(np.random.default_rng(0).normal(size=(8, 5)), np.arange(5.0))
    with pytest.raises(DataError, match="PLS regression needs a numeric target"):
        make_baseline("pls").fit(s, np.array(["x"] * 8))
    assert not issubclass(AxisError, ConfigError)  # each caller keeps its own error type


def test_nonfinite_rows_are_counted_once_each():
    from spectrakit.core.numeric import refuse_nonfinite

    refuse_nonfinite(np.ones((3, 2)), "m", expected="e", what="bad")  # finite: nothing
    refuse_nonfinite(np.empty((0, 4)), "m", expected="e", what="bad")
    arr = np.array([[1.0, np.nan, np.inf], [1.0, 2.0, 3.0], [-np.inf, 0.0, 0.0]])
    with pytest.raises(DataError) as info:
        refuse_nonfinite(arr, "spectra are bad", expected="finite", what="bad spectra", fix="f")
    assert info.value.got == "2 bad spectra" and info.value.message == "spectra are bad"
    with pytest.raises(DataError, match="1 missing"):
        refuse_nonfinite(np.array([1.0, np.nan]), "target", expected="e", what="missing")


def test_the_callers_refuse_missing_targets_and_bad_spectra(tmp_path):
    import spectrakit as sk
    from spectrakit.data import SpectraStore
    from spectrakit.data.datamodule import encode_targets

    y = np.arange(8.0)
    y[[1, 4]] = np.nan
    s = sk.Spectra(np.random.default_rng(0).normal(size=(8, 5)), np.arange(5.0), meta={"c": y})
    with pytest.raises(DataError, match="2 spectra without a value"):
        encode_targets(s, ["c"], "regression")
    store = SpectraStore.create(tmp_path / "store", s.axis)
    bad = s.values.copy()
    bad[0, 0] = np.inf
    with pytest.raises(DataError, match="1 bad spectra"):
        store.append(bad)


def test_central_span_keeps_whole_patches_in_the_middle():
    assert central_span(10, 4) == (1, 9)  # two patches, one spare point on each side
    assert central_span(11, 4) == (1, 9)  # the odd spare point goes to the end
    assert central_span(8, 4) == (0, 8)
    start, stop = central_span(3, 4)  # shorter than one patch: empty
    assert start == stop
