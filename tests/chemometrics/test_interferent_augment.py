"""Interferent augmentation: known answers on a standards -> process set with an interferent."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.chemometrics.interferent_augment import (
    augment_with_interferents,
    interferent_basis,
    process_like,
)
from spectrakit.core.errors import DataError

AXIS = np.linspace(0.0, 1.0, 120)


def _band(mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((AXIS - mu) / sd) ** 2)


def _standards_and_process(seed: int = 0):
    """Analyte standards; a process with an overlapping interferent that varies on its own."""
    rng = np.random.default_rng(seed)
    analyte, interferent = _band(0.45, 0.05), _band(0.52, 0.06)
    y = rng.uniform(0, 40, 21)
    Zs = np.outer(y, analyte) / 20 + rng.normal(0, 0.005, (21, AXIS.size))
    g, e = rng.uniform(0, 40, 600), rng.uniform(0, 30, 600)
    Zt = np.outer(g, analyte) / 20 + np.outer(e, interferent) / 20 + 0.3 * _band(0.8, 0.1)
    return Zs, y, Zt + rng.normal(0, 0.005, Zt.shape), g


def test_basis_is_free_of_the_analyte_and_orthonormal():
    Zs, y, Zt, _ = _standards_and_process()
    basis = interferent_basis(Zs, y, Zt, 3)
    assert basis.components.shape == (3, AXIS.size)
    np.testing.assert_allclose(basis.components @ basis.components.T, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(basis.components @ basis.unit, 0.0, atol=1e-10)
    assert abs(basis.offset @ basis.unit) < 1e-10
    assert np.all(np.diff(basis.scales) <= 0)


def test_augmentation_keeps_labels_and_originals():
    Zs, y, Zt, _ = _standards_and_process()
    Xa, ya = augment_with_interferents(Zs, y, interferent_basis(Zs, y, Zt, 2), n_per=4)
    assert Xa.shape == (21 * 5, AXIS.size)
    np.testing.assert_array_equal(Xa[:21], Zs)
    np.testing.assert_array_equal(ya, np.concatenate([y, np.repeat(y, 4)]))


def test_process_like_copies_carry_no_analyte_from_the_background():
    Zs, y, Zt, _ = _standards_and_process()
    basis = interferent_basis(Zs, y, Zt, 2)
    Xv, rows = process_like(Zs, Zt, basis.unit, Zs.mean(axis=0), n_per=3)
    np.testing.assert_allclose((Xv - Zs[rows]) @ basis.unit, 0.0, atol=1e-10)


def test_mismatched_axes_are_refused():
    Zs, y, Zt, _ = _standards_and_process()
    with pytest.raises(DataError, match="one axis"):
        interferent_basis(Zs, y, Zt[:, :-1], 2)
