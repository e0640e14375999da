"""Learning-rate range test and cyclical schedules (the pychemauth CNN tutorial's method)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spectrakit import Spectra
from spectrakit.core.errors import ConfigError, TrainingError
from spectrakit.tasks.optim import SCHEDULES, build_scheduler, schedule_spec
from spectrakit.training import fit_supervised
from spectrakit.training.lr_finder import LRCurve, smooth_losses


def _range_test_curve(seed: int = 0) -> LRCurve:
    """A sweep shaped like a real one: flat and noisy, a descent, a minimum, divergence."""
    rng = np.random.default_rng(seed)
    lr = np.logspace(-6, 0, 120)
    x = np.log10(lr)
    loss = 2.3 - 1.5 / (1 + np.exp(-(x + 3.0) * 3.0))  # steepest fall at 1e-3
    loss += np.where(x > -1.5, (x + 1.5) ** 2 * 4.0, 0.0)  # minimum near 3e-2, then blows up
    raw = loss + rng.normal(0, 0.03, lr.size) * (x < -4)  # noisy start, where a naive
    raw[5] -= 0.4  # steepest-gradient rule lands (one big dip among the first batches)
    return LRCurve(lr, smooth_losses(raw, beta=0.5))


def test_suggestion_is_the_steepest_descent_before_the_minimum():
    curve = _range_test_curve()
    best = curve.suggestion()
    assert 3e-4 < best < 3e-3  # the steepest fall is at 1e-3; the noisy start is ignored
    naive = curve.lr[int(np.argmin(np.gradient(curve.loss, np.log10(curve.lr))))]
    assert naive < 1e-5  # what a steepest-anywhere rule picks on the same curve


def test_cyclical_bounds_follow_frac():
    curve = _range_test_curve()
    base, peak = curve.estimate_clr(frac=0.5)
    assert 1e-2 < peak < 6e-2  # the minimum of the curve
    assert 3e-4 < base < 3e-3  # half-way back up towards the flat start
    low, _ = curve.estimate_clr(frac=0.9)
    assert low < base  # going further back lowers the lower bound
    with pytest.raises(TrainingError, match="frac"):
        curve.estimate_clr(frac=1.5)


def test_a_curve_that_never_falls_gives_no_suggestion():
    lr = np.logspace(-6, 0, 60)
    curve = LRCurve(lr, np.full(60, 1.0) + np.linspace(0, 1, 60) ** 4)
    assert curve.suggestion() is None and curve.estimate_clr() is None


def test_smoothing_is_bias_corrected():
    out = smooth_losses(np.array([2.0, 2.0, 2.0, 0.0]), beta=0.9)
    np.testing.assert_allclose(out[:3], 2.0)
    assert 0.0 < out[3] < 2.0


def _lrs(schedule, steps: int) -> list[float]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = build_scheduler(opt, schedule, total_steps=steps)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_triangular_policies_known_values():
    tri = _lrs({"name": "triangular", "base_ratio": 0.1, "step_size": 5}, 21)
    assert tri[0] == pytest.approx(0.1) and tri[5] == pytest.approx(1.0)
    assert tri[10] == pytest.approx(0.1) and tri[15] == pytest.approx(1.0)
    tri2 = _lrs({"name": "triangular2", "base_ratio": 0.1, "step_size": 5}, 21)
    assert tri2[5] == pytest.approx(1.0) and tri2[15] == pytest.approx(0.55)  # amplitude halves
    exp = _lrs({"name": "exp_range", "base_ratio": 0.1, "step_size": 5, "gamma": 0.9}, 21)
    assert exp[5] == pytest.approx(0.1 + 0.9 * 0.9**5)  # amplitude decays by gamma per step


@pytest.mark.parametrize(
    "bad",
    [
        "sawtooth",
        {"name": "triangular", "base_ratio": 1.5},
        {"name": "triangular", "step_size": 0},
        {"name": "exp_range", "gamma": 2.0},
        {"name": "cosine", "step_size": 10},
        {"name": "triangular", "period": 3},
    ],
)
def test_bad_schedules_are_refused(bad):
    with pytest.raises(ConfigError):
        schedule_spec(bad)


def test_cli_offers_every_schedule():
    from spectrakit.cli import finetune

    assert set(finetune._SCHEDULES) == set(SCHEDULES)


AXIS = np.linspace(400.0, 1800.0, 256)


def _classes(n: int, seed: int) -> Spectra:
    """Four classes, each one Raman-like band on a shared background.

    The classes differ only in where the band sits, so the tutorial's CNN keeps positions
    (``global_pool="flatten"``, as in pychemauth) rather than averaging them away.
    """
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 4, n)
    centers = np.array([600.0, 900.0, 1200.0, 1500.0])[label]
    band = np.exp(-0.5 * ((AXIS[None] - centers[:, None]) / 25.0) ** 2)
    values = 0.5 + 0.4 * band + rng.normal(0, 0.03, (n, AXIS.size))
    return Spectra(values, AXIS, meta={"kind": np.array(list("abcd"))[label]})


def test_auto_rate_trains_a_working_classifier_and_keeps_its_curve(tmp_path):
    train, test = _classes(120, 0), _classes(80, 1)
    predictor = fit_supervised(
        train, "kind", task="classification", model="cnn1d_tiny", max_epochs=12, lr="auto",
        model_kwargs={"global_pool": "flatten"}, schedule="triangular2", out=tmp_path / "m",
        progress=False, loggers=("csv",), patience=None, batch_size=16,
    )  # fmt: skip
    lr = predictor.config["training"]["lr"]
    assert 1e-4 < lr < 0.5  # not the ~1e-6 that stalls training
    pred = predictor.predict(test)
    assert (pred["predicted"].to_numpy() == test.meta["kind"].to_numpy()).mean() >= 0.9
    run = tmp_path / "m.run"
    csv = (run / "lr_finder.csv").read_text().splitlines()
    assert csv[0] == "lr,loss" and len(csv) > 20
    assert (run / "lr_finder.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    logged = next(run.glob("logs/**/metrics.csv")).read_text().splitlines()[0]
    assert "lr-" in logged  # the learning rate is logged beside the losses
