"""A spectrum's result does not depend on the block it is transformed in.

Batch work splits a corpus into chunks (Dask tasks, streamed blocks, row blocks on
threads), so every step must give each spectrum the same bits whatever spectra share its
call. Linear maps done as one BLAS product over the block break this: the product rounds a
row differently depending on where it falls in the block.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import savgol_filter

import spectrakit.preprocessing as pp

N, P = 351, 300  # 351 rows: the last rows fall on the remainder of any vector kernel


def _raman_block(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    axis = np.linspace(400.0, 1800.0, P)
    band = np.exp(-0.5 * ((axis - 1000.0) / 8.0) ** 2)
    values = 500 + 0.2 * axis + rng.uniform(50, 200, (N, 1)) * band
    return values + rng.normal(0, 2.0, (N, P)), axis


def _assert_row_independent(step, X: np.ndarray) -> None:
    whole = step.transform(X)
    singles = np.concatenate([step.transform(X[i : i + 1]) for i in range(N)])
    np.testing.assert_array_equal(singles, whole)
    for size in (2, 7, 117, 350):
        parts = np.concatenate([step.transform(X[a : a + size]) for a in range(0, N, size)])
        np.testing.assert_array_equal(parts, whole)


@pytest.mark.parametrize(
    ("window", "polyorder", "deriv"), [(9, 3, 0), (15, 2, 1), (7, 4, 2), (21, 2, 2), (3, 0, 0)]
)
def test_savgol_rows_do_not_depend_on_the_block_and_match_scipy(window, polyorder, deriv):
    X, axis = _raman_block()
    step = pp.SavitzkyGolay(window, polyorder, deriv).fit(X, axis=axis)
    _assert_row_independent(step, X)
    want = savgol_filter(
        X, window, polyorder, deriv=deriv, delta=axis[1] - axis[0], axis=1, mode="interp"
    )
    np.testing.assert_allclose(step.transform(X), want, rtol=1e-10, atol=1e-10 * np.abs(want).max())


def test_snip_rows_do_not_depend_on_the_block():
    X, axis = _raman_block(1)
    _assert_row_independent(pp.SNIP().fit(X, axis=axis), X)


@pytest.mark.parametrize("name", ["MSC", "EMSC"])
def test_scatter_corrections_rows_do_not_depend_on_the_block(name):
    X, axis = _raman_block(2)
    step = getattr(pp, name)().fit(X, axis=axis)
    _assert_row_independent(step, X)
