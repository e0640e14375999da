import numpy as np
import pandas as pd
import pytest
import torch

from spectrakit import AxisError, DataError, Spectra, SpectralAxis, combine


def test_descending_axis_reorders_values_with_it():
    s = Spectra([[1.0, 2.0, 3.0]], [30.0, 20.0, 10.0])
    assert s.axis.values.tolist() == [10.0, 20.0, 30.0]
    assert s.values.tolist() == [[3.0, 2.0, 1.0]]
    assert s.values.dtype == np.float32


def test_validation_messages():
    with pytest.raises(DataError, match="lengths differ"):
        Spectra(np.ones((2, 3)), [1.0, 2.0])
    with pytest.raises(DataError, match="NaN"):
        Spectra([[1.0, np.nan]], [1.0, 2.0])
    with pytest.raises(DataError, match="infinite"):
        Spectra([[1.0, np.inf]], [1.0, 2.0], allow_nan=True)
    with pytest.raises(DataError, match="metadata rows"):
        Spectra(np.ones((2, 2)), [1.0, 2.0], meta={"a": [1, 2, 3]})
    with pytest.raises(DataError, match="not numeric"):
        Spectra([["a", "b"]], [1.0, 2.0])
    assert np.isnan(Spectra([[1.0, np.nan]], [1.0, 2.0], allow_nan=True).values).sum() == 1


def test_values_are_immutable(raman_like):
    with pytest.raises(ValueError):
        raman_like.values[0, 0] = 1.0


def test_row_selection_keeps_meta(raman_like):
    sub = raman_like[[3, 1]]
    assert sub.meta["sample"].tolist() == ["s1", "s0"]
    np.testing.assert_array_equal(sub.values[0], raman_like.values[3])
    mask = raman_like.meta["sample"].eq("s2").to_numpy()
    assert len(raman_like[mask]) == 2
    assert len(raman_like.where(sample="s2")) == 2
    with pytest.raises(DataError, match="out of range"):
        raman_like[[100]]
    with pytest.raises(DataError, match="no metadata column"):
        raman_like.where(nope=1)


def test_crop_in_axis_units(raman_like):
    c = raman_like.crop(900, 1100)
    assert c.axis.min >= 900 and c.axis.max <= 1100
    assert c.axis.kind == "raman_shift" and c.axis.laser_wavelength == 785.0
    with pytest.raises(AxisError, match="selects no points"):
        raman_like.crop(5000, 6000)


def test_resample_linear_is_exact_on_linear_data():
    x = np.linspace(0.0, 10.0, 11)
    s = Spectra(np.stack([2 * x + 1, -x]), x)
    grid = np.array([0.5, 3.25, 9.9])
    r = s.resample(grid)
    np.testing.assert_allclose(r.values[0], 2 * grid + 1, rtol=1e-6)
    np.testing.assert_allclose(r.values[1], -grid, rtol=1e-6)


def test_resample_cubic_matches_smooth_function():
    x = np.linspace(0.0, 2 * np.pi, 200)
    s = Spectra(np.sin(x), x)
    grid = np.linspace(0.1, 6.0, 57)
    np.testing.assert_allclose(s.resample(grid, method="cubic").values[0], np.sin(grid), atol=1e-5)


def test_resample_never_extrapolates_silently():
    s = Spectra([[1.0, 2.0, 3.0]], [1.0, 2.0, 3.0])
    with pytest.raises(AxisError, match="beyond the measured axis"):
        s.resample([0.0, 1.0, 2.0])
    np.testing.assert_allclose(s.resample([0.0, 2.0, 4.0], fill="edge").values, [[1, 2, 3]])
    padded = s.resample([0.0, 2.0], fill=0.0).values
    np.testing.assert_allclose(padded, [[0.0, 2.0]])
    assert np.isnan(s.resample([0.0, 2.0], fill="nan").values[0, 0])


def test_convert_units_reorders_values():
    s = Spectra([[1.0, 2.0, 3.0]], [500.0, 1000.0, 2000.0], unit="nm")
    c = s.convert("cm-1")
    assert c.values.tolist() == [[3.0, 2.0, 1.0]]
    np.testing.assert_allclose(c.axis.values, [5000.0, 10000.0, 20000.0])


def test_concat_requires_same_axis(raman_like):
    both = Spectra.concat([raman_like, raman_like])
    assert len(both) == 40
    with pytest.raises(AxisError, match="different axis"):
        Spectra.concat([raman_like, raman_like.crop(500, 1500)])


def test_pandas_round_trip_is_exact(raman_like):
    df = raman_like.to_pandas()
    assert list(df.columns[:3]) == ["sample", "c1", "c2"]
    back = Spectra.from_pandas(df, kind="raman_shift", laser_wavelength=785.0)
    assert back.equals(raman_like)


def test_from_pandas_errors():
    with pytest.raises(DataError, match="no spectral columns"):
        Spectra.from_pandas(pd.DataFrame({"a": [1]}))
    with pytest.raises(DataError, match="non-numeric intensity"):
        Spectra.from_pandas(pd.DataFrame({"1.0": [1.0, 2.0], "2.0": ["x", 3.0]}))
    with pytest.raises(DataError, match="no spectra"):
        Spectra.from_pandas(pd.DataFrame({"1.0": [], "2.0": []}))


def test_to_torch_shapes(raman_like):
    t = raman_like.to_torch()
    assert t.shape == (20, 1, 701) and t.dtype == torch.float32
    assert raman_like.to_torch(channels=False).shape == (20, 701)


def test_targets(raman_like):
    y = raman_like.targets(["c1", "c2"])
    assert y.shape == (20, 2)
    with pytest.raises(DataError, match="not numeric"):
        raman_like.targets("sample")


def test_combine_uses_overlap_and_coarsest_spacing():
    a = Spectra(np.ones((2, 101)), np.linspace(400, 1400, 101))  # spacing 10
    b = Spectra(np.ones((3, 301)), np.linspace(500, 2000, 301))  # spacing 5
    c = combine([a, b], names=["a", "b"])
    assert c.axis.min == 500 and c.axis.max == 1400
    assert c.axis.spacing == pytest.approx(10.0)
    assert c.meta["instrument"].tolist() == ["a", "a", "b", "b", "b"]


def test_combine_explicit_grid_and_errors():
    a = Spectra(np.ones((1, 11)), np.linspace(0, 10, 11))
    b = Spectra(np.ones((1, 11)), np.linspace(20, 30, 11))
    with pytest.raises(AxisError, match="do not overlap"):
        combine([a, b])
    with pytest.raises(AxisError, match="beyond the measured axis"):
        combine([a, a], grid=np.linspace(0, 20, 5))
    nm = Spectra(np.ones((1, 11)), np.linspace(500, 600, 11), unit="nm")
    with pytest.raises(AxisError, match="another unit"):
        combine([a, nm])
    grid = SpectralAxis(np.linspace(1, 9, 5))
    assert combine([a, a], grid=grid).axis == grid
