"""The PLS pipelines of the automatic choice: fitted once each, refusals left by the ranking."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from spectrakit.core.errors import ConfigError
from spectrakit.core.spectra import Spectra
from spectrakit.datasets.nir import make_nir
from spectrakit.preprocessing import list_presets
from spectrakit.preprocessing._pipeline import Pipeline
from spectrakit.training.auto import auto_fit, candidate_pipelines
from spectrakit.training.folds import cv_folds

D1 = {"steps": [{"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}}]}


@pytest.fixture(scope="module")
def nir():
    data = make_nir(30, seed=0)["A"]  # an nm axis: the cm-1 presets refuse it
    return data, data.meta["analyte"].to_numpy()


def test_candidate_pipelines_fits_nothing(nir, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("candidate_pipelines fitted a pipeline")

    monkeypatch.setattr(Pipeline, "_fit_run", refuse)
    specs = candidate_pipelines(nir[0], D1)
    assert next(iter(specs)) == str(D1)  # the user's pipeline first
    assert set(list_presets()) <= set(specs)


def test_each_pipeline_is_fitted_once_per_fold_and_once_on_all(nir, monkeypatch, caplog):
    X, y = nir
    fits: list[int] = []
    real_fit = Pipeline._fit_run  # behind fit and fit_transform

    def counted(self, X, *args):
        fits.append(X.n_spectra)
        return real_fit(self, X, *args)

    monkeypatch.setattr(Pipeline, "_fit_run", counted)
    folds = cv_folds(len(y), k=3, seed=0)
    with caplog.at_level(logging.INFO, logger="spectrakit.auto"):
        choice = auto_fit(X, y, pipelines=candidate_pipelines(X, D1), deep=(), folds=folds)
    names = {c.name for c in choice.candidates}
    assert names == {f"pls[{D1}]", "pls[nir-default]", "pls[none]"}
    assert "ftir-default left out" in caplog.text and "raman-default left out" in caplog.text
    # presets made for another technique are a note, not a warning
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # two pipelines that run: 1 + 3 fits each; the refusing ones: one attempt each ("none"
    # has no pipeline to fit)
    assert fits.count(len(y)) == 2 + 2  # full-data fits: 2 kept + 2 refused
    assert len(fits) == 2 * (1 + 3) + 2
    assert np.isfinite([c.cv_error for c in choice.candidates]).all()


def test_no_pipeline_that_runs_is_one_clear_error(nir):
    X, y = nir
    with pytest.raises(ConfigError, match="no preprocessing runs"):
        auto_fit(X, y, pipelines={"ftir-default": "ftir-default"}, deep=(),
                 folds=cv_folds(len(y), k=3, seed=0))  # fmt: skip


def test_spectra_as_read_are_a_candidate_where_normalization_destroys_the_signal():
    # an additive mixture: the analyte band adds 1 % per unit to a band whose neighbour
    # varies on its own; SNV reads the analyte relative to the neighbour (nonlinear in y)
    rng = np.random.default_rng(0)
    axis = np.linspace(1100.0, 2500.0, 351)
    y = rng.uniform(0.0, 10.0, 40)
    band = np.exp(-0.5 * ((axis - 1700.0) / 80.0) ** 2)
    other = 0.3 * np.exp(-0.5 * ((axis - 2100.0) / 150.0) ** 2)
    values = band * (1 + 0.01 * y[:, None]) + other * rng.uniform(0.5, 1.5, (40, 1))
    X = Spectra(values + rng.normal(0.0, 1e-3, values.shape), axis, unit="nm")
    choice = auto_fit(X, y, pipelines=candidate_pipelines(X), deep=(),
                      folds=cv_folds(len(y), k=5, seed=0))  # fmt: skip
    cv = {c.name: c.cv_error for c in choice.candidates}
    assert choice.chosen.name == "pls[none]"
    assert cv["pls[none]"] < 0.1 * y.std() < cv["pls[nir-default]"]


def test_a_user_pipeline_that_refuses_the_spectra_is_a_warning(nir, caplog):
    X, y = nir
    crop = {"steps": [{"step": "Crop", "params": {"low": 600.0, "high": 1800.0, "unit": "cm-1"}}]}
    with caplog.at_level(logging.INFO, logger="spectrakit.auto"):
        auto_fit(X, y, pipelines=candidate_pipelines(X, crop), deep=(),
                 folds=cv_folds(len(y), k=3, seed=0))  # fmt: skip
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and str(crop) in warned[0]


class _Terminal:
    """A standard error that says it is a terminal and keeps what is written."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        return None


def test_the_deep_candidates_show_a_bar_on_a_terminal(nir, monkeypatch):
    import sys

    from spectrakit.training import auto

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    X, y = nir
    folds = cv_folds(len(y), k=3, seed=0)
    assert auto._deep_candidates(["none_such"], None, X, y, "regression", folds, None, None,
                                 0, True) == []  # fmt: skip
    assert "auto: deep candidates (CV)" in terminal.text and "0/1 [" in terminal.text
