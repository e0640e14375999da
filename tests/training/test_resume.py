"""A run interrupted mid-epoch resumes at the exact step and ends like an uninterrupted one."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

import spectrakit
from spectrakit import Spectra
from spectrakit.core.errors import TrainingError
from spectrakit.training import fit_supervised, resume, run_dir

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Crash(RuntimeError):
    pass


class CrashAt(L.Callback):
    """Simulates a killed process: raises after optimizer step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step >= self.step:
            raise _Crash(f"killed at step {trainer.global_step}")


def _data(n: int = 60, p: int = 64) -> Spectra:
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, p)
    c = rng.uniform(0, 1, n)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 40.0) ** 2)
    values = c[:, None] * peak + rng.normal(0, 0.02, (n, p))
    return Spectra(values, axis, meta={"c": c})


OPTS = dict(
    model="mlp_tiny",
    ood="none",  # the bundle holds only the model: this test is about resuming
    max_epochs=4,
    batch_size=8,
    checkpoint_every=3,
    progress=False,
    loggers=(),
    patience=None,
)


def test_resume_after_crash_mid_epoch(tmp_path):
    data = _data()
    # 48 training spectra / 8 = 6 steps per epoch; the crash hits step 8, inside epoch 2
    with pytest.raises(_Crash):
        fit_supervised(data, "c", out=tmp_path / "m", callbacks=[CrashAt(8)], **OPTS)
    ckpt_dir = run_dir(tmp_path / "m") / "checkpoints"
    last = torch.load(ckpt_dir / "last.ckpt", weights_only=True)
    assert last["global_step"] == 6  # the last multiple of checkpoint_every before the crash
    assert not (tmp_path / "m").exists()  # no bundle from an interrupted run

    predictor = resume(tmp_path / "m", data)
    training = predictor.config["training"]
    assert training["steps"] == 4 * 6  # same total as an uninterrupted run
    # a valid best checkpoint was selected and became the bundle
    assert training["best_step"] is not None and 0 < training["best_step"] <= 24
    assert np.isfinite(training["best_val_loss"])
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "card.md",
        "config.json",
        "model.safetensors",
    ]
    assert spectrakit.load(tmp_path / "m").predict(data[:3]).shape == (3, 1)


def test_resume_without_checkpoint_is_refused(tmp_path):
    with pytest.raises(TrainingError, match="nothing to resume"):
        fit_supervised(_data(), "c", out=tmp_path / "m", resume=True, **OPTS)


# ---------------------------------------------------------------------- exact resume
def _exact_opts(**extra):
    from spectrakit.augment import Compose, GaussianNoise, IntensityScale, Shift

    augment = Compose([Shift(1.5), IntensityScale(0.9, 1.1), GaussianNoise(0.02)], seed=3)
    # dropout (global stream), mixup (global stream in the step), seeded augmentation
    return {
        **OPTS,
        "max_epochs": 5,
        "checkpoint_every": 5,
        "mixup_alpha": 0.4,
        "augment": augment,
        "model_kwargs": {"dropout": 0.3},
        **extra,
    }


def _tensors(ckpt: dict) -> dict[str, torch.Tensor]:
    """Every tensor of a checkpoint: weights and optimizer state (best.ckpt: weights only)."""
    out = {f"model.{k}": v for k, v in ckpt["state_dict"].items()}
    for i, opt in enumerate(ckpt.get("optimizer_states", [])):
        for pid, st in opt["state"].items():
            for name, v in st.items():
                if isinstance(v, torch.Tensor):
                    out[f"opt{i}.{pid}.{name}"] = v
    return out


def _assert_same_tensors(a: dict, b: dict) -> None:
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    for key in ta:
        assert torch.equal(ta[key], tb[key]), key


def _run_state(out) -> tuple[dict, dict, dict]:
    ckpt = run_dir(out) / "checkpoints"
    last = torch.load(ckpt / "last.ckpt", weights_only=True)
    best = torch.load(ckpt / "best.ckpt", weights_only=True)
    training = spectrakit.load(out).config["training"]
    return last, best, training


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, one_torch_thread):
    """The reference: the same run, never stopped (30 steps)."""
    out = tmp_path_factory.mktemp("full") / "full"
    fit_supervised(_data(), "c", out=out, **_exact_opts())
    return out


def _assert_same_run(reference, out) -> None:
    last_a, best_a, train_a = _run_state(reference)
    last_b, best_b, train_b = _run_state(out)
    assert last_a["global_step"] == last_b["global_step"] == 30
    _assert_same_tensors(last_a, last_b)  # final weights and optimizer state
    _assert_same_tensors(best_a, best_b)  # the same best checkpoint
    for key in ("steps", "epochs", "best_step", "best_epoch", "best_val_loss"):
        assert train_a[key] == train_b[key], key
    data = _data()
    a = spectrakit.load(reference).predict(data)
    np.testing.assert_array_equal(a, spectrakit.load(out).predict(data))


def test_killed_mid_epoch_and_resumed_equals_uninterrupted(tmp_path, uninterrupted):
    data = _data()
    # 6 steps per epoch, 30 in all; last.ckpt at step 10 (batch 4 of epoch 2), killed at 13
    with pytest.raises(_Crash):
        fit_supervised(data, "c", out=tmp_path / "cut", callbacks=[CrashAt(13)], **_exact_opts())
    cut = torch.load(run_dir(tmp_path / "cut") / "checkpoints" / "last.ckpt", weights_only=True)
    assert cut["global_step"] == 10 and cut["epoch"] == 1
    fit_supervised(data, "c", out=tmp_path / "cut", resume=True, **_exact_opts())
    _assert_same_run(uninterrupted, tmp_path / "cut")


KILL_SCRIPT = """
import os, sys
import lightning as L
import torch
sys.path.insert(0, sys.argv[2])
from test_resume import _data, _exact_opts
from spectrakit.training import fit_supervised

torch.set_num_threads(1)


class Kill(L.Callback):
    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step >= 13:
            os._exit(9)  # no exception, no clean-up: like kill -9


fit_supervised(_data(), "c", out=sys.argv[1], callbacks=[Kill()], **_exact_opts(num_workers=2))
"""


@pytest.mark.slow
def test_hard_kill_with_loader_workers_resumes_exactly(tmp_path, uninterrupted):
    """os._exit in a subprocess at step 13; two loader workers; the reference used none."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "kill.py"
    script.write_text(KILL_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    tests = str(Path(__file__).parent)
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "cut"), tests],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert not (tmp_path / "cut").exists()
    fit_supervised(_data(), "c", out=tmp_path / "cut", resume=True, **_exact_opts(num_workers=2))
    _assert_same_run(uninterrupted, tmp_path / "cut")


def test_resume_twice_at_an_epoch_end_equals_uninterrupted(tmp_path):
    """Checkpoint on the last batch of an epoch, then a second kill after a validation."""
    data = _data()
    opts = _exact_opts(checkpoint_every=6)
    fit_supervised(data, "c", out=tmp_path / "full", **opts)
    for step in (8, 20):  # last.ckpt at 6 (an epoch end), then at 18
        with pytest.raises(_Crash):
            fit_supervised(
                data, "c", out=tmp_path / "cut", callbacks=[CrashAt(step)],
                resume=step > 8, **opts,
            )  # fmt: skip
    resume(tmp_path / "cut", data, augment=opts["augment"])
    last_a, best_a, _ = _run_state(tmp_path / "full")
    last_b, best_b, _ = _run_state(tmp_path / "cut")
    _assert_same_tensors(last_a, last_b)
    _assert_same_tensors(best_a, best_b)
    assert best_a["global_step"] == best_b["global_step"]


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\x01not a checkpoint" * 40,  # random bytes
        "pickle",  # a pickle of an arbitrary object
        "tensors",  # a torch file without the training state
    ],
)
def test_bad_last_checkpoint_is_refused(tmp_path, content):
    import pickle

    data = _data()
    with pytest.raises(_Crash):
        fit_supervised(data, "c", out=tmp_path / "m", callbacks=[CrashAt(4)], **OPTS)
    last = run_dir(tmp_path / "m") / "checkpoints" / "last.ckpt"
    if content == "pickle":
        last.write_bytes(pickle.dumps({"state_dict": _Crash("boom"), "global_step": 3}))
    elif content == "tensors":
        torch.save({"weight": torch.zeros(3)}, last)
    else:
        last.write_bytes(content)
    with pytest.raises(TrainingError, match="not a spectrakit training checkpoint") as info:
        fit_supervised(data, "c", out=tmp_path / "m", resume=True, **OPTS)
    assert "\n" not in str(info.value).strip()


def test_cli_resume_with_a_random_checkpoint_is_one_line(tmp_path, capsys):
    from spectrakit import write
    from spectrakit.cli import main

    write(_data(), tmp_path / "train.csv")
    out = tmp_path / "model"
    ckpt = run_dir(out) / "checkpoints"
    ckpt.mkdir(parents=True)
    (ckpt / "last.ckpt").write_bytes(np.random.default_rng(0).bytes(4096))
    code = main(["finetune", "--data", str(tmp_path / "train.csv"), "--target", "c",
                 "--model", "mlp_tiny", "--out", str(out), "--epochs", "2", "--resume",
                 "--no-progress", "--threads", "1"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "not a spectrakit training checkpoint" in err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.slow
def test_compile_option_trains_the_same_network(tmp_path):
    """torch.compile in place: same parameter names and checkpoints, the same model."""
    data = _data()
    opts = {**OPTS, "max_epochs": 1}
    eager = fit_supervised(data, "c", out=tmp_path / "eager", **opts)
    compiled = fit_supervised(data, "c", out=tmp_path / "compiled", compile=True, **opts)
    assert compiled.config["training"]["trainer"]["compile"] is True
    a = torch.load(run_dir(tmp_path / "eager") / "checkpoints" / "best.ckpt", weights_only=True)
    b = torch.load(run_dir(tmp_path / "compiled") / "checkpoints" / "best.ckpt", weights_only=True)
    assert a["state_dict"].keys() == b["state_dict"].keys()  # no _orig_mod. prefixes
    np.testing.assert_allclose(
        eager.predict(data).to_numpy(), compiled.predict(data).to_numpy(), rtol=0, atol=0.02
    )  # the same training up to float rounding of fused kernels
