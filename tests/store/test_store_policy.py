"""The model store applies the bundle checks: integrity, file policy, a root that is a file."""

from __future__ import annotations

import json
import shutil

import pytest

import spectrakit
from spectrakit.bundle import Bundle, pack_bundle
from spectrakit.cli import main
from spectrakit.core.errors import BundleError
from spectrakit.store.local import LocalRegistry

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


def test_signed_bundle_keeps_its_signature_through_the_store(tiny_bundle, tmp_path):
    key = tmp_path / "secret.key"
    key.write_bytes(b"k" * 32)
    Bundle(tiny_bundle).sign(key)
    reg = LocalRegistry(tmp_path / "reg")
    zipped = pack_bundle(tiny_bundle, tmp_path / "b.zip")
    manifest = reg.push(zipped, "m")  # a zip is verified too, in a private folder
    assert manifest["signed"] is True and manifest["model"] == "cnn1d_tiny"
    assert sorted(p.name for p in (tmp_path / "reg").iterdir()) == ["m"]
    out = reg.pull("m", dest=tmp_path / "pulled")
    assert spectrakit.load(out, key=key).config.signature["scheme"] == "hmac-sha256"
    shutil.rmtree(out)


@pytest.mark.parametrize("manifest", ['{"files": 5}', "[1]", '{"files": {"a": 1}}', "{"])
def test_damaged_store_manifest_is_one_line(tiny_bundle, tmp_path, capsys, manifest):
    reg = LocalRegistry(tmp_path / "reg")
    reg.push(tiny_bundle, "m")
    (tmp_path / "reg" / "m" / "1" / "manifest.json").write_text(manifest)
    code = main(
        ["registry", "--root", str(tmp_path / "reg"), "pull", "m", "--dest", str(tmp_path / "x")]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "manifest.json" in err, err
