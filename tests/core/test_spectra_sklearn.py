"""Spectra inside scikit-learn model selection: indexing, array protocol, CV, grid search."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

from spectrakit import Spectra
from spectrakit.chemometrics import PLSRegressor
from spectrakit.core.errors import DataError
from spectrakit.preprocessing import SavitzkyGolay, preset


def _spectra(n: int = 40, p: int = 120, seed: int = 0) -> tuple[Spectra, np.ndarray]:
    rng = np.random.default_rng(seed)
    axis = np.linspace(600.0, 1800.0, p)
    conc = rng.uniform(0, 10, n)
    band = np.exp(-0.5 * ((axis - 1100.0) / 25.0) ** 2)
    other = np.exp(-0.5 * ((axis - 1500.0) / 40.0) ** 2)
    solvent = 20.0 * np.exp(-0.5 * ((axis - 700.0) / 30.0) ** 2)
    values = (
        solvent
        + conc[:, None] * band
        + rng.uniform(0, 5, n)[:, None] * other
        + 0.01 * rng.normal(size=(n, p))
        + 0.2
    )
    return Spectra(values, axis, meta={"conc": conc, "id": np.arange(n)}), conc


def test_array_protocol_len_iteration():
    s, _ = _spectra(5, 10)
    assert len(s) == 5
    arr = np.asarray(s)
    assert arr.shape == (5, 10) and arr.dtype == np.float32
    assert np.shares_memory(arr, s.values)
    copy = np.array(s, dtype=np.float64)
    assert copy.dtype == np.float64 and copy.flags.writeable
    np.testing.assert_array_equal(copy, s.values)
    rows = list(s)
    assert len(rows) == 5 and all(isinstance(r, Spectra) and r.shape == (1, 10) for r in rows)
    assert [int(r.meta["id"].iloc[0]) for r in rows] == [0, 1, 2, 3, 4]
    assert all(r.axis == s.axis for r in rows)


def test_numpy_style_indexing_keeps_axis():
    s, _ = _spectra(6, 10)
    assert s[[4, 1], ...].meta["id"].tolist() == [4, 1]
    assert s[np.array([True, False] * 3), :].shape == (3, 10)
    sub = s[1:3, 2:5]
    assert sub.shape == (2, 3)
    np.testing.assert_array_equal(sub.axis.values, s.axis.values[2:5])
    np.testing.assert_array_equal(sub.values, s.values[1:3, 2:5])
    assert s[:, [0, 9]].axis.values.tolist() == [s.axis.values[0], s.axis.values[9]]
    assert s[-1].meta["id"].tolist() == [5]
    with pytest.raises(DataError, match="too many indices"):
        s[0, 0, 0]
    with pytest.raises(DataError, match="selected twice"):
        s[:, [1, 1]]
    with pytest.raises(DataError, match="out of range"):
        s[:, 10]


def test_train_test_split_keeps_spectra():
    s, y = _spectra()
    s_tr, s_te, y_tr, y_te = train_test_split(s, y, test_size=0.25, random_state=0)
    assert isinstance(s_tr, Spectra) and isinstance(s_te, Spectra)
    assert len(s_tr) == 30 and len(s_te) == 10
    assert s_tr.axis == s.axis
    np.testing.assert_allclose(s_tr.meta["conc"].to_numpy(), y_tr)
    np.testing.assert_allclose(s_te.meta["conc"].to_numpy(), y_te)


def test_cross_val_score_and_clone_on_spectra():
    s, y = _spectra()
    pipe = Pipeline([("smooth", SavitzkyGolay(window=7)), ("pls", PLSRegressor(n_components=3))])
    scores = cross_val_score(clone(pipe), s, y, cv=KFold(5, shuffle=True, random_state=0))
    assert scores.shape == (5,) and scores.min() > 0.95


def test_grid_search_over_preset_and_pls_on_spectra():
    s, y = _spectra(48, 160)
    pipe = Pipeline([("pre", preset("ftir-default")), ("pls", PLSRegressor(cv=4))])
    grid = GridSearchCV(
        pipe,
        {"pls__n_components": [1, 2, 4], "pre__crop__low": [600.0, 900.0]},
        cv=KFold(4, shuffle=True, random_state=0),
    )
    grid.fit(s, y)
    assert grid.best_params_["pls__n_components"] >= 2
    assert grid.best_score_ > 0.9
    pred = grid.predict(s[:5])
    assert pred.shape == (5,)
    # the preprocessing inside the refitted model saw the physical axis
    assert grid.best_estimator_["pre"].steps[0][1].axis_in_ == s.axis
