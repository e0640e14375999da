"""The SpectraFM example chooses its configuration on training stars, held-out targets sealed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from _sealed_spy import recording_sealed_targets
from spectrakit.evaluation.protocol import ProtocolError

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "seed_spectrafm.py"


def _example():
    spec = importlib.util.spec_from_file_location("seed_spectrafm_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_choice_reads_no_held_out_target(monkeypatch, tmp_path):
    ex = _example()
    events, fitted, sealed = [], [], []
    fit_candidate, validation_r2, held_out_stars = (
        ex.fit_candidate, ex.validation_r2, ex.held_out_stars
    )  # fmt: skip

    def spy_fit(name, fit, val, seed, args):
        events.append("fit")
        fitted.extend([fit, val])
        return fit_candidate(name, fit, val, seed, args)

    def spy_validation(predictor, val):
        events.append("validate")
        return validation_r2(predictor, val)

    Spy = recording_sealed_targets(events)

    def spy_held_out(n_train, n_test):
        views, targets = held_out_stars(n_train, n_test)
        with pytest.raises(ProtocolError):
            np.asarray(targets)  # sealed until the choice is frozen
        assert all("fe_h" not in v.meta.columns for v in views.values())
        sealed.append(targets)
        return views, targets

    monkeypatch.setattr(ex, "fit_candidate", spy_fit)
    monkeypatch.setattr(ex, "validation_r2", spy_validation)
    monkeypatch.setattr(ex, "SealedTargets", Spy)
    monkeypatch.setattr(ex, "held_out_stars", spy_held_out)
    monkeypatch.setattr(ex, "onnx_check", lambda p, b, views: dict.fromkeys(views, 0.0))
    argv = ["--out", str(tmp_path), "--epochs", "1", "--candidates", "points,physical_mean_pool"]
    args = ex.parse_args(argv)
    selection, held_out, results, _ = ex.run_seed(args, 0, n_train=40, n_test=10)
    assert events == ["fit", "validate", "fit", "validate", "freeze", "score"]
    # the choice is the best mean validation R2, frozen before any held-out score
    means = {
        c: np.mean([r["r2"] for r in selection if r["candidate"] == c]) for c in args.candidates
    }
    choice = max(means, key=means.get)
    assert sealed[0].choices["configuration"] == choice
    assert {r["configuration"] for r in results} == {choice} and len(results) == 3
    assert len(held_out) == 2 * 3  # every candidate on every held-out grid, scored once
    # training and validation stars are training stars only
    held = set(sealed[0].reveal().tolist())
    assert all(held.isdisjoint(s.meta["fe_h"].tolist()) for s in fitted)


def test_unknown_candidate_is_one_clear_line(capsys):
    ex = _example()
    with pytest.raises(SystemExit) as exc:
        ex.parse_args(["--candidates", "points,wide"])
    assert exc.value.code == 2
    assert "unknown candidate 'wide'" in capsys.readouterr().err
