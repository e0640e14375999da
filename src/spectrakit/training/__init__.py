"""Training entry points: supervised fitting, masked pretraining, resuming; all end in a bundle.

Names load on first use so that importing ``spectrakit.training.cli_options`` (the command
line) does not import Lightning.
"""

from __future__ import annotations

from spectrakit._lazy import lazy_attributes

_LAZY = {
    "FitConfig": "spectrakit.training.config",
    "PretrainConfig": "spectrakit.training.config",
    "common_grid": "spectrakit.training.api",
    "fit_supervised": "spectrakit.training.api",
    "pretrain": "spectrakit.training.api",
    "resume": "spectrakit.training.api",
    "run_dir": "spectrakit.training.api",
    "AtomicCheckpointIO": "spectrakit.training.trainer",
    "TrainerOptions": "spectrakit.training.trainer",
    "build_trainer": "spectrakit.training.trainer",
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes("spectrakit.training", _LAZY)
