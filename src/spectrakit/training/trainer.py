"""A configured Lightning ``Trainer``: checkpoints, early stopping, logs, precision, devices.

Checkpoints are written atomically (temporary file + rename) and read back with
``torch.load(weights_only=True)``: they hold only tensors and plain Python values, so
resuming never unpickles arbitrary objects. ``last.ckpt`` is refreshed every N optimizer
steps; ``best.ckpt`` holds the weights of the lowest validation loss.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, LearningRateMonitor
from lightning.pytorch.plugins.io import TorchCheckpointIO

from spectrakit.core.errors import TrainingError
from spectrakit.io import atomic_path
from spectrakit.training.checkpoints import BestCheckpoint, StepCheckpoint
from spectrakit.training.compile import CompileNetwork
from spectrakit.training.config import TRAINER_FIELDS, TrainingConfig
from spectrakit.training.rng_state import StepSeeds

__all__ = [
    "BEST",
    "LAST",
    "AtomicCheckpointIO",
    "TrainerOptions",
    "build_trainer",
    "default_precision",
    "load_checkpoint",
]

BEST = "best"
LAST = "last"
_log = logging.getLogger(__name__)
# Lightning's own pytree helper trips a torch deprecation on every fit; nothing a user can act on.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


_REQUIRED = {"state_dict": dict, "global_step": int, "epoch": int, "loops": dict}


def _refuse(path: str | os.PathLike, got: str) -> TrainingError:
    return TrainingError(
        f"cannot resume from {Path(path).name}: not a spectrakit training checkpoint",
        expected="a last.ckpt written by an interrupted spectrakit run",
        got=got[:160],
        fix="delete the run folder and start again without --resume",
    )


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict:
    """Read a Lightning checkpoint without unpickling code (``weights_only=True``).

    Anything else (random bytes, a pickle holding objects, a tensor file without the training
    state) is refused with a :class:`TrainingError`.
    """
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise _refuse(path, lines[0]) from exc
    if not isinstance(ckpt, dict):
        raise _refuse(path, f"a {type(ckpt).__name__}")
    for key, kind in _REQUIRED.items():
        if not isinstance(ckpt.get(key), kind):
            raise _refuse(path, f"no {key!r} entry")
    if not all(isinstance(v, torch.Tensor) for v in ckpt["state_dict"].values()):
        raise _refuse(path, "model weights that are not tensors")
    return ckpt


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoint I/O that writes atomically and loads with ``weights_only=True``."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None
    ) -> None:
        """Write ``checkpoint`` to a temporary sibling, then rename it over ``path``."""
        with atomic_path(path) as tmp:
            torch.save(checkpoint, tmp)

    def load_checkpoint(self, path: Any, map_location: Any = None, **kwargs: Any) -> dict:
        """Load with ``weights_only=True`` (plain tensors and Python values only)."""
        return load_checkpoint(path, map_location or "cpu")


def default_precision(accelerator: str = "auto") -> str:
    """bf16 (or fp16) mixed precision on CUDA, 32-bit elsewhere."""
    cuda = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    if not cuda:
        return "32-true"
    return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"


#: the defaults of the trainer options, declared once in the typed training configuration
_DEFAULT = TrainingConfig.trainer_defaults()


class TrainerOptions:
    """Options shared by every training entry point (validated once).

    The defaults are those of :class:`~spectrakit.training.config.TrainingConfig` (the
    parameters are its trainer fields, ``TRAINER_FIELDS``); its help text describes each.

    Parameters
    ----------
    accelerator, devices, num_nodes, strategy : passed to ``lightning.Trainer``
    precision : str, optional
        Default: :func:`default_precision`.
    gradient_clip : float or None
        Gradient-norm clipping (None: off).
    patience : int or None
        Early stopping patience in validation epochs (None or 0 disables it).
    checkpoint_every : int
        Optimizer steps between refreshes of ``last.ckpt``.
    progress : bool
        Show a progress bar.
    loggers : sequence of str
        Loggers to use (csv, tensorboard; ``"wandb"`` when installed).
    deterministic : bool
        Ask for deterministic algorithms (warn where an op has none).
    log_every_n_steps : int
    callbacks : list of Callback, optional
        Extra callbacks.
    compile : bool
        ``torch.compile`` the network for the fit (in place: checkpoints and bundles are
        unchanged). Off by default; measured in ``benchmarks/training.py --compile``.
    """

    def __init__(
        self,
        accelerator: str = _DEFAULT["accelerator"],
        devices: Any = _DEFAULT["devices"],
        num_nodes: int = _DEFAULT["num_nodes"],
        strategy: Any = _DEFAULT["strategy"],
        precision: str | None = _DEFAULT["precision"],
        gradient_clip: float | None = _DEFAULT["gradient_clip"],
        patience: int | None = _DEFAULT["patience"],
        checkpoint_every: int = _DEFAULT["checkpoint_every"],
        progress: bool = _DEFAULT["progress"],
        loggers: tuple[str, ...] | list[str] = _DEFAULT["loggers"],
        deterministic: bool = _DEFAULT["deterministic"],
        log_every_n_steps: int = _DEFAULT["log_every_n_steps"],
        callbacks: list[Callback] | None = _DEFAULT["callbacks"],
        compile: bool = _DEFAULT["compile"],
    ) -> None:
        if accelerator == "auto" and not torch.cuda.is_available():
            accelerator = "cpu"
        self.accelerator = accelerator
        self.devices = 1 if devices == "auto" and accelerator == "cpu" else devices
        self.num_nodes = int(num_nodes)
        self.strategy = strategy
        self.precision = precision or default_precision(accelerator)
        self.gradient_clip = gradient_clip
        self.patience = patience
        if int(checkpoint_every) < 1:
            raise TrainingError(
                "invalid checkpoint interval", expected="a positive number of steps",
                got=str(checkpoint_every),
            )  # fmt: skip
        self.checkpoint_every = int(checkpoint_every)
        self.progress = progress
        self.loggers = tuple(loggers)
        self.deterministic = deterministic
        self.log_every_n_steps = int(log_every_n_steps)
        self.callbacks = list(callbacks or [])
        self.compile = bool(compile)

    @classmethod
    def pop_from(cls, options: dict[str, Any]) -> TrainerOptions:
        """Take the trainer options out of a ``**options`` dict (the rest stays)."""
        return cls(**{k: options.pop(k) for k in list(options) if k in TRAINER_FIELDS})

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (callbacks omitted)."""
        return {
            "accelerator": self.accelerator,
            "devices": self.devices if isinstance(self.devices, int | str) else str(self.devices),
            "num_nodes": self.num_nodes,
            "strategy": str(self.strategy),
            "precision": self.precision,
            "gradient_clip": self.gradient_clip,
            "patience": self.patience,
            "checkpoint_every": self.checkpoint_every,
            "compile": self.compile,
        }


def _loggers(names: tuple[str, ...], log_dir: Path) -> list:
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    out = []
    for name in names:
        if name == "csv":
            out.append(CSVLogger(str(log_dir), name="csv", version=0))
        elif name == "tensorboard":
            if importlib.util.find_spec("tensorboard") or importlib.util.find_spec("tensorboardX"):
                out.append(TensorBoardLogger(str(log_dir), name="tensorboard", version=0))
        elif name == "wandb":
            if importlib.util.find_spec("wandb") is None:
                _log.warning("wandb is not installed; skipping the Weights & Biases logger")
                continue
            from lightning.pytorch.loggers import WandbLogger

            out.append(WandbLogger(save_dir=str(log_dir)))
        else:
            raise TrainingError(
                "unknown logger", expected="csv | tensorboard | wandb", got=repr(name)
            )
    return out


def build_trainer(
    work_dir: str | Path,
    options: TrainerOptions,
    *,
    max_epochs: int,
    max_steps: int = -1,
    monitor: str | None = "val_loss",
) -> tuple[L.Trainer, BestCheckpoint | None]:
    """A Trainer writing checkpoints and logs under ``work_dir``.

    Parameters
    ----------
    work_dir : str or Path
        Run directory: ``checkpoints/{best,last}.ckpt``, ``logs/{csv,tensorboard}``.
    options : TrainerOptions
    max_epochs : int
    max_steps : int, default=-1
        Hard limit on optimizer steps (-1: none).
    monitor : str or None, default="val_loss"
        Metric of the best checkpoint and early stopping (None: neither).

    Returns
    -------
    trainer : lightning.Trainer
    best : BestCheckpoint or None
        The best-checkpoint callback.
    """
    work_dir = Path(work_dir)
    callbacks, best = _callbacks(work_dir / "checkpoints", options, monitor)
    loggers = _loggers(options.loggers, work_dir / "logs")
    if loggers:  # the learning rate of every step goes beside the losses (lr-AdamW, ...)
        callbacks.append(LearningRateMonitor(logging_interval="step"))
    if not options.progress:  # quiet runs: no device banners or tips, only warnings
        for pkg in ("pytorch", "fabric"):
            logging.getLogger(f"lightning.{pkg}.utilities.rank_zero").setLevel(logging.WARNING)
    trainer = L.Trainer(
        default_root_dir=str(work_dir),
        accelerator=options.accelerator,
        devices=options.devices,
        num_nodes=options.num_nodes,
        strategy=options.strategy,
        precision=options.precision,
        max_epochs=max_epochs,
        max_steps=max_steps,
        gradient_clip_val=options.gradient_clip,
        deterministic="warn" if options.deterministic else False,
        callbacks=callbacks,
        logger=loggers or False,
        enable_progress_bar=options.progress,
        enable_model_summary=False,
        log_every_n_steps=options.log_every_n_steps,
        plugins=[AtomicCheckpointIO()],
        num_sanity_val_steps=0,
    )
    return trainer, best


def _callbacks(
    ckpt_dir: Path, options: TrainerOptions, monitor: str | None
) -> tuple[list[Callback], BestCheckpoint | None]:
    """Seeds, best checkpoint and early stopping (with a monitor), last.ckpt, compile, extras.

    The order matters: the best checkpoint comes before :class:`StepCheckpoint`, so a save
    after validation holds the updated best score.
    """
    callbacks: list[Callback] = [StepSeeds()]
    best = None
    if monitor is not None:
        best = BestCheckpoint(ckpt_dir, BEST, monitor)
        callbacks.append(best)
        if options.patience:
            callbacks.append(EarlyStopping(monitor=monitor, mode="min", patience=options.patience))
    callbacks.append(StepCheckpoint(ckpt_dir / f"{LAST}.ckpt", options.checkpoint_every))
    if options.compile:
        callbacks.append(CompileNetwork())
    return callbacks + options.callbacks, best
