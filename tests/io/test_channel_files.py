"""Reading separately measured channels: per-channel files and column groups, joined by id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spectrakit.core.channel_set import ChannelLayout, ChannelSet
from spectrakit.core.errors import DataError, PreprocessingError
from spectrakit.core.spectra import Spectra
from spectrakit.datasets.measured_channels import make_deciding_channel
from spectrakit.io import read_channels, write, write_channels
from spectrakit.io.channel_files import parse_channel_files
from spectrakit.preprocessing.measured_channels import MeasuredChannels


@pytest.fixture
def channels() -> ChannelSet:
    return make_deciding_channel(n=12, n_points=16, seed=3)


def _write_files(cs: ChannelSet, tmp_path, order=None) -> dict[str, str]:
    paths = {}
    for name, s in cs.items():
        rows = np.arange(cs.n_spectra) if order is None or name == cs.names[0] else order
        path = tmp_path / f"{name}.csv"
        write(s.select(rows), path)
        paths[name] = str(path)
    return paths


def test_files_round_trip_joined_by_sample_id(channels, tmp_path):
    shuffled = np.random.default_rng(0).permutation(channels.n_spectra)
    paths = _write_files(channels, tmp_path, order=shuffled)
    back = read_channels(paths)
    assert back.names == channels.names
    assert list(back.meta["sample_id"]) == list(channels.meta["sample_id"])
    assert list(back.meta["label"]) == list(channels.meta["label"])
    for name in channels.names:  # the second file's rows were shuffled: joined back
        np.testing.assert_allclose(back[name].values, channels[name].values, rtol=1e-6)
        assert back[name].axis.allclose(channels[name].axis, rtol=1e-6)
        assert back[name].axis.unit == "nm"


def test_a_list_of_files_names_channels_by_stem(channels, tmp_path):
    paths = _write_files(channels, tmp_path)
    back = read_channels(list(paths.values()))
    assert back.names == list(channels.names)
    assert parse_channel_files("a.csv,b.csv") == {"a": "a.csv", "b": "b.csv"}
    assert parse_channel_files("277=x.csv, 380=y.csv") == {"277": "x.csv", "380": "y.csv"}
    assert parse_channel_files("one.csv") == "one.csv"
    spec = write_channels(channels, tmp_path, "x_")
    assert spec.startswith(f"ex277={tmp_path / 'x_ex277.csv'},ex380=")
    again = read_channels(parse_channel_files(spec))
    np.testing.assert_allclose(again["ex380"].values, channels["ex380"].values, rtol=1e-6)


def test_column_groups_of_one_table_equal_the_files(channels, tmp_path):
    frame = channels.meta.copy()
    for name, s in channels.items():
        for j, pos in enumerate(s.axis.values):
            frame[f"{name}:{pos:.6f}"] = s.values[:, j]
    path = tmp_path / "grouped.csv"
    frame.to_csv(path, index=False)
    back = read_channels(str(path), unit="nm")
    assert back.names == channels.names
    assert list(back.meta.columns) == ["sample_id", "label"]
    for name in channels.names:
        np.testing.assert_allclose(back[name].values, channels[name].values)
        np.testing.assert_allclose(back[name].axis.values, channels[name].axis.values, atol=1e-6)


def test_meta_of_later_channels_is_joined_and_must_agree(channels, tmp_path):
    a, b = channels[channels.names[0]], channels[channels.names[1]]
    b = b.assign(batch=np.arange(b.n_spectra) % 3)
    joined = read_channels({"a": _save(a, tmp_path / "a.csv"), "b": _save(b, tmp_path / "b.csv")})
    assert list(joined.meta["batch"]) == list(np.arange(b.n_spectra) % 3)
    bad = b.assign(label=["x"] * b.n_spectra)
    with pytest.raises(DataError, match="disagree on 'label'"):
        read_channels({"a": _save(a, tmp_path / "a.csv"), "b": _save(bad, tmp_path / "c.csv")})


def _save(s: Spectra, path) -> str:
    write(s, path)
    return str(path)


def _bad(channels, tmp_path, change) -> str:
    a, b = channels[channels.names[0]], channels[channels.names[1]]
    b = change(b)
    with pytest.raises(DataError) as info:
        read_channels({"a": _save(a, tmp_path / "a.csv"), "b": _save(b, tmp_path / "b.csv")})
    message = str(info.value)
    assert "\n" not in message and "expected" in message.lower()
    return message


def test_missing_duplicated_and_mismatched_ids_are_refused(channels, tmp_path):
    ids = list(channels.meta["sample_id"])
    msg = _bad(channels, tmp_path, lambda b: b.with_meta(b.meta.drop(columns="sample_id")))
    assert "no sample-id column 'sample_id'" in msg and "--sample-id" in msg
    msg = _bad(channels, tmp_path, lambda b: b.assign(sample_id=[ids[0], *ids[:-1]]))
    assert "duplicated sample ids" in msg and ids[0] in msg
    msg = _bad(channels, tmp_path, lambda b: b.select(np.arange(1, b.n_spectra)))
    assert "hold different samples" in msg and "1 missing" in msg and ids[0] in msg
    msg = _bad(channels, tmp_path, lambda b: b.assign(sample_id=[*ids[:-1], "zz"]))
    assert "not in 'a'" in msg and "zz" in msg
    msg = _bad(channels, tmp_path, lambda b: b.assign(sample_id=["", *ids[1:]]))
    assert "without a sample id" in msg and "row 1" in msg


def test_one_file_or_a_table_without_groups_is_refused(channels, tmp_path):
    path = _save(channels[channels.names[0]], tmp_path / "a.csv")
    with pytest.raises(DataError, match="at least two channel files"):
        read_channels([path])
    with pytest.raises(DataError, match="no channel column groups"):
        read_channels(path)


def test_channels_keep_their_own_axes_and_lengths_must_match(channels):
    layout = channels.layout
    assert layout.axes[0].min == 300.0 and layout.axes[1].min == 420.0
    packed = channels.pack()
    assert packed.n_points == 32 and packed.axis.kind == "index"
    parts = layout.unpack(packed)
    np.testing.assert_array_equal(parts[1].values, channels[channels.names[1]].values)
    assert ChannelLayout.from_list(layout.to_list()) == layout
    x = MeasuredChannels(layout).fit(packed).transform(packed)
    assert x.shape == (12, 2, 16)
    np.testing.assert_allclose(x[:, 1], channels[channels.names[1]].values, rtol=1e-6)
    short = ChannelSet({"a": channels["ex277"], "b": channels["ex380"].select_points(slice(0, 10))})
    with pytest.raises(PreprocessingError, match="different lengths") as info:
        MeasuredChannels(short.layout).fit(short.pack())
    assert "a: 16 points, b: 10 points" in str(info.value)


def test_channels_times_pipelines_fit_each_pair_on_its_own_channel(channels):
    packed = channels.pack()
    pre = MeasuredChannels(channels.layout, [None, {"steps": ["snv"]}]).fit(packed)
    x = pre.transform(packed)
    assert x.shape == (12, 4, 16)
    assert pre.channel_names == ["ex277/0", "ex277/1", "ex380/0", "ex380/1"]
    np.testing.assert_allclose(x[:, 2], channels["ex380"].values, rtol=1e-6)
    v = channels["ex380"].values
    snv = (v - v.mean(axis=1, keepdims=True)) / v.std(axis=1, keepdims=True)
    np.testing.assert_allclose(x[:, 3], snv, rtol=1e-4, atol=1e-5)


def test_a_channel_set_checks_its_rows():
    a = Spectra(np.ones((3, 4)), np.arange(4.0))
    with pytest.raises(DataError, match="different numbers of samples"):
        ChannelSet({"a": a, "b": a.select([0, 1])})
    with pytest.raises(DataError, match="without commas"):
        ChannelSet({"a,b": a})
    cs = ChannelSet({"a": a, "b": a}, pd.DataFrame({"y": [1, 2, 3]}))
    assert list(cs.select([2, 0]).meta["y"]) == [3, 1]
