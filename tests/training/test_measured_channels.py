"""Training, saving and predicting with separately measured channels (a ChannelSet)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import spectrakit
from spectrakit.cli import main
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.spectra import Spectra
from spectrakit.datasets.measured_channels import make_deciding_channel
from spectrakit.io import write, write_channels
from spectrakit.training import fit_supervised

pytestmark = pytest.mark.usefixtures("one_torch_thread", "restore_torch_threads")

FIT = {"model": "cnn1d_tiny", "task": "classification", "max_epochs": 12, "lr": 1e-2,
       "batch_size": 16, "ood": "none", "progress": False, "seed": 0, "patience": 0}  # fmt: skip
FAST = ["--no-progress", "--threads", "1", "--patience", "0", "--ood", "none"]


def _accuracy(predictor, data) -> float:
    pred = predictor.predict(data)
    return float((pred["predicted"].to_numpy() == data.meta["label"].to_numpy()).mean())


@pytest.fixture(scope="module")
def sets():
    return make_deciding_channel(n=48, n_points=64, seed=1), make_deciding_channel(
        n=40, n_points=64, seed=2
    )


@pytest.fixture(scope="module")
def two_channel(sets, tmp_path_factory):
    out = tmp_path_factory.mktemp("measured") / "model"
    return fit_supervised(sets[0], "label", out=out, **FIT)


def test_label_in_channel_two_needs_both_channels(sets, two_channel, tmp_path):
    train, test = sets
    assert _accuracy(two_channel, test) >= 0.9
    first = train.names[0]
    alone = fit_supervised(train[first], "label", out=tmp_path / "alone", **FIT)
    assert _accuracy(alone, test[first]) <= 0.75  # channel 1 holds no information


def test_bundle_records_channel_names_and_axes(sets, two_channel):
    cfg = two_channel.config
    assert [c["name"] for c in cfg.channels] == ["ex277", "ex380"]
    layout = cfg.channel_layout
    assert layout.axes[0].min == 300.0 and layout.axes[1].max == 560.0
    assert layout.axes[1].unit == "nm"
    assert cfg.training["recipe"]["channels"] == ["ex277", "ex380"]
    assert cfg.family.kwargs["in_channels"] == 2
    card = (two_channel.bundle_dir / "card.md").read_text(encoding="utf-8")
    assert "measured channels ex277 on 300-400 nm" in card and "ex380 on 420-560 nm" in card
    reloaded = spectrakit.load(two_channel.bundle_dir)
    np.testing.assert_allclose(
        reloaded.predict(sets[1])["proba_b"], two_channel.predict(sets[1])["proba_b"]
    )


def test_a_channel_on_another_grid_is_resampled_onto_its_own_axis(sets, two_channel):
    test = sets[1]
    name = test.names[1]
    fine = test[name].resample(np.linspace(420.0, 560.0, 301))
    moved = spectrakit.ChannelSet({test.names[0]: test[test.names[0]], name: fine}, test.meta)
    a = two_channel.predict(test)["proba_b"].to_numpy()
    b = two_channel.predict(moved)["proba_b"].to_numpy()
    assert np.abs(a - b).max() < 0.1
    swapped = spectrakit.ChannelSet({name: test[name], test.names[0]: test[test.names[0]]})
    np.testing.assert_allclose(two_channel.predict(swapped)["proba_b"], a, rtol=1e-5)


def test_missing_channel_or_one_table_is_refused_in_one_line(sets, two_channel):
    test = sets[1]
    only = spectrakit.ChannelSet({"ex277": test["ex277"]})
    with pytest.raises(DataError, match="channel ex380 is missing") as info:
        two_channel.predict(only)
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="takes separately measured channels ex277, ex380"):
        two_channel.predict(test["ex277"])


def test_explanations_of_measured_channels_are_per_channel(sets, two_channel):
    from spectrakit.explain import explain

    attr = explain(two_channel, sets[1], method="saliency")
    assert attr.names == ["ex277", "ex380"]
    assert attr["ex380"].axis.min >= 420.0  # each channel on its own axis


def test_single_spectrum_model_refuses_a_channel_set(sets, tiny_bundle):
    predictor = spectrakit.load(tiny_bundle)
    with pytest.raises(DataError, match="one spectrum per sample"):
        predictor.predict(sets[1])


def test_channels_times_pipelines_and_validation_channels(sets, tmp_path):
    train, test = sets
    fit = {**FIT, "max_epochs": 1}
    p = fit_supervised(train, "label", out=tmp_path / "m", val=test,
                       pipeline=[None, {"steps": ["snv"]}], **fit)  # fmt: skip
    assert p.config.family.kwargs["in_channels"] == 4
    assert len(p.config.preprocessing) == 4
    assert p.config.training["recipe"]["channels"] == [
        "ex277/raw", "ex277/channel1", "ex380/raw", "ex380/channel1"
    ]  # fmt: skip
    assert len(p.predict(test)) == test.n_spectra
    with pytest.raises(DataError, match="validation spectra must be the same measured"):
        fit_supervised(train, "label", val=test["ex277"], **fit)
    tuned = fit_supervised(train, "label", init=tmp_path / "m", **fit)  # from a channel bundle
    assert tuned.config.channel_layout == p.config.channel_layout
    with pytest.raises(ConfigError, match="measured channels each have their own"):
        fit_supervised(train, "label", **{**fit, "model": "spectrafm_tiny"})


def test_cli_finetune_and_predict_with_channel_files(sets, tmp_path, capsys):
    train, test = sets
    files = write_channels(train, tmp_path, "train_")
    test_files = write_channels(test, tmp_path, "test_")
    model = tmp_path / "model"
    assert main(["finetune", "--channel-files", files, "--target", "label", "--model",
                 "cnn1d_tiny", "--out", str(model), "--epochs", "2", *FAST]) == 0  # fmt: skip
    cfg = json.loads((model / "config.json").read_text())
    assert [c["name"] for c in cfg["channels"]] == ["ex277", "ex380"]
    preds = tmp_path / "preds.csv"
    assert main(["predict", "--model", str(model), "--channel-files", test_files,
                 "--out", str(preds)]) == 0  # fmt: skip
    table = pd.read_csv(preds)
    assert len(table) == test.n_spectra and list(table["sample_id"]) == list(test.meta.sample_id)
    capsys.readouterr()
    one = test_files.split(",")[0]
    two = f"{one},other={tmp_path / 'test_ex380.csv'}"
    code = main(["predict", "--model", str(model), "--channel-files", two, "--out", "-"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "channel ex380 is missing" in err and len(err.splitlines()) == 1


def test_cli_bad_channel_input_exits_2_in_one_line(sets, tmp_path, capsys):
    train = sets[0]
    files = write_channels(train, tmp_path, "t_")
    short = train["ex380"].select_points(slice(0, 40))
    write(short, tmp_path / "short.csv")
    broken = files.split(",")[0] + f",ex380={tmp_path / 'short.csv'}"
    cases = [
        (["--channel-files", broken], "different lengths"),
        (["--channel-files", files, "--data", "x.csv"], "give the spectra once"),
        (["--channel-files", files, "--model", "pls"], "do not combine with --model pls"),
        (["--channel-files", files, "--val", files.split(",")[0]], "at least two channel files"),
        (["--channel-files", files, "--sample-id", "nope"], "no sample-id column 'nope'"),
    ]
    for extra, needle in cases:
        argv = ["finetune", "--target", "label", "--out", str(tmp_path / "o"), *extra]
        code = main([*argv, "--model", "cnn1d_tiny"] if "--model" not in extra else argv)
        err = capsys.readouterr().err.strip()
        assert code == 2, (extra, err)
        assert needle in err and len(err.splitlines()) == 1, err
    assert isinstance(train.pack(), Spectra)


def test_auto_chooses_a_network_for_channels_by_cv(sets, tmp_path):
    from spectrakit.training import FitConfig
    from spectrakit.training.auto_channels import auto_fit_channels

    train, test = sets
    cfg = FitConfig(**{**FIT, "max_epochs": 8})
    predictor, table = auto_fit_channels(
        train, "label", cfg, candidates=("cnn1d_tiny", "mlp_tiny"), k=3, out=tmp_path / "auto"
    )
    assert list(table["candidate"]) == ["cnn1d_tiny", "mlp_tiny"]
    auto = predictor.config.metrics["auto"]
    best = table.loc[table["cv_error"].idxmin(), "candidate"]
    assert auto["chosen"] == best == predictor.config.family.name and auto["folds"] == 3
    assert predictor.config.training["n_train"] + predictor.config.training["n_val"] == 48
    assert _accuracy(predictor, test) >= 0.8


def test_cli_auto_on_channel_files(sets, tmp_path, capsys):
    files = write_channels(sets[0], tmp_path, "t_")
    out = tmp_path / "auto"
    argv = ["finetune", "--channel-files", files, "--target", "label", "--model", "auto",
            "--out", str(out), "--epochs", "2", *FAST]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "cv_error" in text and "chosen:" in text
    assert json.loads((out / "config.json").read_text())["metrics"]["auto"]["folds"] == 5
    code = main([*argv[: -len(FAST) - 2], "--split", "0/5", *FAST, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "without --split" in err and len(err.splitlines()) == 1
