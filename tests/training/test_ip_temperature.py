"""PeakMixer's class-channel temperature is raced on the training split and recorded."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from spectrakit.datasets.deciding_peak import make_deciding_peak
from spectrakit.training import fit_supervised
from spectrakit.training import ip_temperature as ipt

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FIT = dict(task="classification", max_epochs=1, batch_size=32, lr=3e-3, ood="none",
           progress=False, seed=0, patience=0)  # fmt: skip
SPREAD = np.tile([-0.05, 0.05], 32)  # held-out SE 0.0063


def test_heldout_split_is_stratified_and_disjoint():
    y = np.array([0] * 40 + [1] * 12 + [2])
    fit, held = ipt.heldout_split(y, seed=3)
    assert np.intersect1d(fit, held).size == 0 and fit.size + held.size == y.size
    assert np.bincount(y[held]).tolist() == [10, 3]  # a quarter of each class
    assert 2 in y[fit]  # a class of one spectrum stays in the fitting part


def test_one_standard_error_rule():
    """Known answer: the lowest temperature within one SE of the best held-out loss."""
    temps = [0.02, 0.05, 0.2, 1.0]
    chosen, losses, ses = ipt.one_standard_error_choice(
        temps, [m + SPREAD for m in (0.60, 0.305, 0.30, 0.33)]
    )
    assert temps[int(np.argmin(losses))] == 0.2
    assert ses[2] == pytest.approx(0.05 / np.sqrt(64), rel=0.02)
    assert chosen == 0.05


class _Tagged(nn.Linear):
    def __init__(self, t: float) -> None:
        super().__init__(1, 1)
        self.t = t


@pytest.mark.parametrize(
    "means, finalists, chosen",
    [
        ({0.02: 0.60, 0.05: 0.305, 0.2: 0.30, 1.0: 0.33}, [0.05, 0.2], 0.05),
        # the one-SE choice of the first rung goes on even when not in the better half
        ({0.02: 0.305, 0.05: 0.303, 0.2: 0.30, 1.0: 0.301}, [0.02, 0.2, 1.0], 0.02),
    ],
)
def test_successive_halving_races_the_better_half(monkeypatch, means, finalists, chosen):
    calls: dict[float, int] = {}

    def fake(trainer, x, y, fit, held, steps):
        calls[trainer.net.t] = calls.get(trainer.net.t, 0) + 1
        trainer.steps += steps
        return means[trainer.net.t] + SPREAD

    monkeypatch.setattr(ipt, "_fit_and_score", fake)
    y = torch.tensor([0, 1] * 128)  # a held-out quarter of 64 spectra
    race = ipt.race_ip_temperatures(_Tagged, torch.zeros(256, 1, 1), y, steps=40)
    assert race.temperature == chosen and race.model.t == chosen
    rec = race.record
    assert [r["candidates"] for r in rec["rungs"]] == [[0.02, 0.05, 0.2, 1.0], finalists]
    assert rec["finalists"] == finalists and rec["steps"] == 40
    assert calls == {t: 1 + (t in finalists) for t in means}
    assert rec["total_steps"] == 20 * (4 + len(finalists)) < 4 * 40  # cheaper than 4 full fits


class _Diluted(nn.Module):
    """The interpretable path in miniature: a softmax over K channels, one informative."""

    def __init__(self, t: float) -> None:
        super().__init__()
        self.t = t
        self.corr = nn.Parameter(torch.zeros(16))
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.scale * (x[:, 0] @ torch.softmax(self.corr / self.t, 0))
        return torch.stack([-s, s], dim=1)


def test_race_picks_a_specific_temperature_when_one_channel_decides():
    """Evidence diluted over 16 channels: a low temperature concentrates on the one that
    decides the class, a high one cannot in the steps given."""
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(256) % 2
    x = 3.0 * torch.randn(256, 1, 16, generator=gen)
    x[:, 0, 0] = 2.0 * y - 1.0 + 0.3 * torch.randn(256, generator=gen)
    race = ipt.race_ip_temperatures(_Diluted, x, y, steps=60, lr=0.05)
    first = dict(zip(race.record["rungs"][0]["candidates"],
                     race.record["rungs"][0]["heldout_loss"], strict=True))  # fmt: skip
    assert first[0.02] < first[0.2] < first[1.0]  # lower is better on this case
    assert 1.0 not in race.record["finalists"]
    assert race.temperature in (0.02, 0.05)
    # the winner comes back trained: its weights concentrate on the deciding channel
    assert int(torch.softmax(race.model.corr / race.model.t, 0).argmax()) == 0


def test_finetune_races_on_training_data_only(tmp_path):
    """The race reads the training split only: flipping every validation label changes
    nothing of the choice."""
    train, val = make_deciding_peak(96, 0), make_deciding_peak(32, 1)
    flipped = val.assign(label=np.where(val.meta["label"] == "present", "absent", "present"))
    pred = fit_supervised(train, "label", val=val, model="peakmixer_tiny", out=tmp_path / "m",
                          **FIT)  # fmt: skip
    record = pred.config.training["recipe"]["ip_temperature"]
    assert record["candidates"] == list(ipt.TEMPERATURES)
    assert abs(record["n_heldout"] - len(train) / 4) <= 1
    assert record["rungs"][0]["candidates"] == list(ipt.TEMPERATURES)
    assert pred.model.ip_temperature == record["chosen"] in record["finalists"]
    assert pred.config.family.kwargs["ip_temperature"] == record["chosen"]
    other = fit_supervised(train, "label", val=flipped, model="peakmixer_tiny",
                           out=tmp_path / "f", **FIT)  # fmt: skip
    assert other.config.training["recipe"]["ip_temperature"]["rungs"] == record["rungs"]
    # a temperature the user sets is kept, and nothing is chosen
    given = fit_supervised(train, "label", model="peakmixer_tiny", out=tmp_path / "g",
                           model_kwargs={"ip_temperature": 0.3}, **FIT)  # fmt: skip
    assert given.model.ip_temperature == 0.3
    assert "ip_temperature" not in given.config.training["recipe"]
