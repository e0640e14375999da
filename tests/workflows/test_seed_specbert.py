"""The SpecBERT / Dig4Bio workflow: the challenge folder through the command line.

A folder with one CSV per instrument (different grids and lasers) plus a targets table
(``96_samples.csv``) is summarized, pretrained on (all instruments on one common grid) and
fine-tuned on instruments chosen by name; axis kinds agree whichever reader was used.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import spectrakit as sk
from spectrakit.cli import main
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import AxisError, FormatError
from spectrakit.io import read_blocks
from spectrakit.predict.core import conform_axis

FAST = ["--no-progress", "--threads", "1", "--patience", "0"]
BAND = 1125.0


pytestmark = pytest.mark.usefixtures("restore_torch_threads")


def _instrument(folder, name: str, shift: np.ndarray, glucose: np.ndarray, fold: str) -> None:
    rng = np.random.default_rng(len(name))
    values = glucose[:, None] * np.exp(-0.5 * ((shift - BAND) / 10.0) ** 2) + 0.3
    values += rng.normal(0, 0.01, values.shape)
    frame = pd.DataFrame(values, columns=[f"{v:.2f}" for v in shift])
    frame.insert(0, "sample_id", np.arange(len(glucose)))
    frame[fold] = np.arange(len(glucose)) % 4
    frame.to_csv(folder / f"{name}.csv", index=False)


@pytest.fixture
def challenge(tmp_path):
    """Three instruments without targets, and the targets table joined on ``sample_id``."""
    folder = tmp_path / "challenge"
    folder.mkdir()
    glucose = np.random.default_rng(0).uniform(1.0, 20.0, 24)
    _instrument(folder, "anton_532", np.arange(300.0, 1800.0, 2.0), glucose, "fold_idx")
    _instrument(folder, "anton_785", np.arange(350.0, 1850.0, 2.5), glucose, "fold")
    _instrument(folder, "kaiser", np.arange(400.0, 1900.0, 1.5), glucose, "fold_idx")
    targets = pd.DataFrame({"sample_id": np.arange(24)[::-1], "glucose": glucose[::-1]})
    targets["Na_acetate"] = 1.0
    targets.to_csv(folder / "96_samples.csv", index=False)
    return folder, glucose


def test_targets_table_is_joined_on_the_shared_key(challenge):
    folder, glucose = challenge
    blocks = read_blocks(folder)
    assert sorted(blocks) == ["anton_532", "anton_785", "kaiser"]  # not the targets table
    for s in blocks.values():
        # the table is in reverse order: a join on sample_id, not on row position
        np.testing.assert_allclose(s.meta["glucose"], glucose)
        assert s.meta["fold"].tolist() == (np.arange(24) % 4).tolist()


def test_targets_table_without_key_needs_matching_rows(challenge):
    folder, _ = challenge
    pd.DataFrame({"glucose": np.arange(5.0)}).to_csv(folder / "96_samples.csv", index=False)
    with pytest.raises(FormatError, match="cannot be joined"):
        read_blocks(folder)


def test_info_lists_every_instrument(challenge, capsys, tmp_path):
    folder, _ = challenge
    assert main(["info", str(folder), "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    for name in ("anton_532", "anton_785", "kaiser"):
        assert f"[{name}]" in out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert {v["axis"]["kind"] for v in summary.values()} == {"raman_shift"}
    assert main(["info", str(folder), "--instruments", "kaiser,horiba"]) == 2


def test_pretrain_on_the_folder_then_finetune_on_chosen_instruments(challenge, tmp_path, capsys):
    folder, _ = challenge
    enc, model = tmp_path / "enc", tmp_path / "model"
    args = ["--model", "specbert_tiny", "--epochs", "1", "--batch-size", "16", *FAST]
    assert main(["pretrain", "--data", str(folder), "--out", str(enc), *args]) == 0
    err = capsys.readouterr().err
    assert "common grid 400-1797.5 cm-1" in err  # the overlap of the three ranges, logged
    config = json.loads((enc / "config.json").read_text())
    data = config["training"]["data"]
    assert data["n_spectra"] == 72
    assert [s["name"] for s in data["sources"]] == ["anton_532", "anton_785", "kaiser"]
    assert config["axis"]["laser_wavelength"] is None  # two lasers: none is stamped
    card = (enc / "card.md").read_text()
    assert all(f"- {n}: 24 spectra" in card for n in ("anton_532", "anton_785", "kaiser"))
    ft = ["--target", "glucose", "--init", str(enc), "--out", str(model)]
    code = main(
        ["finetune", "--data", str(folder), "--instruments", "anton_532,kaiser", *ft, *args]
    )
    assert code == 0
    assert "combined 2 blocks (anton_532, kaiser)" in capsys.readouterr().err
    trained = json.loads((model / "config.json").read_text())
    assert trained["training"]["data"]["meta"]["instrument"]["distinct"] == 2


def _shift_axis(laser=None) -> SpectralAxis:
    return SpectralAxis(
        np.arange(400.0, 1800.0, 2.0), unit="cm-1", kind="raman_shift", laser_wavelength=laser
    )


@pytest.mark.parametrize("laser", [None, 532.0])
def test_raman_bundle_accepts_the_same_numbers_read_as_plain_cm1(laser):
    """A plain CSV read with --unit cm-1 (kind wavenumber) holds the same Raman shifts."""
    values = np.random.default_rng(1).normal(size=(2, 750))
    plain = sk.Spectra(values, np.arange(300.0, 1800.0, 2.0), unit="cm-1")
    assert plain.axis.kind == "wavenumber"
    with pytest.warns(UserWarning, match="--kind raman_shift"):
        out = conform_axis(plain, _shift_axis(laser))
    np.testing.assert_allclose(out.values, values[:, 50:])  # same numbers, not converted
    stated = sk.Spectra(values, plain.axis.values, unit="cm-1", kind="raman_shift")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(conform_axis(stated, _shift_axis(laser)).values, values[:, 50:])


def test_absolute_wavenumbers_are_still_converted_physically():
    laser = 532.0
    shift = np.arange(380.0, 1820.0, 2.0)
    absolute = sk.Spectra(np.ones((1, shift.size)), (1e7 / laser - shift)[::-1], unit="cm-1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = conform_axis(absolute, _shift_axis(laser))
    assert out.axis.kind == "raman_shift" and out.n_points == 700


def test_kind_and_laser_options_on_plain_csv(tmp_path, capsys):
    spectra = sk.Spectra(np.ones((2, 5)), np.arange(5.0) * 100 + 400, unit="arb")
    spectra.to_pandas().to_csv(tmp_path / "plain.csv", index=False)
    js = tmp_path / "s.json"
    args = ["info", str(tmp_path / "plain.csv"), "--unit", "cm-1", "--json", str(js)]
    assert main([*args, "--kind", "raman_shift", "--laser", "785"]) == 0
    assert json.loads(js.read_text())[str(tmp_path / "plain.csv")]["axis"]["kind"] == "raman_shift"
    # kind does not match the unit: one line (--overwrite: the summary file exists by now)
    assert main([*args, "--kind", "energy", "--overwrite"]) == 2
    assert "does not match unit" in capsys.readouterr().err


def test_combine_keeps_each_laser_and_refuses_to_mix_them_when_converting():
    a = sk.Spectra(
        np.ones((2, 50)),
        _shift_axis(532.0).values[:50],
        unit="cm-1",
        kind="raman_shift",
        laser_wavelength=532.0,
    )
    b = sk.Spectra(
        np.ones((3, 60)),
        _shift_axis(785.0).values[:60],
        unit="cm-1",
        kind="raman_shift",
        laser_wavelength=785.0,
    )
    both = sk.combine([a, b])
    assert both.axis.laser_wavelength is None
    assert both.meta["laser_wavelength"].tolist() == [532.0, 532.0, 785.0, 785.0, 785.0]
    with pytest.raises(AxisError, match="several lasers"):
        both.convert("nm")
    same = sk.combine([a, a])
    assert same.axis.laser_wavelength == 532.0
    assert same.convert("nm").axis.kind == "wavelength"


def test_fold_column_has_one_name_on_every_reader(tmp_path):
    frame = pd.DataFrame(np.ones((4, 3)), columns=["400", "500", "600"])
    frame["fold_idx"] = [0, 1, 0, 1]
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet")
    for ext in ("csv", "parquet"):
        s = sk.read(tmp_path / f"t.{ext}")
        assert "fold" in s.meta.columns and "fold_idx" not in s.meta.columns
    from spectrakit.data.splits import GroupKFoldSplitter

    s = sk.read(tmp_path / "t.csv")
    assert (
        GroupKFoldSplitter("fold_idx", n_splits=2).get_n_splits(s) == 2
    )  # the other name still reads
