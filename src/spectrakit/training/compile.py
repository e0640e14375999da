"""Optional ``torch.compile`` of the network for the duration of a fit.

The network is compiled in place (``nn.Module.compile``), so parameter names, checkpoints
and the saved bundle are the same as without it; the compiled call is dropped when the fit
ends, so export and prediction run the eager module. Off by default: on CPU it pays for
itself only on long runs of some families (``benchmarks/training.py --compile`` measures it).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

__all__ = ["CompileNetwork"]


class CompileNetwork(Callback):
    """Compile ``pl_module.model`` (or the module itself) when fitting starts.

    Parameters
    ----------
    **options
        Passed to ``torch.compile`` (``mode``, ``dynamic``, ...).
    """

    def __init__(self, **options: Any) -> None:
        self.options = options
        self._net: torch.nn.Module | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Compile the network in place."""
        net = getattr(pl_module, "model", None)
        self._net = net if isinstance(net, torch.nn.Module) else pl_module
        self._net.compile(**self.options)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Back to the eager module (export, prediction and saving see plain modules)."""
        if self._net is not None:
            self._net._compiled_call_impl = None
            self._net = None
