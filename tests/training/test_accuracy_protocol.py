"""Honest protocol: sealed test targets, and deep recipes that do not collapse to the mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _sealed_spy import recording_sealed_targets
from spectrakit.chemometrics import PLSRegressor, SpectralEstimator
from spectrakit.datasets.nir import make_nir
from spectrakit.evaluation.protocol import ProtocolError, SealedTargets, strip_targets
from spectrakit.training.dipls_lambda import _path
from spectrakit.training.scorenet import ScoreRecipe, fit_scorenet

SNV_D1 = {
    "steps": [
        {"step": "SNV", "params": {}},
        {"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}},
    ]
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_sealed_targets_refuse_reading_before_freeze_and_second_score():
    sealed = SealedTargets([1.0, 2.0, 3.0], name="y")
    with pytest.raises(ProtocolError):
        np.asarray(sealed)
    with pytest.raises(ProtocolError):
        sealed.score({"m": [1, 2, 3]}, lambda y, p: 0.0)
    with pytest.raises(ProtocolError):
        sealed.reveal()
    sealed.freeze({"model": "m"})
    with pytest.raises(ProtocolError):
        sealed.freeze({"model": "other"})
    out = sealed.score({"m": [1.0, 2.0, 4.0]}, lambda y, p: float(np.abs(y - p).sum()))
    assert out == {"m": 1.0}
    with pytest.raises(ProtocolError):
        sealed.score({"m": [1.0, 2.0, 3.0]}, lambda y, p: 0.0)
    assert sealed.reveal().tolist() == [1.0, 2.0, 3.0]
    assert sealed.log == ["freeze", "score"]


@pytest.mark.parametrize("case", ["nir-30", "nir-transfer-30"])
def test_benchmark_never_reads_test_targets_before_the_choice(monkeypatch, case):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    import benchmarks.accuracy as bench

    events = []
    original_fit = bench.auto_fit

    def spy_fit(*args, **kwargs):
        events.append("fit")
        return original_fit(*args, **kwargs)

    Spy = recording_sealed_targets(events)

    monkeypatch.setattr(bench, "auto_fit", spy_fit)
    monkeypatch.setattr(bench, "SealedTargets", Spy)
    split = bench.CASES[case](0, True)
    assert "analyte" not in split.test.meta.columns  # models only see spectra
    if split.target is not None:  # the target view is built from unlabeled spectra only
        assert "analyte" not in split.target.meta.columns
        split.target = split.target.select(np.arange(100))  # fewer, for a fast test
    split.deep = ()
    result = bench.run_split(split, 0, True)
    assert events == ["fit", "freeze", "score"]
    assert set(result["scores"]) >= {"PLS", "auto"}
    assert result["ranked_by"] == ("cv" if split.target is None else "target view")


def test_strip_targets_keeps_other_meta():
    s = make_nir(5, seed=0)["A"]
    out = strip_targets(s, ["analyte"])
    assert "analyte" not in out.meta.columns and "sample_id" in out.meta.columns
    assert np.array_equal(out.values, s.values)


def test_pls_net_does_not_collapse_to_the_mean_with_30_labels():
    data = make_nir(330, seed=3)["A"]
    y = data.meta["analyte"].to_numpy()
    train, test = data.select(np.arange(30)), data.select(np.arange(30, 330))
    pls = SpectralEstimator(PLSRegressor(max_components=12, cv=5), SNV_D1)
    p_pls = pls.fit(train, y[:30]).predict(test).ravel()
    r2 = lambda p: 1 - np.mean((p - y[30:]) ** 2) / np.var(y[30:])  # noqa: E731
    assert r2(p_pls) > 0.9
    rec = ScoreRecipe(steps=(0, 100), ensemble=1)
    model = fit_scorenet(pls, train, y[:30], recipe=rec, seed=0)
    pred = model.predict(test)
    assert r2(pred) > 0.9
    assert np.std(pred) > 0.8 * np.std(y[30:])


def test_dipls_path_equals_separate_fits():
    from spectrakit.chemometrics import DIPLS

    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(30, 40))
    y = Xs[:, 0] + 0.1 * rng.normal(size=30)
    Xt = rng.normal(size=(35, 40)) + 0.3
    B = _path(Xs, y, Xt, 2.0, 4)
    for a in (1, 3, 4):
        ref = DIPLS(n_components=a, lam=2.0).fit(Xs, y, Xt).coef_
        np.testing.assert_allclose(B[a - 1], ref, atol=1e-10)


def test_auto_choice_is_never_worse_than_pls_on_cv_and_says_why():
    from spectrakit.training.auto import auto_fit
    from spectrakit.training.folds import cv_folds

    data = make_nir(40, seed=5)["A"]
    y = data.meta["analyte"].to_numpy()
    folds = cv_folds(40, k=3, seed=0)
    choice = auto_fit(data, y, pipelines={"snv+d1": SNV_D1}, deep=("pls_net",), folds=folds)
    pls = [c for c in choice.candidates if c.name.startswith("pls[")]
    assert choice.chosen.cv_error <= min(c.cv_error for c in pls)
    assert choice.chosen.name in choice.reason
    assert list(choice.table()["cv_error"]) == sorted(choice.table()["cv_error"])
    assert choice.predict(data).shape == (40,)
