"""``finetune --model auto --unlabeled NEW.csv --align dann --screen cv``: wired into the recipe."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from spectrakit.cli._app import main
from spectrakit.io import write
from spectrakit.training import auto

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _files(tmp_path):
    from spectrakit.core.spectra import Spectra

    rng = np.random.default_rng(0)
    grid = np.linspace(1000.0, 1254.0, 128)
    pos = np.arange(128.0)

    def make(n, extra):
        y = rng.uniform(0, 1, n)
        X = y[:, None] * np.exp(-0.5 * ((pos - 40) / 6) ** 2)
        X = X + rng.uniform(0.5, 1.5, (n, 1)) * np.exp(-0.5 * ((pos - 90) / 10) ** 2)
        X = X + extra * rng.uniform(0, 1, (n, 1)) * np.exp(-0.5 * ((pos - 64) / 4) ** 2)
        return Spectra(X + 0.01 * rng.normal(size=X.shape), grid, meta={"analyte": y})

    write(make(30, 0.0), tmp_path / "train.csv")
    write(make(40, 1.0), tmp_path / "new.csv")
    return ["finetune", "--data", str(tmp_path / "train.csv"), "--target", "analyte"]


def test_align_and_screen_reach_the_cnn_recipe_and_the_bundle(tmp_path, monkeypatch, capsys):
    seen = []
    real = auto.fit_recipe

    def short(rec, *a, **k):  # the wiring is under test, not the training length
        seen.append(rec)
        return real(replace(rec, steps=(5,), ensemble=1), *a, **k)

    monkeypatch.setattr(auto, "fit_recipe", short)
    monkeypatch.setattr(auto, "candidate_pipelines", lambda train, extra=None: {"raw": None})
    args = _files(tmp_path)
    out = tmp_path / "model"
    opts = ["--model", "auto", "--deep", "cnn", "--unlabeled", str(tmp_path / "new.csv")]
    opts += ["--align", "dann", "--screen", "cv", "--quick", "--out", str(out)]
    assert main([*args, *opts]) == 0, capsys.readouterr().err
    assert [r.align for r in seen] == ["dann"] and seen[0].screen == "cv"
    config = json.loads((out / "config.json").read_text())
    cands = {c["name"]: c for c in config["training"]["auto"]["candidates"]}
    assert cands["cnn"]["align"] == "dann" and 0.0 <= cands["cnn"]["domain_accuracy"] <= 1.0
    assert cands["cnn"]["screen"] == "cv" and "screen_confidence" in cands["cnn"]


def test_align_without_unlabeled_spectra_or_auto_is_refused(tmp_path, capsys):
    args = _files(tmp_path)
    out = ["--out", str(tmp_path / "m")]
    assert main([*args, "--model", "auto", "--deep", "none", "--align", "dann", *out]) == 2
    assert "--unlabeled" in capsys.readouterr().err
    assert main([*args, "--model", "pls", "--align", "mmd", *out]) == 2
    assert "--model auto" in capsys.readouterr().err
    assert main([*args, "--model", "pls", "--screen", "0.5", *out]) == 2
    assert "screen" in capsys.readouterr().err


def test_pls_with_screen_drops_the_planted_outliers_and_records_them(tmp_path, capsys):
    from spectrakit.core.spectra import Spectra

    rng = np.random.default_rng(0)
    pos = np.arange(100.0)
    y = rng.uniform(0, 1, 40)
    X = y[:, None] * np.exp(-0.5 * ((pos - 30) / 5) ** 2) + 0.01 * rng.normal(size=(40, 100))
    X[[5, 22]] += 0.8 * np.exp(-0.5 * ((pos - 70) / 3) ** 2)  # two contaminated spectra
    write(Spectra(X, np.linspace(1000.0, 1198.0, 100), meta={"analyte": y}), tmp_path / "t.csv")
    out = tmp_path / "pls"
    args = ["finetune", "--data", str(tmp_path / "t.csv"), "--target", "analyte"]
    assert main([*args, "--model", "pls", "--screen", "0.99", "--out", str(out)]) == 0
    screening = json.loads((out / "config.json").read_text())["training"]["screening"]
    assert screening["confidence"] == 0.99 and {5, 22} <= set(screening["dropped"])
