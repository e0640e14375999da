"""Training entry points: supervised fitting, masked pretraining, resuming; all end in a bundle."""

from spectrakit.training.api import common_grid, fit_supervised, pretrain, resume, run_dir
from spectrakit.training.trainer import AtomicCheckpointIO, TrainerOptions, build_trainer

__all__ = [
    "AtomicCheckpointIO",
    "TrainerOptions",
    "build_trainer",
    "common_grid",
    "fit_supervised",
    "pretrain",
    "resume",
    "run_dir",
]
