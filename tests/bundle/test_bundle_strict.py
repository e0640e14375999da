"""Strict bundle reading: hostile config.json, links and forged safetensors give one line."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from safetensors.numpy import save_file

import spectrakit
from _bundle_forge import forge, rehash
from spectrakit.bundle import Bundle
from spectrakit.cli import main
from spectrakit.core.errors import BundleError
from spectrakit.preprocessing import MeanCenter, Pipeline
from spectrakit.preprocessing.channels import ChannelPreprocessor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and isinstance(exc.value, BundleError)
    return text


def test_config_nested_100000_deep_is_refused(tiny_bundle):
    (tiny_bundle / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BundleError) as err:
        spectrakit.load(tiny_bundle)
    assert "nested too deeply" in _one_line(err)


def test_config_nested_past_the_limit_but_parseable_is_refused(tiny_bundle):
    forge(tiny_bundle, lambda c: c["training"].update(deep=json.loads("[" * 70 + "]" * 70)))
    with pytest.raises(BundleError, match="nested too deeply"):
        spectrakit.load(tiny_bundle)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_literals_in_config_are_refused(tiny_bundle, literal):
    forge(tiny_bundle, lambda c: c["metrics"].update(val_rmse=float(literal)), allow_nan=True)
    assert literal in (tiny_bundle / "config.json").read_text()
    with pytest.raises(BundleError) as err:
        spectrakit.load(tiny_bundle)
    assert f"non-standard JSON literal {literal}" in _one_line(err)


def test_cli_gives_one_line_and_exit_2_for_a_nan_config(tiny_bundle, tmp_path, capsys):
    forge(tiny_bundle, lambda c: c["output"].update(target_std=[float("nan")]), allow_nan=True)
    data = tmp_path / "x.csv"
    spectrakit.write(spectrakit.Spectra(np.ones((2, 64)), np.linspace(400.0, 1800.0, 64)), data)
    code = main(["predict", "--model", str(tiny_bundle), "--data", str(data)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "NaN" in err, err


def test_symlinked_config_is_refused(tiny_bundle, tmp_path):
    real = tmp_path / "elsewhere.json"
    os.replace(tiny_bundle / "config.json", real)
    os.symlink(real, tiny_bundle / "config.json")
    with pytest.raises(BundleError) as err:
        spectrakit.load(tiny_bundle)
    assert "symbolic link" in _one_line(err)


def test_symlinked_weights_are_refused(tiny_bundle, tmp_path):
    real = tmp_path / "w.safetensors"
    os.replace(tiny_bundle / "model.safetensors", real)
    os.symlink(real, tiny_bundle / "model.safetensors")
    with pytest.raises(BundleError, match="symbolic link"):
        spectrakit.load(tiny_bundle)


# ---------------------------------------------------------------------- forged safetensors
@pytest.fixture
def with_state(tmp_path):
    """A bundle with a fitted MeanCenter state in preprocessing.safetensors."""
    import torch

    from spectrakit.models import create

    train = spectrakit.Spectra(
        np.random.default_rng(0).normal(1.0, 0.1, (6, 64)), np.linspace(400.0, 1800.0, 64)
    )
    pre = ChannelPreprocessor([Pipeline([("center", MeanCenter())])])
    pre.fit(train)
    torch.manual_seed(0)
    model = create("cnn1d_tiny", n_outputs=1, input_length=64)
    output = {"task": "regression", "n_targets": 1, "target_mean": [0.0], "target_std": [1.0]}
    return spectrakit.bundle.save(
        tmp_path / "b", model=model, task="regression", axis=train.axis, targets=["c"],
        output=output, preprocessor=pre,
    )  # fmt: skip


def _replace_state(bundle, data: bytes) -> None:
    (bundle / "preprocessing.safetensors").write_bytes(data)
    forge(bundle, lambda c: None)  # the attacker re-records every checksum


def _header_lie(bundle) -> bytes:
    raw = (bundle / "preprocessing.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    key = next(k for k in header if k != "__metadata__")
    header[key]["data_offsets"][1] += 4096  # claims more bytes than the file holds
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + raw[8 + n :]


def _state_bytes(bundle, tmp_path, arrays: dict) -> bytes:
    path = tmp_path / "forged.safetensors"
    save_file(arrays, str(path))
    return path.read_bytes()


def _key(bundle) -> str:
    return next(iter(Bundle(bundle).read_arrays("preprocessing.safetensors")))


@pytest.mark.parametrize("kind", ["header", "truncated", "length", "dtype", "shape", "nan"])
def test_forged_preprocessing_state_is_refused(with_state, tmp_path, kind):
    key = _key(with_state)
    raw = (with_state / "preprocessing.safetensors").read_bytes()
    forged = {
        "header": lambda: _header_lie(with_state),
        "truncated": lambda: raw[:-40],
        "length": lambda: struct.pack("<Q", 10**12) + raw[8:],
        "dtype": lambda: _state_bytes(with_state, tmp_path, {key: np.zeros(64, np.int64)}),
        "shape": lambda: _state_bytes(with_state, tmp_path, {key: np.zeros(1)}),
        "nan": lambda: _state_bytes(with_state, tmp_path, {key: np.full(64, np.nan)}),
    }[kind]()
    _replace_state(with_state, forged)
    with pytest.raises(BundleError) as err:
        spectrakit.load(with_state)
    assert "preprocessing.safetensors" in _one_line(err)


def test_forged_weights_header_is_refused(tiny_bundle):
    config = json.loads((tiny_bundle / "config.json").read_text())
    assert rehash(config)["integrity"] == config["integrity"]  # the forger's checksum is exact
    raw = (tiny_bundle / "model.safetensors").read_bytes()
    (tiny_bundle / "model.safetensors").write_bytes(raw[:-100])
    forge(tiny_bundle, lambda c: None)
    with pytest.raises(BundleError) as err:
        spectrakit.load(tiny_bundle)
    assert "model.safetensors is not a valid safetensors file" in _one_line(err)


def test_integer_weights_are_refused(tiny_bundle, tmp_path):
    from safetensors.numpy import load_file

    state = load_file(str(tiny_bundle / "model.safetensors"))
    state = {k: v.astype(np.int32) for k, v in state.items()}
    save_file(state, str(tiny_bundle / "model.safetensors"))
    forge(tiny_bundle, lambda c: None)
    with pytest.raises(BundleError, match="dtype"):
        spectrakit.load(tiny_bundle)
