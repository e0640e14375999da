import zipfile

import pytest

from spectrakit.bundle.archive import pack_bundle, unpack_bundle
from spectrakit.core.errors import BundleError


@pytest.fixture
def bundle_dir(tmp_path):
    d = tmp_path / "bundle"
    d.mkdir()
    (d / "config.json").write_text('{"format_version": 1}')
    (d / "model.safetensors").write_bytes(b"\x00" * 128)
    return d


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_pack_unpack_round_trip(bundle_dir, tmp_path):
    z = pack_bundle(bundle_dir, tmp_path / "b.zip")
    out = unpack_bundle(z, tmp_path / "out")
    assert (out / "config.json").read_text() == '{"format_version": 1}'
    assert (out / "model.safetensors").read_bytes() == b"\x00" * 128


def test_zip_of_the_folder_itself_is_accepted(tmp_path):
    z = _zip(tmp_path / "f.zip", {"mybundle/config.json": "{}", "mybundle/card.md": "hi"})
    out = unpack_bundle(z, tmp_path / "out")
    assert (out / "card.md").read_text() == "hi"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../evil.py", "escapes"),
        ("sub/../../evil.py", "escapes"),
        ("/etc/passwd", "absolute"),
        ("C:/evil", "absolute"),
    ],
)
def test_path_traversal_is_refused(tmp_path, name, message):
    z = _zip(tmp_path / "bad.zip", {"config.json": "{}", name: "x"})
    with pytest.raises(BundleError, match=message):
        unpack_bundle(z, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.py").exists()


def test_symlink_member_is_refused(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", "{}")
        info = zipfile.ZipInfo("model.safetensors")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(BundleError, match="symbolic link"):
        unpack_bundle(path, tmp_path / "out")


def test_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", "{}")
        zf.writestr("model.safetensors", b"\x00" * (20 * 1024 * 1024))
    with pytest.raises(BundleError, match="compression ratio"):
        unpack_bundle(path, tmp_path / "out")


def test_not_a_zip_and_missing_config(tmp_path):
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(BundleError, match="not a readable zip"):
        unpack_bundle(bad, tmp_path / "out")
    z = _zip(tmp_path / "noconf.zip", {"model.safetensors": "x"})
    with pytest.raises(BundleError, match="does not contain a bundle"):
        unpack_bundle(z, tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_pack_refuses_non_bundle(tmp_path):
    with pytest.raises(BundleError, match="not a bundle"):
        pack_bundle(tmp_path, tmp_path / "x.zip")
