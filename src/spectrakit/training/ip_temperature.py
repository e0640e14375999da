"""The class-channel softmax temperature of PeakMixer / CNN-Peak, chosen on training data.

The temperature decides how few channels each class concentrates on (lower = fewer), so
it sets how specific the class-specific Grad-CAM can be; it must not cost accuracy. Rule:
a stratified quarter of the *training* split is held out and the candidates are raced by
successive halving: every candidate is trained a first rung of steps (AdamW, the run's
rate and weight decay) and scored by held-out cross-entropy; the better half goes on
training (same weights, same optimizer state) for another rung, and so on until two or
fewer remain. Among the last rung's candidates, the lowest temperature whose held-out loss
is within one standard error of the best is chosen (the one-standard-error rule, towards
the most specific channels). The winner's trained network is returned too (trained on
three quarters of the training split). The validation split and any test spectra are
never read. The candidates, every rung's losses and the choice are recorded
in the bundle (``training.recipe.ip_temperature``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "TEMPERATURES",
    "TemperatureChoice",
    "choose_ip_temperature",
    "heldout_split",
    "one_standard_error_choice",
    "race_ip_temperatures",
    "train_classifier",
]

#: candidate temperatures, most specific first
TEMPERATURES = (0.02, 0.05, 0.2, 1.0)


def heldout_split(y: np.ndarray, seed: int, fraction: float = 0.25) -> tuple[np.ndarray, ...]:
    """Stratified (fit, held-out) row indices of ``y`` (every class in both when it can)."""
    rng = np.random.default_rng(seed)
    fit, held = [], []
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        k = round(fraction * rows.size) if rows.size > 1 else 0
        held.append(rows[:k])
        fit.append(rows[k:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(held))


class _Trainer:
    """A network with its AdamW state and batch generator, trained in resumable rungs."""

    def __init__(self, net: nn.Module, lr: float, weight_decay: float, seed: int) -> None:
        self.net = net
        self.gen = torch.Generator().manual_seed(seed)
        self.opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=weight_decay)
        self.steps = 0

    def train(self, x: torch.Tensor, y: torch.Tensor, rows: np.ndarray, steps: int) -> nn.Module:
        """``steps`` more steps of cross-entropy on batches of 32 of ``x[rows]``; eval after."""
        rows_t = torch.as_tensor(rows)
        self.net.train()
        for _ in range(steps):
            pick = torch.randint(0, rows_t.numel(), (min(32, rows_t.numel()),), generator=self.gen)
            idx = rows_t[pick]
            loss = nn.functional.cross_entropy(self.net(x[idx]), y[idx])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
        self.steps += steps
        return self.net.eval()


def train_classifier(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor, rows: np.ndarray, *, steps: int,
    lr: float, weight_decay: float, seed: int,
) -> nn.Module:  # fmt: skip
    """``steps`` AdamW steps of cross-entropy on ``x[rows]`` (batches of 32); eval mode after.

    Parameters
    ----------
    net : nn.Module
        Classifier, (B, C, L) -> (B, n_classes).
    x : Tensor of shape (n, C, L)
    y : Tensor of shape (n,)
        Class indices.
    rows : ndarray of int
        The rows trained on.
    """
    return _Trainer(net, lr, weight_decay, seed).train(x, y, rows, steps)


def _fit_and_score(
    trainer: _Trainer, x: torch.Tensor, y: torch.Tensor, fit: np.ndarray, held: np.ndarray,
    steps: int,
) -> np.ndarray:  # fmt: skip
    """Held-out per-spectrum cross-entropy after ``steps`` more training steps on ``fit``."""
    net = trainer.train(x, y, fit, steps)
    with torch.no_grad():
        held_t = torch.as_tensor(held)
        return nn.functional.cross_entropy(net(x[held_t]), y[held_t], reduction="none").numpy()


def one_standard_error_choice(
    temps: Sequence[float], per_spectrum: Sequence[np.ndarray]
) -> tuple[float, list[float], list[float]]:
    """The lowest temperature whose mean loss is within one standard error of the best.

    Parameters
    ----------
    temps : sequence of float
        Candidates, ascending.
    per_spectrum : sequence of ndarray of shape (n_heldout,)
        Each candidate's held-out losses.

    Returns
    -------
    (float, list of float, list of float)
        The chosen temperature, the mean losses and their standard errors.
    """
    losses = [float(p.mean()) for p in per_spectrum]
    ses = [float(p.std(ddof=1) / np.sqrt(p.size)) if p.size > 1 else 0.0 for p in per_spectrum]
    best = int(np.argmin(losses))
    limit = losses[best] + ses[best]
    chosen = next(t for t, loss in zip(temps, losses, strict=True) if loss <= limit)
    return chosen, losses, ses


@dataclass
class TemperatureChoice:
    """The raced temperature, its record, and the winner's network (trained on ``fit``)."""

    temperature: float
    record: dict[str, Any]
    model: nn.Module


def race_ip_temperatures(
    build: Any, x: torch.Tensor, y: torch.Tensor, *, seed: int = 0, steps: int = 60,
    lr: float = 3e-3, weight_decay: float = 0.01,
    temperatures: Sequence[float] = TEMPERATURES,
) -> TemperatureChoice:  # fmt: skip
    """Successive halving of the temperatures on a held-out quarter of the training spectra.

    Parameters
    ----------
    build : callable
        ``build(ip_temperature) -> nn.Module``: a fresh classifier at that temperature.
    x : Tensor of shape (n, C, L)
        Training spectra (preprocessed, as the model reads them).
    y : Tensor of shape (n,)
        Class indices.
    seed, lr, weight_decay
        Split and training of the candidates.
    steps : int, default=60
        Steps a finalist is trained in all; one rung is ``steps // n_rungs`` of them
        (two rungs for four candidates: 4 x 30 + 2 x 30 steps instead of 4 x 60).
    temperatures : sequence of float
        Candidates.

    Returns
    -------
    TemperatureChoice
        The chosen temperature, the record (candidates, each rung's held-out losses and
        standard errors, the finalists, the rule, the held-out size) and the winner.
    """
    y_t = torch.as_tensor(np.asarray(y)).long()
    fit, held = heldout_split(y_t.numpy(), seed)
    temps = sorted(float(t) for t in temperatures)
    n_rungs = max(1, int(np.ceil(np.log2(len(temps)))))
    rung_steps = max(1, steps // n_rungs)
    trainers = {}
    for t in temps:
        torch.manual_seed(seed)
        trainers[t] = _Trainer(build(t), lr, weight_decay, seed)
    alive, rungs = temps, []
    while True:
        per = [_fit_and_score(trainers[t], x, y_t, fit, held, rung_steps) for t in alive]
        chosen, losses, ses = one_standard_error_choice(alive, per)
        rungs.append({"candidates": alive, "heldout_loss": losses, "heldout_se": ses,
                      "steps": trainers[alive[0]].steps})  # fmt: skip
        if len(alive) <= 2 or len(rungs) == n_rungs:
            break
        alive = _better_half(alive, losses, chosen)
    record = _record(chosen, temps, rungs, held, rung_steps)
    return TemperatureChoice(chosen, record, trainers[chosen].net)


def _better_half(alive: list[float], losses: list[float], chosen: float) -> list[float]:
    """The half of ``alive`` with the lowest losses (the one-SE choice always kept), ascending."""
    keep = {alive[i] for i in np.argsort(losses, kind="stable")[: -(-len(alive) // 2)]}
    keep.add(chosen)
    return sorted(keep)


def _record(
    chosen: float, temps: list[float], rungs: list[dict], held: np.ndarray, rung_steps: int
) -> dict[str, Any]:
    last = rungs[-1]
    return {
        "chosen": chosen, "candidates": temps, "finalists": last["candidates"],
        "heldout_loss": last["heldout_loss"], "heldout_se": last["heldout_se"],
        "rungs": rungs,
        "rule": "successive halving on a stratified quarter of the training split; the "
                "lowest finalist temperature within one standard error of the best held-out "
                "cross-entropy",
        "n_heldout": int(held.size), "steps": int(last["steps"]),
        "total_steps": int(rung_steps * sum(len(r["candidates"]) for r in rungs)),
    }  # fmt: skip


def choose_ip_temperature(
    build: Any, x: torch.Tensor, y: torch.Tensor, *, seed: int = 0, steps: int = 60,
    lr: float = 3e-3, weight_decay: float = 0.01,
    temperatures: Sequence[float] = TEMPERATURES,
) -> tuple[float, dict[str, Any]]:  # fmt: skip
    """The temperature of :func:`race_ip_temperatures` and its record (the winner dropped)."""
    race = race_ip_temperatures(build, x, y, seed=seed, steps=steps, lr=lr,
                                weight_decay=weight_decay, temperatures=temperatures)  # fmt: skip
    return race.temperature, race.record
