"""Training entry points: supervised fitting, masked pretraining, resuming; all end in a bundle.

Names load on first use so that importing ``spectrakit.training.cli_options`` (the command
line) does not import Lightning.
"""

from __future__ import annotations

from spectrakit._lazy import by_module, lazy_attributes

_LAZY = by_module(
    {
        "spectrakit.training.config": ("FitConfig", "PretrainConfig"),
        "spectrakit.training.api": (
            "common_grid",
            "fit_supervised",
            "pretrain",
            "resume",
            "run_dir",
        ),
        "spectrakit.training.trainer": ("AtomicCheckpointIO", "TrainerOptions", "build_trainer"),
    }
)

__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes("spectrakit.training", _LAZY)
