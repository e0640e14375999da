"""One file policy for bundles: verify, zip packing/unpacking and the store refuse alike."""

from __future__ import annotations

import zipfile

import pytest

from spectrakit.bundle import (
    ALLOWED_SUFFIXES,
    Bundle,
    check_file_name,
    pack_bundle,
    sha256_bytes,
    sha256_file,
    unpack_bundle,
)
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
