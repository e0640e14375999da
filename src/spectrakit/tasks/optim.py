"""Optimizers and learning-rate schedules shared by the tasks.

AdamW (Loshchilov & Hutter, 2019) without weight decay on biases and normalization weights;
schedules: linear warmup + cosine decay, one-cycle (Smith & Topin, 2019), the three cyclical
policies of Smith (2017) -- ``triangular``, ``triangular2`` and ``exp_range`` -- or constant.
Parameter groups may carry their own learning rate (discriminative fine-tuning, Howard &
Ruder, 2018).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from spectrakit.core.errors import ConfigError

__all__ = [
    "CYCLICAL",
    "SCHEDULES",
    "build_optimizer",
    "build_scheduler",
    "decay_groups",
    "estimated_steps",
    "schedule_spec",
]

SCHEDULES = ("cosine", "onecycle", "cyclic", "triangular", "triangular2", "exp_range", "constant")
CYCLICAL = ("cyclic", "triangular", "triangular2", "exp_range")


def schedule_spec(schedule: str | Mapping[str, Any]) -> dict[str, Any]:
    """Validated, JSON-able description of a learning-rate schedule.

    Parameters
    ----------
    schedule : str or mapping
        A name from :data:`SCHEDULES`, or a mapping ``{"name": ..., "base_ratio": ...,
        "step_size": ..., "gamma": ...}`` for the cyclical policies: ``base_ratio`` is the lower
        bound as a fraction of the peak (default 0.1), ``step_size`` the optimizer steps of one
        half cycle (default a quarter of the run, halved), ``gamma`` the per-step decay of
        ``exp_range`` (default: the amplitude falls to 1 % over the run).

    Returns
    -------
    dict
        ``{"name", "base_ratio", "step_size", "gamma"}`` with ``None`` for unset values.

    Examples
    --------
    >>> schedule_spec("triangular2")["name"]
    'triangular2'
    """
    spec = {"name": schedule} if isinstance(schedule, str) else dict(schedule)
    name = spec.get("name")
    if name not in SCHEDULES:
        raise ConfigError("unknown schedule", expected=" | ".join(SCHEDULES), got=repr(name))
    unknown = set(spec) - {"name", "base_ratio", "step_size", "gamma"}
    if unknown or (
        name not in CYCLICAL and len(spec) > 1 and any(spec[k] for k in spec if k != "name")
    ):
        raise ConfigError(
            f"schedule {name!r} takes no options {sorted(set(spec) - {'name'})}",
            fix="base_ratio, step_size and gamma apply to the cyclical schedules only",
        )
    out = {"name": name, "base_ratio": None, "step_size": None, "gamma": None, **spec}
    _check_cyclical(out)
    return out


def _check_cyclical(spec: dict[str, Any]) -> None:
    """Range checks of the cyclical options (each ``None`` or in range)."""
    ratio, step, gamma = spec["base_ratio"], spec["step_size"], spec["gamma"]
    if ratio is not None and not 0.0 < float(ratio) < 1.0:
        raise ConfigError(
            "schedule base_ratio out of range", expected="0 < base_ratio < 1", got=ratio
        )
    if step is not None and (int(step) != step or int(step) < 1):
        raise ConfigError("schedule step_size out of range", expected="an integer >= 1", got=step)
    if gamma is not None and not 0.0 < float(gamma) <= 1.0:
        raise ConfigError("schedule gamma out of range", expected="0 < gamma <= 1", got=gamma)


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
    schedule: str | Mapping[str, Any],
    total_steps: int,
    warmup_steps: int | float = 0.05,
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Per-step learning-rate schedule.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer; each group's current ``lr`` is its peak.
    schedule : str or mapping
        Shape of the schedule: a name from :data:`SCHEDULES` or a mapping accepted by
        :func:`schedule_spec` (cyclical bounds and step size).
    total_steps : int
        Optimizer steps of the whole run.
    warmup_steps : int or float, default=0.05
        Linear warmup length in steps (int) or as a fraction of ``total_steps`` (float < 1).

    Returns
    -------
    LRScheduler or None
        ``None`` for ``"constant"``.
    """
    spec = schedule_spec(schedule)
    total = max(int(total_steps), 1)
    warm = int(warmup_steps * total) if isinstance(warmup_steps, float) else int(warmup_steps)
    warm = min(max(warm, 0), total - 1) if total > 1 else 0
    peaks = [g["lr"] for g in optimizer.param_groups]
    if spec["name"] == "constant":
        return None
    if spec["name"] == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=peaks,
            total_steps=total + 1,
            pct_start=max(warm, 1) / total,
            cycle_momentum=False,
        )
    if spec["name"] in CYCLICAL:
        return _cyclical(optimizer, spec, peaks, total)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _WarmupCosine(warm, total))


def _cyclical(
    optimizer: torch.optim.Optimizer, spec: dict[str, Any], peaks: list[float], total: int
) -> torch.optim.lr_scheduler.CyclicLR:
    """Smith's cyclical schedule between ``base_ratio * peak`` and each group's peak."""
    mode = "triangular" if spec["name"] == "cyclic" else spec["name"]
    ratio = 0.1 if spec["base_ratio"] is None else float(spec["base_ratio"])
    step = spec["step_size"] or max(total // 8, 1)
    gamma = spec["gamma"] if spec["gamma"] is not None else 0.01 ** (1.0 / total)
    return torch.optim.lr_scheduler.CyclicLR(
        optimizer,
        base_lr=[p * ratio for p in peaks],
        max_lr=peaks,
        step_size_up=int(step),
        mode=mode,
        gamma=float(gamma),
        cycle_momentum=False,
    )


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
