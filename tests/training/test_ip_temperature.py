"""PeakMixer's class-channel temperature is chosen on the training split and recorded."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spectrakit.datasets.deciding_peak import make_deciding_peak
from spectrakit.training import fit_supervised
from spectrakit.training import ip_temperature as ipt

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FIT = dict(task="classification", max_epochs=1, batch_size=32, lr=3e-3, ood="none",
           progress=False, seed=0, patience=0)  # fmt: skip


def test_heldout_split_is_stratified_and_disjoint():
    y = np.array([0] * 40 + [1] * 12 + [2])
    fit, held = ipt.heldout_split(y, seed=3)
    assert np.intersect1d(fit, held).size == 0 and fit.size + held.size == y.size
    assert np.bincount(y[held]).tolist() == [10, 3]  # a quarter of each class
    assert 2 in y[fit]  # a class of one spectrum stays in the fitting part


def test_one_standard_error_rule(monkeypatch):
    """Known answer: the lowest temperature within one SE of the best held-out loss."""
    spread = np.tile([-0.05, 0.05], 32)  # held-out SE 0.0063
    means = {0.02: 0.60, 0.05: 0.305, 0.2: 0.30, 1.0: 0.33}
    calls = iter(sorted(means))

    def fake(net, *args):
        return means[next(calls)] + spread

    monkeypatch.setattr(ipt, "_fit_and_score", fake)
    y = torch.tensor([0, 1] * 40)
    chosen, record = ipt.choose_ip_temperature(lambda t: None, torch.zeros(80, 1, 8), y)
    assert record["candidates"] == [0.02, 0.05, 0.2, 1.0]
    best = int(np.argmin(record["heldout_loss"]))
    assert record["candidates"][best] == 0.2
    assert chosen == 0.05 and record["chosen"] == 0.05


def test_finetune_chooses_and_records_the_temperature(tmp_path):
    train = make_deciding_peak(96, 0)
    pred = fit_supervised(train, "label", model="peakmixer_tiny", out=tmp_path / "m", **FIT)
    record = pred.config.training["recipe"]["ip_temperature"]
    assert record["candidates"] == list(ipt.TEMPERATURES)
    assert abs(record["n_heldout"] - pred.config.training["n_train"] / 4) <= 1
    assert len(record["heldout_loss"]) == len(ipt.TEMPERATURES)
    assert pred.model.ip_temperature == record["chosen"]
    assert pred.config.family.kwargs["ip_temperature"] == record["chosen"]
    # a temperature the user sets is kept, and nothing is chosen
    given = fit_supervised(train, "label", model="peakmixer_tiny", out=tmp_path / "g",
                           model_kwargs={"ip_temperature": 0.3}, **FIT)  # fmt: skip
    assert given.model.ip_temperature == 0.3
    assert "ip_temperature" not in given.config.training["recipe"]
