"""The trainer options: defaults from the typed training configuration, the callbacks built."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from spectrakit.training.config import (
    TRAINER_FIELDS,
    FitConfig,
    PretrainConfig,
    TrainingConfig,
)
from spectrakit.training.trainer import TrainerOptions


def test_trainer_options_are_the_trainer_fields_with_the_config_defaults():
    params = inspect.signature(TrainerOptions).parameters
    assert tuple(params) == TRAINER_FIELDS
    fields = {f.name: f.default for f in dataclasses.fields(TrainingConfig)}
    for name, param in params.items():  # a default changed on one side only fails here
        assert param.default == fields[name], name
    assert TrainingConfig.trainer_defaults() == {n: fields[n] for n in TRAINER_FIELDS}


@pytest.mark.parametrize("config", [FitConfig, PretrainConfig])
def test_every_config_gives_the_trainer_the_same_defaults(config):
    assert config.trainer_defaults() == TrainingConfig.trainer_defaults()
    built = TrainerOptions(**config().trainer_kwargs())
    default = TrainerOptions()
    assert built.to_dict() == default.to_dict()
    for name in ("progress", "loggers", "deterministic", "log_every_n_steps", "callbacks"):
        assert getattr(built, name) == getattr(default, name), name


def test_pop_from_takes_exactly_the_trainer_fields():
    options = {"patience": 3, "checkpoint_every": 7, "batch_size": 8, "lr": 0.1}
    opts = TrainerOptions.pop_from(options)
    assert options == {"batch_size": 8, "lr": 0.1}
    assert opts.patience == 3 and opts.checkpoint_every == 7
    assert opts.gradient_clip == TrainingConfig.trainer_defaults()["gradient_clip"]


def _kinds(callbacks):
    return [type(c).__name__ for c in callbacks]


def test_callbacks_in_order_best_before_last_and_extras_at_the_end(tmp_path):
    from lightning.pytorch.callbacks import Callback

    from spectrakit.training.trainer import _callbacks

    class Extra(Callback):
        pass

    opts = TrainerOptions(patience=5, checkpoint_every=3, callbacks=[Extra()], compile=True)
    callbacks, best = _callbacks(tmp_path, opts, "val_loss")
    assert _kinds(callbacks) == [
        "StepSeeds", "BestCheckpoint", "EarlyStopping", "StepCheckpoint", "CompileNetwork",
        "Extra",
    ]  # fmt: skip
    assert best is callbacks[1] and best.monitor == "val_loss"
    assert callbacks[2].patience == 5
    assert opts.callbacks == [callbacks[-1]]  # the options' own list is not extended


@pytest.mark.parametrize(("patience", "monitor"), [(0, "val_loss"), (None, "val_loss"), (5, None)])
def test_no_early_stopping_without_patience_or_monitor(tmp_path, patience, monitor):
    from spectrakit.training.trainer import _callbacks

    callbacks, best = _callbacks(tmp_path, TrainerOptions(patience=patience), monitor)
    assert "EarlyStopping" not in _kinds(callbacks)
    assert (best is None) == (monitor is None)
    assert _kinds(callbacks)[0] == "StepSeeds" and _kinds(callbacks)[-1] == "StepCheckpoint"
