"""The typed training configuration: CLI flags, ``--config`` files, run.json and the Python API
all derive from ``FitConfig`` / ``PretrainConfig``; bad values give one line and exit 2."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from spectrakit import Spectra, load, write
from spectrakit.cli import main
from spectrakit.core.errors import ConfigError
from spectrakit.training import FitConfig, PretrainConfig, fit_supervised, pretrain
from spectrakit.training.run import read_run, start_run

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = dict(progress=False, loggers=(), patience=None)
SRC = Path(__file__).resolve().parents[2] / "src" / "spectrakit"


def _pinned_data() -> Spectra:
    axis = np.linspace(400.0, 1800.0, 64)
    rng = np.random.default_rng(7)
    c = rng.uniform(0, 1, (40, 2))
    peaks = np.stack([np.exp(-0.5 * ((axis - m) / 40.0) ** 2) for m in (800.0, 1400.0)])
    values = c @ peaks + 0.2 + rng.normal(0, 0.02, (40, axis.size))
    return Spectra(values, axis, meta={"y": c[:, 0]})


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "train.csv"
    write(_pinned_data(), path)
    return path


# ---------------------------------------------------------------------- command line
BAD_FLAGS = [
    ["--lr", "abc"],
    ["--batch-size", "0"],
    ["--epochs", "-3"],
    ["--epochs", "0"],
    ["--val-fraction", "1.5"],
    ["--accelerator", "gpu"],
    ["--devices", "zero"],
    ["--weight-decay", "-1"],
    ["--strategy", "bogus"],
]


def _one_error_line(capsys, argv: list[str]) -> str:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses at parse time
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("flags", BAD_FLAGS, ids=" ".join)
def test_finetune_flags_are_checked_at_parse_time(capsys, monkeypatch, table, tmp_path, flags):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    argv = ["finetune", "--data", str(table), "--target", "y", "--out", str(tmp_path / "m"),
            "--no-progress", *flags]  # fmt: skip
    err = _one_error_line(capsys, argv)
    assert flags[0] in err and "expected" in err
    assert not (tmp_path / "m").exists()  # refused before any training


@pytest.mark.parametrize("flags", [["--mask-ratio", "1"], ["--batch-size", "0"],
                                   ["--epochs", "0"], ["--lr", "-1e-3"]], ids=" ".join)  # fmt: skip
def test_pretrain_flags_are_checked_at_parse_time(capsys, table, tmp_path, flags):
    argv = ["pretrain", "--data", str(table), "--out", str(tmp_path / "e"), *flags]
    err = _one_error_line(capsys, argv)
    assert flags[0] in err and "expected" in err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("epochs: [1,\n", "cannot parse"),  # YAML syntax error
        ("epochs: abc\n", "invalid epochs"),
        ("batch-size: 0\n", "invalid batch-size"),
        ("val_fraction: 1.5\n", "invalid val-fraction"),
        ("one-vs-rest: maybe\n", "invalid one-vs-rest"),
        ("weight-decai: 0.1\n", "did you mean weight_decay"),
        ("- epochs\n", "not a mapping"),
    ],
)
def test_config_file_is_checked_like_the_flags(capsys, table, tmp_path, text, words):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    argv = ["finetune", "--data", str(table), "--target", "y", "--out", str(tmp_path / "m"),
            "--config", str(path), "--no-progress"]  # fmt: skip
    err = _one_error_line(capsys, argv)
    assert words in err


def test_config_file_accepts_field_names_and_types_them(capsys, tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("max_epochs: 7\nprogress: false\nclass-weights: [1, 2]\nlr: '2e-3'\n")
    capsys.readouterr()
    argv = ["finetune", "--data", "d.csv", "--target", "y", "--out", "o", "--config", str(path),
            "--print-config"]  # fmt: skip
    assert main(argv) == 0
    import yaml

    got = yaml.safe_load(capsys.readouterr().out)
    assert got["epochs"] == 7 and got["no-progress"] is True
    assert got["class-weights"] == [1.0, 2.0] and got["lr"] == 2e-3


def test_every_field_with_a_flag_is_on_the_command_line(capsys):
    from spectrakit.training.cli_options import flag_of

    for command, cls in (("finetune", FitConfig), ("pretrain", PretrainConfig)):
        capsys.readouterr()
        assert main([command, "--help"]) == 0
        text = capsys.readouterr().out
        flags = [flag_of(n, s) for n, s in cls.specs().items() if flag_of(n, s)]
        assert flags and all(f in text for f in flags), command


# ---------------------------------------------------------------------- Python API
def test_api_refuses_unknown_options_with_close_matches():
    with pytest.raises(ConfigError, match="did you mean batch_size"):
        fit_supervised(_pinned_data(), "y", batch_sise=8)
    with pytest.raises(ConfigError, match="did you mean mask_ratio"):
        pretrain(_pinned_data(), mask_ration=0.3)
    with pytest.raises(ConfigError, match="invalid batch_size"):
        FitConfig(batch_size=0)
    with pytest.raises(ConfigError, match="invalid max_epochs"):
        fit_supervised(_pinned_data(), "y", max_epochs=0)
    with pytest.raises(ConfigError, match="wrong type"):
        fit_supervised(_pinned_data(), "y", config=PretrainConfig())


def test_device_options_lightning_refuses_are_one_error(tmp_path):
    with pytest.raises(ConfigError, match="device options"):
        fit_supervised(_pinned_data(), "y", model="mlp_tiny", accelerator="cpu", devices=[5],
                       out=tmp_path / "m", **FAST)  # fmt: skip


def test_config_fields_carry_type_default_range_and_help():
    for cls in (FitConfig, PretrainConfig):
        for f in dataclasses.fields(cls):
            spec = f.metadata["spec"]
            assert spec.help and spec.kind, f.name
    assert FitConfig().replace(epochs=3, mixup=0.2).max_epochs == 3  # flag spellings work
    assert FitConfig(devices="0,1").devices == [0, 1] and FitConfig(warmup="3").warmup == 3
    assert FitConfig(loggers="").loggers == () and FitConfig(lr="2e-3").lr == 2e-3
    assert len(dataclasses.fields(FitConfig)) >= 36


def test_run_json_round_trips_the_config(tmp_path):
    cfg = FitConfig(max_epochs=7, lr="auto", schedule="triangular2", class_weights=(1.0, 2.0),
                    extra_features=("temp",), split="1/5", warmup=3, head_lr=1e-2,
                    **FAST)  # fmt: skip
    run = start_run(tmp_path / "b", "supervised", {"targets": ["y"]}, cfg)
    record = read_run(run.work)
    assert record["targets"] == ["y"] and record["kind"] == "supervised"
    back = FitConfig.from_record(record["config"])
    recorded = [n for n, s in FitConfig.specs().items() if s.record]
    assert {n: getattr(back, n) for n in recorded} == {n: getattr(cfg, n) for n in recorded}
    json.dumps(record)  # plain JSON
    assert "pipeline" not in cfg.replace(pipeline=object()).to_record()  # no JSON form: left out
    assert cfg.replace(pipeline="raman-default").to_record()["pipeline"] == "raman-default"


def test_run_json_of_the_older_layout_is_read(tmp_path):
    work = tmp_path / "b.run"
    work.mkdir()
    old = {"kind": "supervised", "out": "b", "targets": ["y"], "task": "regression",
           "model": "mlp_tiny", "init": None, "max_epochs": 4, "batch_size": 8, "lr": 0.01,
           "seed": 2, "options": {"freeze": "none", "resume": False},
           "trainer": {"accelerator": "cpu", "devices": 1, "patience": 5}}  # fmt: skip
    (work / "run.json").write_text(json.dumps(old))
    cfg = FitConfig.from_record(read_run(work)["config"])
    assert (cfg.model, cfg.max_epochs, cfg.batch_size, cfg.seed, cfg.patience) == (
        "mlp_tiny", 4, 8, 2, 5)  # fmt: skip


# ---------------------------------------------------------------------- same weights as before
# computed with the code before the typed configuration and the stage split (same data/seed);
# re-pinned when resumable training seeded the sampler and augmentation per epoch, and
# (embeddings) when masked pretraining took its statistics from visible patches only
PINNED_FIT = [0.51194, 0.513563, 0.51141, 0.511287, 0.513066]
PINNED_EMBED = [
    [0.390487, -0.933566, 0.280533, 0.159061],
    [0.645772, -0.402777, 0.357257, 0.264237],
    [0.400694, -1.093311, 0.448143, 0.14491],
]


def test_fit_gives_the_pinned_predictions(tmp_path):
    data = _pinned_data()
    cfg = FitConfig(model="cnn1d_tiny", max_epochs=3, batch_size=8, lr=3e-3, seed=0, **FAST)
    predictor = fit_supervised(data, "y", config=cfg, out=tmp_path / "m")
    got = predictor.predict(data[:5])["y"].to_numpy()
    np.testing.assert_allclose(got, PINNED_FIT, atol=2e-5)
    assert predictor.ood is not None  # the default detector is fitted and stored
    assert {"ood_score", "is_ood"} <= set(predictor.predict(data[:5]).columns)
    assert load(tmp_path / "m").config["metrics"]["ood"] == "dime"


def test_pretrain_gives_the_pinned_embeddings(tmp_path):
    data = _pinned_data()
    out = pretrain(data, model="specbert_tiny", max_epochs=2, batch_size=8, seed=0,
                   out=tmp_path / "e", **FAST)  # fmt: skip
    got = np.asarray(load(out).embed(data[:3]))[:, :4]
    np.testing.assert_allclose(got, PINNED_EMBED, atol=2e-5)


def test_ood_none_skips_the_detector(tmp_path):
    predictor = fit_supervised(_pinned_data(), "y", model="mlp_tiny", max_epochs=1,
                               batch_size=16, ood="none", out=tmp_path / "m", **FAST)  # fmt: skip
    assert predictor.ood is None and not (tmp_path / "m" / "ood.json").exists()


# ---------------------------------------------------------------------- structure
TERRITORY = ["training/api.py", "training/config.py", "training/option_spec.py",
             "training/cli_options.py",
             "training/run.py", "training/fit_stages.py", "training/pretrain_stages.py",
             "training/evaluate.py", "tasks/base.py", "tasks/supervised.py", "tasks/masked.py",
             "cli/finetune.py", "cli/pretrain.py"]  # fmt: skip


def test_no_function_over_60_lines_in_training():
    long = []
    for rel in TERRITORY:
        tree = ast.parse((SRC / rel).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > 60:
                    long.append(f"{rel}:{node.name} {n}")
    assert long == []


def test_spelled_out_choices_match_the_tasks():
    from spectrakit.tasks.masked import MASK_MODES
    from spectrakit.tasks.optim import SCHEDULES
    from spectrakit.training import option_spec

    assert option_spec.SCHEDULES == SCHEDULES and option_spec.MASK_MODES == MASK_MODES


def test_the_tasks_share_one_configure_optimizers():
    from spectrakit.tasks.base import BaseTask
    from spectrakit.tasks.masked import MaskedModelingTask
    from spectrakit.tasks.supervised import SupervisedTask

    for task in (SupervisedTask, MaskedModelingTask):
        assert issubclass(task, BaseTask)
        assert "configure_optimizers" not in vars(task)


def test_deep_estimator_trains_from_one_config(tmp_path):
    from sklearn.base import clone

    from spectrakit.training.evaluate import DeepRegressor

    base = FitConfig(weight_decay=0.3, **FAST)
    est = clone(DeepRegressor("mlp_tiny", max_epochs=1, batch_size=16, config=base,
                              out=tmp_path / "m"))  # fmt: skip
    cfg = est.fit_config()
    assert (cfg.weight_decay, cfg.max_epochs, cfg.model, cfg.ood) == (0.3, 1, "mlp_tiny", "none")
    est.fit(_pinned_data(), "y")
    assert est.predictor_.config["training"]["options"]["weight_decay"] == 0.3
    assert est.predictor_.ood is None and est.predict(_pinned_data()).shape == (40,)


def test_default_epochs_give_small_sets_enough_optimizer_steps():
    from spectrakit.training.config import DEFAULT_EPOCHS, MAX_AUTO_EPOCHS, MIN_STEPS

    auto = FitConfig()
    assert auto.max_epochs is None
    assert auto.epochs_for(1) == MIN_STEPS == 500  # 32 spectra, batch 32: one step an epoch
    assert auto.epochs_for(3) == 167 and auto.epochs_for(3) * 3 >= MIN_STEPS
    assert auto.epochs_for(10) == auto.epochs_for(400) == DEFAULT_EPOCHS  # large sets: 50
    assert auto.epochs_for(0) == MIN_STEPS <= MAX_AUTO_EPOCHS  # never more than the cap
    assert FitConfig(max_epochs=3).epochs_for(1) == 3  # a given count is kept exactly


def test_a_default_fit_on_a_small_set_records_the_raised_epochs(tmp_path):
    data = _pinned_data()
    options = {**FAST, "patience": 5}  # early stopping still ends the run
    predictor = fit_supervised(data[:32], "y", model="cnn1d_tiny", batch_size=32, seed=0,
                               out=tmp_path / "m", **options)  # fmt: skip
    record = load(tmp_path / "m").config.training
    assert record["options"]["max_epochs"] == 500
    assert predictor is not None
