"""One file policy for bundles: verify, zip packing/unpacking and the store refuse alike."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

import spectrakit
from spectrakit.bundle import (
    ALLOWED_SUFFIXES,
    Bundle,
    check_file_name,
    pack_bundle,
    sha256_bytes,
    sha256_file,
    unpack_bundle,
)
from spectrakit.cli import main
from spectrakit.core.errors import BundleError
from spectrakit.store.local import LocalRegistry, file_sha256

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BAD_NAMES = ["evil.py", "model.pkl", "last.ckpt", "weights.pt", ".hidden.json", "run.sh", "x"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_policy_refuses_code_pickles_and_hidden_files(name):
    with pytest.raises(BundleError, match="invalid bundle file name"):
        check_file_name(name)


@pytest.mark.parametrize("name", ["model.safetensors", "card.md", "ood.json", "model.onnx"])
def test_policy_accepts_bundle_files(name):
    assert check_file_name(name) == name and name.endswith(ALLOWED_SUFFIXES)


def test_one_sha256_helper():
    assert file_sha256 is sha256_file


def test_hash_helpers_agree(tmp_path):
    (tmp_path / "f").write_bytes(b"abc" * 1000)
    assert sha256_file(tmp_path / "f") == sha256_bytes(b"abc" * 1000)


@pytest.mark.parametrize("name", ["evil.py", "model.pkl"])
def test_every_reader_refuses_the_same_file(tiny_bundle, tmp_path, name):
    (tiny_bundle / name).write_bytes(b"import os\n")
    with pytest.raises(BundleError, match=name.replace(".", r"\.")):
        Bundle(tiny_bundle).verify()
    with pytest.raises(BundleError, match="invalid bundle file name"):
        pack_bundle(tiny_bundle, tmp_path / "b.zip")
    with pytest.raises(BundleError, match=name.replace(".", r"\.")):
        LocalRegistry(tmp_path / "reg").push(tiny_bundle, "m")
    assert not (tmp_path / "reg" / "m").exists()
    (tiny_bundle / name).unlink()
    zipped = pack_bundle(tiny_bundle, tmp_path / "ok.zip")
    with zipfile.ZipFile(zipped, "a") as zf:
        zf.writestr(name, "import os\n")
    with pytest.raises(BundleError, match="invalid bundle file name"):
        unpack_bundle(zipped, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_folders_are_refused_by_verify_and_by_unpack(tiny_bundle, tmp_path):
    zipped = pack_bundle(tiny_bundle, tmp_path / "ok.zip")
    with zipfile.ZipFile(zipped, "a") as zf:
        zf.writestr("sub/notes.json", "{}")
    with pytest.raises(BundleError, match="inside a folder"):
        unpack_bundle(zipped, tmp_path / "out")
    (tiny_bundle / "sub").mkdir()
    with pytest.raises(BundleError, match="not a regular file"):
        Bundle(tiny_bundle).verify()


# ---------------------------------------------------------------------- the store
def test_push_refuses_a_broken_integrity_check(tiny_bundle, tmp_path):
    config = json.loads((tiny_bundle / "config.json").read_text())
    config["output"]["target_std"] = [1000.0]  # edited without recomputing the checksum
    (tiny_bundle / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match="modified after the bundle was saved"):
        LocalRegistry(tmp_path / "reg").push(tiny_bundle, "m")


def test_push_refuses_a_file_that_fails_its_checksum(tiny_bundle, tmp_path):
    (tiny_bundle / "card.md").write_text("# edited")
    with pytest.raises(BundleError, match="checksum"):
        LocalRegistry(tmp_path / "reg").push(tiny_bundle, "m")


def test_cli_push_of_evil_py_is_one_line_and_exit_2(tiny_bundle, tmp_path, capsys):
    (tiny_bundle / "evil.py").write_text("import os; os.system('echo owned')\n")
    root = str(tmp_path / "reg")
    code = main(["registry", "--root", root, "push", str(tiny_bundle), "--name", "m"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "evil.py" in err, err


def test_root_that_is_a_file_is_refused(tmp_path, capsys):
    small = tmp_path / "small.csv"
    small.write_text("a,b\n1,2\n")
    code = main(["registry", "--root", str(small), "list"])
    captured = capsys.readouterr()
    assert code == 2 and "empty" not in captured.out
    assert "not a folder" in captured.err and len(captured.err.strip().splitlines()) == 1
    assert small.read_text() == "a,b\n1,2\n"


def test_pushed_zip_is_verified_and_leaves_nothing_in_the_root(tiny_bundle, tmp_path):
    zipped = pack_bundle(tiny_bundle, tmp_path / "b.zip")
    reg = LocalRegistry(tmp_path / "reg")
    manifest = reg.push(zipped, "m")
    assert manifest["model"] == "cnn1d_tiny" and manifest["task"] == "regression"
    assert sorted(p.name for p in (tmp_path / "reg").iterdir()) == ["m"]
    out = reg.pull("m", dest=tmp_path / "pulled")
    assert spectrakit.load(out).config == spectrakit.load(tiny_bundle).config


def test_signed_bundle_keeps_its_signature_through_the_store(tiny_bundle, tmp_path):
    key = tmp_path / "secret.key"
    key.write_bytes(b"k" * 32)
    Bundle(tiny_bundle).sign(key)
    reg = LocalRegistry(tmp_path / "reg")
    assert reg.push(tiny_bundle, "m")["signed"] is True
    out = reg.pull("m", dest=tmp_path / "pulled")
    assert spectrakit.load(out, key=key).config.signature["scheme"] == "hmac-sha256"
    shutil.rmtree(out)
