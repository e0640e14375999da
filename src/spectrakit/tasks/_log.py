"""Cheap logging: training losses only when written, validation means reduced once an epoch."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["EpochMeans", "step_log_due"]


def step_log_due(module: Any) -> bool:
    """True on the steps the loggers write, and on every step when a progress bar shows it.

    ``self.log`` on every optimizer step was the largest per-step cost of a fit after the
    model itself (``benchmarks/training.py --overhead``); between logging steps the value
    is never written anywhere, so it is not computed into the logger's collection.
    """
    trainer = getattr(module, "_trainer", None)
    if trainer is None or trainer.progress_bar_callback is not None:
        return True
    connector = getattr(trainer, "_logger_connector", None)
    return bool(getattr(connector, "should_update_logs", True))


class EpochMeans:
    """Batch-size-weighted means of per-batch metrics, accumulated as tensors.

    The arithmetic is Lightning's own for ``self.log(..., on_epoch=True)`` (a float
    ``sum(value * batch_size)`` over an integer count, divided once), so the epoch mean
    is bit-identical to logging every batch, without the logger's per-call bookkeeping.
    """

    def __init__(self) -> None:
        self._sums: dict[str, list[Any]] = {}

    def add(self, name: str, value: torch.Tensor, batch_size: int, prog_bar: bool) -> None:
        """Add one batch's ``value`` (a scalar tensor) weighted by ``batch_size``."""
        value = value.detach()
        if value.dtype not in (torch.float32, torch.float64):
            value = value.to(torch.get_default_dtype())
        entry = self._sums.get(name)
        if entry is None:
            zero = torch.zeros((), dtype=torch.get_default_dtype(), device=value.device)
            entry = self._sums[name] = [zero, torch.zeros((), dtype=torch.int64), prog_bar]
        entry[0] = entry[0] + value * batch_size
        entry[1] = entry[1] + batch_size

    def pop(self) -> list[tuple[str, torch.Tensor, bool]]:
        """``(name, mean, prog_bar)`` of every metric added since the last call; then reset."""
        out = [(k, s / n.to(s.device), bar) for k, (s, n, bar) in self._sums.items()]
        self._sums = {}
        return out
