"""Optimizers and learning-rate schedules shared by the tasks.

AdamW (Loshchilov & Hutter, 2019) without weight decay on biases and normalization weights;
schedules: linear warmup + cosine decay, one-cycle (Smith & Topin, 2019), cyclical
triangular (Smith, 2017) or constant. Parameter groups may carry their own learning rate
(discriminative fine-tuning, Howard & Ruder, 2018).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from spectrakit.core.errors import ConfigError

__all__ = [
    "SCHEDULES",
    "build_optimizer",
    "build_scheduler",
    "decay_groups",
    "estimated_steps",
]

SCHEDULES = ("cosine", "onecycle", "cyclic", "constant")


def decay_groups(
    named_params: Iterable[tuple[str, torch.nn.Parameter]], lr: float, weight_decay: float
) -> list[dict]:
    """Split parameters into a decayed group and a group without decay (biases, norms).

    Parameters
    ----------
    named_params : iterable of (name, Parameter)
        Trainable parameters (``requires_grad`` is checked).
    lr : float
        Learning rate of both groups.
    weight_decay : float
        Decay of the decayed group.

    Returns
    -------
    list of dict
        Optimizer parameter groups (empty groups omitted).
    """
    decay, no_decay = [], []
    for name, p in named_params:
        if not p.requires_grad:
            continue
        # 1-D tensors are biases, norm scales, tokens and positional tables
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": weight_decay, "lr": lr},
        {"params": no_decay, "weight_decay": 0.0, "lr": lr},
    ]
    return [g for g in groups if g["params"]]


def build_optimizer(groups: list[dict], lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW over parameter groups (each group may set its own ``lr``)."""
    if not groups:
        raise ConfigError(
            "no trainable parameters",
            expected="at least one parameter with requires_grad=True",
            got="everything frozen",
            fix="use a weaker freeze option",
        )
    return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    schedule: str,
    total_steps: int,
    warmup_steps: int | float = 0.05,
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Per-step learning-rate schedule.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer; each group's current ``lr`` is its peak.
    schedule : {"cosine", "onecycle", "cyclic", "constant"}
        Shape of the schedule.
    total_steps : int
        Optimizer steps of the whole run.
    warmup_steps : int or float, default=0.05
        Linear warmup length in steps (int) or as a fraction of ``total_steps`` (float < 1).

    Returns
    -------
    LRScheduler or None
        ``None`` for ``"constant"``.
    """
    if schedule not in SCHEDULES:
        raise ConfigError("unknown schedule", expected=" | ".join(SCHEDULES), got=repr(schedule))
    total = max(int(total_steps), 1)
    warm = int(warmup_steps * total) if isinstance(warmup_steps, float) else int(warmup_steps)
    warm = min(max(warm, 0), total - 1) if total > 1 else 0
    peaks = [g["lr"] for g in optimizer.param_groups]
    if schedule == "constant":
        return None
    if schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=peaks,
            total_steps=total + 1,
            pct_start=max(warm, 1) / total,
            cycle_momentum=False,
        )
    if schedule == "cyclic":
        cycle = max(total // 4, 2)
        return torch.optim.lr_scheduler.CyclicLR(
            optimizer,
            base_lr=[p / 10 for p in peaks],
            max_lr=peaks,
            step_size_up=cycle // 2,
            cycle_momentum=False,
        )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _WarmupCosine(warm, total))


class _WarmupCosine:
    """Multiplier: linear 0 -> 1 over ``warm`` steps, then cosine 1 -> 0.01 at ``total``."""

    def __init__(self, warm: int, total: int) -> None:
        self.warm, self.total = warm, total

    def __call__(self, step: int) -> float:
        if step < self.warm:
            return (step + 1) / (self.warm + 1)
        progress = min((step - self.warm) / max(self.total - self.warm, 1), 1.0)
        return 0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * progress))


def estimated_steps(trainer) -> int:
    """Optimizer steps the trainer will run (1000 when it cannot tell yet)."""
    if trainer is None:
        return 1000
    try:
        return max(int(trainer.estimated_stepping_batches), 1)
    except (RuntimeError, ValueError, TypeError):
        return 1000
