"""When a training step's loss is worth logging (``LightningModule.log`` costs ~1 ms)."""

from __future__ import annotations

from typing import Any


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
