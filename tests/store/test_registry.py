import json

import pytest

from spectrakit.bundle.archive import pack_bundle
from spectrakit.cli import main
from spectrakit.core.errors import BundleError
from spectrakit.store.local import LocalRegistry


@pytest.fixture
def bundle(tiny_bundle):
    return tiny_bundle


def test_push_list_pull_round_trip(bundle, tmp_path):
    reg = LocalRegistry(tmp_path / "reg")
    m1 = reg.push(bundle, "glucose")
    m2 = reg.push(pack_bundle(bundle, tmp_path / "b.zip"), "glucose")
    assert (m1["version"], m2["version"]) == ("1", "2")
    assert [r["version"] for r in reg.list()] == ["1", "2"]
    out = reg.pull("glucose", dest=tmp_path / "pulled")
    weights = (bundle / "model.safetensors").read_bytes()
    assert (out / "model.safetensors").read_bytes() == weights
    assert not (out / "manifest.json").exists()


def test_existing_version_needs_force(bundle, tmp_path):
    reg = LocalRegistry(tmp_path / "reg")
    reg.push(bundle, "m", "1.0")
    with pytest.raises(BundleError, match="already exists"):
        reg.push(bundle, "m", "1.0")
    reg.push(bundle, "m", "1.0", force=True)


def test_tampered_copy_is_refused(bundle, tmp_path):
    reg = LocalRegistry(tmp_path / "reg")
    reg.push(bundle, "m")
    (tmp_path / "reg" / "m" / "1" / "model.safetensors").write_bytes(b"evil")
    with pytest.raises(BundleError, match="checksum mismatch"):
        reg.pull("m", dest=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extra_file_in_store_is_refused(bundle, tmp_path):
    reg = LocalRegistry(tmp_path / "reg")
    reg.push(bundle, "m")
    (tmp_path / "reg" / "m" / "1" / "extra.json").write_text("{}")
    with pytest.raises(BundleError, match="not in its manifest"):
        reg.verify("m")


def test_pickle_in_bundle_is_refused(bundle, tmp_path):
    (bundle / "model.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(BundleError, match=r"unexpected file 'model\.pkl'"):
        LocalRegistry(tmp_path / "reg").push(bundle, "m")


def test_bad_names_and_unknown_model(bundle, tmp_path):
    reg = LocalRegistry(tmp_path / "reg")
    with pytest.raises(BundleError, match="invalid model name"):
        reg.push(bundle, "../evil")
    with pytest.raises(BundleError, match="no model 'nope'"):
        reg.pull("nope", dest=tmp_path / "x")


def test_cli(bundle, tmp_path, capsys):
    root = str(tmp_path / "reg")
    assert main(["registry", "--root", root, "push", str(bundle), "--name", "g"]) == 0
    assert main(["registry", "--root", root, "list", "--json", "-"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("[") :])[0]["model"] == "cnn1d_tiny"
    assert main(["registry", "--root", root, "pull", "missing", "--dest", str(tmp_path / "d")]) == 2
    assert "no model 'missing'" in capsys.readouterr().err


@pytest.mark.parametrize("offline", ["1", None])
def test_hub_pull_without_network_is_one_clear_line(tmp_path, capsys, monkeypatch, offline):
    pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    if offline:
        monkeypatch.setenv("HF_HUB_OFFLINE", offline)
    else:  # no network: a host name that never resolves
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", "http://hub.invalid")
    dest = tmp_path / "d"
    code = main(["registry", "--root", str(tmp_path / "reg"), "pull", "someone/model",
                 "--hub", "--dest", str(dest)])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "Hub is unreachable" in err and "LocalEntryNotFoundError" not in err
    assert ("HF_HUB_OFFLINE is set" in err) == bool(offline)
    assert not dest.exists()
