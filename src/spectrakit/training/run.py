"""The stages every training run shares: run folder, schedule length and the Lightning fit.

A run keeps its working state next to the bundle, in ``<out>.run/``: ``run.json`` (the
configuration of the call, written from the typed config and read back by ``resume``),
``checkpoints/`` and logs.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spectrakit.core.errors import ConfigError, TrainingError
from spectrakit.io import atomic_path
from spectrakit.training.config import TrainingConfig

__all__ = [
    "RUN_FILE",
    "Run",
    "Schedule",
    "fit_task",
    "read_run",
    "run_dir",
    "schedule",
    "start_run",
]

RUN_FILE = "run.json"


def run_dir(out: str | Path) -> Path:
    """Working directory (checkpoints, logs) of the run that writes bundle ``out``."""
    out = Path(out)
    return out.with_name(out.name + ".run")


@dataclass
class Run:
    """Where a run writes: the bundle, its work folder, the checkpoint to resume from."""

    out: Path
    work: Path
    ckpt: Path | None
    holder: Any = None  # a TemporaryDirectory holding a bundle written without ``out``


def start_run(
    out: str | Path | None, kind: str, inputs: dict[str, Any], config: TrainingConfig
) -> Run:
    """Prepare the run folder, record the call in ``run.json`` and seed every generator.

    Parameters
    ----------
    out : str or Path, optional
        Bundle directory (a temporary one when omitted).
    kind : {"supervised", "pretrain"}
    inputs : dict
        JSON-able facts of the call beside the configuration (e.g. the targets).
    config : FitConfig or PretrainConfig

    Returns
    -------
    Run
    """
    import lightning as L

    from spectrakit.training.trainer import LAST

    holder = None
    if out is None:
        holder = tempfile.TemporaryDirectory(prefix="spectrakit-")
        out = Path(holder.name) / "bundle"
    out = Path(out)
    work = Path(config.work_dir) if config.work_dir is not None else run_dir(out)
    last = work / "checkpoints" / f"{LAST}.ckpt"
    if config.resume and not last.is_file():
        raise TrainingError(
            "nothing to resume",
            expected=f"a checkpoint {last}",
            got="no checkpoint",
            fix="start the run without --resume",
        )
    if not config.resume:  # a fresh run must not pick up the old run's checkpoints
        for f in (work / "checkpoints").glob("*.ckpt"):
            f.unlink()
    work.mkdir(parents=True, exist_ok=True)
    record = {"kind": kind, "out": str(out), **inputs, "config": config.to_record()}
    with atomic_path(work / RUN_FILE) as tmp:
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    if config.threads:
        import torch

        torch.set_num_threads(int(config.threads))
    L.seed_everything(config.seed, workers=True, verbose=False)
    return Run(out, work, last if config.resume else None, holder)


def read_run(work: Path) -> dict[str, Any]:
    """The ``run.json`` of a run folder (its ``config`` as written by :func:`start_run`)."""
    path = work / RUN_FILE
    if not path.is_file():
        raise TrainingError(
            "no run to resume", expected=f"{path}", got="missing", fix="start a new run"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:
        raise TrainingError(
            f"cannot read {path.name}", expected="the JSON a run wrote", got=str(exc)[:120]
        ) from None
    if not isinstance(record, dict) or "kind" not in record:
        raise TrainingError(f"{path.name} is not a run record", expected="kind, config")
    if "config" not in record:  # written before the typed configuration
        record["config"] = {
            **{k: v for k, v in record.items() if k not in ("kind", "out", "targets")},
            **record.pop("options", {}),
            **record.pop("trainer", {}),
        }
    return record


@dataclass
class Schedule:
    """Optimizer steps per epoch and in the whole run."""

    steps_per_epoch: int
    max_steps: int


def schedule(n_batches: int, config: TrainingConfig, options: Any) -> Schedule:
    """Steps per epoch (split over the devices) and the run's total.

    Parameters
    ----------
    n_batches : int
        Batches of one epoch on one device.
    config : FitConfig or PretrainConfig
    options : TrainerOptions
        Resolved devices; its ``log_every_n_steps`` is capped to one epoch.

    Returns
    -------
    Schedule
    """
    steps = int(n_batches)
    if isinstance(options.devices, int) and options.devices > 1:
        steps = math.ceil(steps / (options.devices * options.num_nodes))
    total = int(config.max_steps or config.max_epochs * steps)
    options.log_every_n_steps = max(1, min(options.log_every_n_steps, steps))
    return Schedule(steps, total)


def fit_task(
    task: Any,
    datamodule: Any,
    run: Run,
    config: TrainingConfig,
    options: Any,
    total: Schedule,
    *,
    monitor: str | None = "val_loss",
    before_fit: Callable[[Any], None] | None = None,
) -> tuple[Any, dict] | None:
    """Train ``task``; its best checkpoint's weights are loaded back at the end.

    Returns
    -------
    (trainer, best) or None
        ``best``: epoch, step and validation loss of the best checkpoint. ``None`` on the
        non-zero ranks of a distributed run.
    """
    trainer, best_cb = _trainer(run, config, options, total, monitor)
    if before_fit is not None and run.ckpt is None:
        before_fit(trainer)
    ckpt = None if run.ckpt is None else str(run.ckpt)
    with warnings.catch_warnings():
        # the run folder is spectrakit's own (refused when it exists, unless resumed), so
        # Lightning's notice that its checkpoint folder is not empty says nothing new
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* is not empty")
        trainer.fit(task, datamodule=datamodule, ckpt_path=ckpt, weights_only=True)
    if not trainer.is_global_zero:
        return None
    return trainer, _best_state(best_cb, task)


def _trainer(
    run: Run, config: TrainingConfig, options: Any, total: Schedule, monitor: str | None
) -> tuple[Any, Any]:
    """The configured Lightning Trainer; a device setting Lightning refuses is one error."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    from spectrakit.core.errors import SpectraError
    from spectrakit.training.trainer import build_trainer

    try:
        return build_trainer(
            run.work, options, max_epochs=config.max_epochs + 1, max_steps=total.max_steps,
            monitor=monitor,
        )  # fmt: skip
    except SpectraError:
        raise
    except (MisconfigurationException, ValueError, TypeError, RuntimeError) as exc:
        raise ConfigError(
            "the device options do not fit this machine",
            expected="accelerator, devices, num_nodes, strategy and precision Lightning accepts",
            got=" ".join(str(exc).split())[:160],
            fix="check --accelerator/--devices/--strategy/--precision (or use the defaults)",
        ) from None


def _best_state(best_cb: Any, task: Any) -> dict:
    """Metadata of the best checkpoint, after loading its weights into ``task``."""
    from spectrakit.training.trainer import load_checkpoint

    path = getattr(best_cb, "best_model_path", "") if best_cb is not None else ""
    if path and Path(path).is_file():
        ckpt = load_checkpoint(path)
        task.load_state_dict(ckpt["state_dict"])
        score = best_cb.best_model_score
        return {
            "best_epoch": int(ckpt.get("epoch", -1)),
            "best_step": int(ckpt.get("global_step", -1)),
            "best_val_loss": None if score is None else float(score),
        }
    return {"best_epoch": None, "best_step": None, "best_val_loss": None}
