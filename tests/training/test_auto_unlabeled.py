"""Automatic choice with unlabeled spectra of a second instrument: one bundle for it."""

from __future__ import annotations

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.datasets.nir import make_nir, nir_instrument_pair
from spectrakit.training.auto import auto_fit
from spectrakit.training.auto_package import save_auto
from spectrakit.training.folds import cv_folds

pytestmark = pytest.mark.usefixtures("one_torch_thread")

D1 = {"steps": [{"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}}]}


@pytest.fixture(scope="module")
def two_instruments():
    master, slave = nir_instrument_pair()
    data = make_nir(170, instruments=(master, slave), seed=2)
    a = data["A"].crop(1104.0, 2492.0)
    b = data["B"].resample(a.axis.values)
    y = a.meta["analyte"].to_numpy()
    train, unlabeled, test = np.arange(40), np.arange(40, 140), np.arange(140, 170)
    target = sk.Spectra(b.values[unlabeled], b.axis)
    return a.select(train), y[train], target, b.select(test), y[test]


def _rmse(p, y) -> float:
    return float(np.sqrt(np.mean((np.asarray(p) - y) ** 2)))


@pytest.fixture(scope="module")
def target_choice(two_instruments):
    train, y, target, _, _ = two_instruments
    folds = cv_folds(len(y), k=3, seed=0)
    return auto_fit(train, y, pipelines={"d1": D1}, target=target, deep=("pls_net",),
                    folds=folds, quick=True)  # fmt: skip


def test_unlabeled_target_spectra_give_one_bundle_for_the_new_instrument(
    two_instruments, target_choice, tmp_path
):
    train, y, target, test, y_test = two_instruments
    choice = target_choice
    kinds = {c.kind for c in choice.candidates}
    assert {"pls+mean-centering", "di-pls", "deep+adaptation"} <= kinds
    pred = save_auto(choice, train, y, tmp_path / "b", targets=["analyte"], target=target)
    auto = pred.config["training"]["auto"]
    assert pred.config["training"]["domain"] == "target"
    chosen = next(c for c in choice.candidates if c.name == auto["chosen"])
    got = pred.predict(test)["analyte"].to_numpy()
    np.testing.assert_allclose(got, chosen.predict(test, "target"), rtol=1e-4, atol=1e-5)
    # adapted to the new instrument: better there than PLS that ignores the instrument
    pls = min((c for c in choice.candidates if c.name.startswith("pls[")), key=lambda c: c.cv_error)
    assert _rmse(got, y_test) < _rmse(pls.predict(test, "source"), y_test)
    assert {"ood_score", "is_ood"} <= set(pred.predict(test).columns)
    # the detector is fitted on the new instrument's spectra: they are mostly in-distribution
    assert pred.predict(target)["is_ood"].mean() < 0.3


@pytest.mark.parametrize("kind", ["pls+mean-centering", "di-pls", "deep+adaptation"])
def test_every_transfer_candidate_is_stored_exactly(two_instruments, target_choice, tmp_path, kind):
    from spectrakit.training.auto import AutoChoice

    train, y, target, test, _ = two_instruments
    cand = next(c for c in target_choice.candidates if c.kind == kind)
    pred = save_auto(AutoChoice([cand], cand, "regression", "forced"), train, y,
                     tmp_path / "b", targets=["analyte"], target=target, ood="none")  # fmt: skip
    np.testing.assert_allclose(pred.predict(test)["analyte"], cand.predict(test, "target"),
                               rtol=1e-4, atol=1e-5)  # fmt: skip


def test_transfer_standards_rank_ds_pds_sst_and_store_the_winner(tmp_path):
    master, slave = nir_instrument_pair()
    data = make_nir(82, instruments=(master, slave), seed=4)
    a = data["A"].crop(1104.0, 2492.0)
    b = data["B"].resample(a.axis.values)
    y = a.meta["analyte"].to_numpy()
    train, std, test = np.arange(40), np.arange(40, 52), np.arange(52, 82)
    standards = (a.select(std), b.select(std))
    folds = cv_folds(40, k=3, seed=0)
    choice = auto_fit(a.select(train), y[train], pipelines={"d1": D1}, deep=("pls_net",),
                      folds=folds, standards=standards)  # fmt: skip
    kinds = {c.kind for c in choice.candidates}
    assert {"pls+none", "pls+ds", "pls+pds", "pls+sst", "pls+mean-centering"} <= kinds
    assert "deep" not in kinds  # source CV alone cannot rank a network for the new instrument
    none = next(c for c in choice.candidates if c.kind == "pls+none")
    assert choice.chosen.cv_error <= none.cv_error
    assert "transfer" in choice.reason
    pred = save_auto(choice, a.select(train), y[train], tmp_path / "b", targets=["analyte"],
                     target=standards[1], ood="none")  # fmt: skip
    got = pred.predict(b.select(test))["analyte"].to_numpy()
    stored = next(
        c for c in choice.candidates if c.name == pred.config["training"]["auto"]["chosen"]
    )
    np.testing.assert_allclose(got, stored.predict(b.select(test), "target"), rtol=1e-4, atol=1e-5)
    assert _rmse(got, y[test]) < _rmse(none.predict(b.select(test), "target"), y[test])
