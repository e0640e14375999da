"""Zip bundles are checked before extraction: names, sizes, ratio, CRC; one line per refusal."""

from __future__ import annotations

import struct
import warnings
import zipfile

import pytest

import spectrakit
from spectrakit.bundle import archive, pack_bundle, unpack_bundle
from spectrakit.cli import main
from spectrakit.core.errors import BundleError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _refused(zip_path, dest, match: str) -> str:
    with pytest.raises(BundleError) as err:
        unpack_bundle(zip_path, dest)
    text = str(err.value)
    assert "\n" not in text and match in text, text
    assert not dest.exists()
    assert [p.name for p in dest.parent.iterdir() if p.name.startswith(f".{dest.name}")] == []
    return text


def _zip_with(bundle, path, name: str, data: bytes = b"{}", method=zipfile.ZIP_DEFLATED):
    pack_bundle(bundle, path)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a", compression=method) as zf:
        warnings.simplefilter("ignore")  # zipfile warns on a duplicate name
        info = zipfile.ZipInfo("placeholder")
        info.filename = name  # '' cannot be given to ZipInfo directly
        info.compress_type = method
        with zf.open(info, "w") as fh:
            fh.write(data)
    return path


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("", "no usable name"),
        (".", "no usable name"),
        ("./", "no usable name"),
        ("a/./card.md", "escapes"),
        ("card.md", "appears twice"),
        ("CONFIG.json", "appears twice"),
        ("evil.py", "invalid bundle file name"),
        ("sub/notes.json", "inside a folder"),
        ("sub/", "is a folder"),
    ],
)
def test_bad_member_names_are_refused_before_writing(tiny_bundle, tmp_path, name, match):
    z = _zip_with(tiny_bundle, tmp_path / "b.zip", name)
    _refused(z, tmp_path / "out", match)


def _central_entry(raw: bytes, name: bytes) -> int:
    """Offset of the central-directory record of member ``name``."""
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        n = struct.unpack("<H", raw[at + 28 : at + 30])[0]
        if raw[at + 46 : at + 46 + n] == name:
            return at
        at = raw.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


def _set_declared_size(path, name: bytes, delta: int) -> None:
    raw = bytearray(path.read_bytes())
    at = _central_entry(bytes(raw), name)
    (size,) = struct.unpack("<I", raw[at + 24 : at + 28])
    raw[at + 24 : at + 28] = struct.pack("<I", size + delta)
    path.write_bytes(bytes(raw))


def test_a_crc_error_is_refused_with_one_line(tiny_bundle, tmp_path):
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in sorted(tiny_bundle.iterdir()):
            zf.write(p, p.name)
    raw = bytearray(z.read_bytes())
    at = raw.find(b"# spectrakit model")  # the stored (uncompressed) card
    raw[at] ^= 0x01
    z.write_bytes(bytes(raw))
    _refused(z, tmp_path / "out", "damaged")


def test_a_member_shorter_than_declared_is_refused(tiny_bundle, tmp_path):
    z = pack_bundle(tiny_bundle, tmp_path / "b.zip")
    _set_declared_size(z, b"card.md", +50)
    _refused(z, tmp_path / "out", "card.md")


def test_a_member_longer_than_declared_is_refused(tiny_bundle, tmp_path):
    z = pack_bundle(tiny_bundle, tmp_path / "b.zip")
    _set_declared_size(z, b"model.safetensors", -100)
    _refused(z, tmp_path / "out", "model.safetensors")


def test_a_bomb_is_refused_before_anything_is_written(tiny_bundle, tmp_path):
    z = _zip_with(tiny_bundle, tmp_path / "bomb.zip", "notes.txt", b"\x00" * (40 * 1024**2))
    assert z.stat().st_size < 200_000
    text = _refused(z, tmp_path / "out", "compression ratio")
    assert "MAX_RATIO" in text


def test_a_bomb_that_hides_its_size_writes_nothing(tiny_bundle, tmp_path):
    """The header says 1 KB, the data expands to 40 MB: refused in the check pass."""
    z = _zip_with(tiny_bundle, tmp_path / "bomb.zip", "notes.txt", b"\x00" * (40 * 1024**2))
    raw = bytearray(z.read_bytes())
    at = _central_entry(bytes(raw), b"notes.txt")
    raw[at + 24 : at + 28] = struct.pack("<I", 1024)
    z.write_bytes(bytes(raw))
    _refused(z, tmp_path / "out", "notes.txt")


def test_total_size_and_member_limits_are_named(tiny_bundle, tmp_path, monkeypatch):
    z = pack_bundle(tiny_bundle, tmp_path / "b.zip")
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 1000)
    _refused(z, tmp_path / "out", "MAX_TOTAL_BYTES")
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 100)
    _refused(z, tmp_path / "out", "MAX_MEMBER_BYTES")
    monkeypatch.setattr(archive, "MAX_MEMBERS", 1)
    _refused(z, tmp_path / "out", "MAX_MEMBERS")


def test_cli_gives_one_line_for_a_damaged_zip(tiny_bundle, tmp_path, capsys):
    z = _zip_with(tiny_bundle, tmp_path / "b.zip", ".")
    data = tmp_path / "x.csv"
    spectrakit.write(spectrakit.Spectra([[1.0] * 64], list(range(400, 464))), data)
    code = main(["predict", "--model", str(z), "--data", str(data)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "no usable name" in err, err


def test_the_same_file_inside_and_outside_the_zipped_folder_is_refused(tiny_bundle, tmp_path):
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(tiny_bundle.iterdir()):
            zf.write(p, f"mybundle/{p.name}")
        zf.writestr("card.md", "# another card")
    _refused(z, tmp_path / "out", "appears twice")
