import numpy as np
import pytest

from spectrakit import AxisError, SpectralAxis
from spectrakit.core.axis import normalize_unit


def test_descending_values_are_reordered():
    axis, order = SpectralAxis.from_values([3.0, 2.0, 1.0], unit="nm")
    assert axis.values.tolist() == [1.0, 2.0, 3.0]
    assert order.tolist() == [2, 1, 0]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, 1.0, 2.0], "duplicate"),
        ([1.0, 3.0, 2.0], "not monotonic"),
        ([1.0, np.nan, 2.0], "NaN"),
        ([[1.0, 2.0]], "one-dimensional"),
        (["a", "b"], "not numeric"),
    ],
)
def test_invalid_axes_give_one_clear_error(values, message):
    with pytest.raises(AxisError, match=message) as info:
        SpectralAxis.from_values(values)
    assert "\n" not in str(info.value)


def test_constructor_rejects_descending():
    with pytest.raises(AxisError, match="strictly increasing"):
        SpectralAxis(np.array([2.0, 1.0]))


def test_unit_aliases_and_unknown_unit():
    assert normalize_unit("1/cm") == "cm-1"
    assert normalize_unit("µm") == "um"
    with pytest.raises(AxisError, match="unknown axis unit"):
        normalize_unit("furlong")


def test_nm_to_wavenumber_is_exact_and_reorders():
    ax = SpectralAxis(np.array([500.0, 1000.0, 2000.0]), unit="nm")
    cm, order = ax.convert("cm-1")
    np.testing.assert_allclose(cm.values, [5000.0, 10000.0, 20000.0])
    assert order.tolist() == [2, 1, 0]
    back, _ = cm.convert("nm")
    np.testing.assert_allclose(back.values, ax.values)


def test_micrometre_angstrom_and_energy():
    ax = SpectralAxis(np.array([1.0, 2.0]), unit="um")
    ang, _ = ax.convert("angstrom")
    np.testing.assert_allclose(ang.values, [10000.0, 20000.0])
    ev, _ = SpectralAxis(np.array([1239.8419843320026]), unit="nm").convert("eV")
    np.testing.assert_allclose(ev.values, [1.0])


def test_raman_shift_round_trip_through_absolute_wavelength():
    shift = SpectralAxis(
        np.array([0.0, 500.0, 1000.0, 3000.0]), kind="raman_shift", laser_wavelength=785.0
    )
    nm, order = shift.convert("nm")
    # Stokes lines lie at longer wavelengths than the laser.
    expected = 1e7 / (1e7 / 785.0 - np.array([0.0, 500.0, 1000.0, 3000.0]))
    np.testing.assert_allclose(nm.values, expected)
    assert order is None
    assert nm.values[0] == pytest.approx(785.0)
    back, _ = nm.convert("cm-1", kind="raman_shift")
    np.testing.assert_allclose(back.values, shift.values, atol=1e-8)


def test_raman_shift_needs_laser():
    shift = SpectralAxis(np.array([100.0, 200.0]), kind="raman_shift")
    with pytest.raises(AxisError, match="laser"):
        shift.convert("nm")


def test_unknown_unit_cannot_convert():
    with pytest.raises(AxisError, match="cannot convert"):
        SpectralAxis(np.array([1.0, 2.0]), unit="arb").convert("nm")


def test_kind_must_match_unit():
    with pytest.raises(AxisError, match="does not match"):
        SpectralAxis(np.array([1.0, 2.0]), unit="nm", kind="energy")
    with pytest.raises(AxisError, match="Raman-shift axis must be in cm-1"):
        SpectralAxis(np.array([1.0, 2.0]), unit="nm", kind="raman_shift")


def test_dict_round_trip_and_equality():
    ax = SpectralAxis(np.linspace(400, 1800, 5), kind="raman_shift", laser_wavelength=532.0)
    again = SpectralAxis.from_dict(ax.to_dict())
    assert again == ax
    assert again.laser_wavelength == 532.0
    assert ax.describe() == "400-1800 cm-1, 5 points"


def test_values_are_read_only():
    ax = SpectralAxis(np.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        ax.values[0] = 5.0
