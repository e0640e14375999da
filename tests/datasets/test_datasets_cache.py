"""Download-once cache: checksums, atomic + resumable downloads, offline errors (local only)."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from spectrakit import DataError
from spectrakit.datasets import REGISTRY, RemoteDataset, RemoteFile, data_home, fetch
from spectrakit.datasets._cache import fetch_file
from spectrakit.datasets.remote import load_bacteria_id, load_dig4bio

PAYLOAD = bytes(range(256)) * 64  # 16 KiB


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the test folder; honours simple ``Range: bytes=N-`` requests; counts GETs."""

    hits: ClassVar[list[str]] = []
    ranges: ClassVar[list[str]] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        type(self).hits.append(self.path)
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if rng and path.is_file():
            type(self).ranges.append(rng)
            start = int(rng.split("=")[1].rstrip("-"))
            data = path.read_bytes()[start:]
            self.send_response(206)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "data.bin").write_bytes(PAYLOAD)
    _Handler.hits, _Handler.ranges = [], []

    def handler(*args, **kwargs):
        return _Handler(*args, directory=str(root), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_data_home_from_argument_env_or_default(monkeypatch, tmp_path):
    monkeypatch.setenv("SPECTRAKIT_DATA", str(tmp_path / "env"))
    assert data_home() == tmp_path / "env"
    assert data_home(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("SPECTRAKIT_DATA")
    assert data_home().parts[-2:] == (".cache", "spectrakit")


def test_download_once_with_checksum(server, tmp_path):
    url, _ = server
    remote = RemoteFile("data.bin", f"{url}/data.bin", sha256=_sha(PAYLOAD))
    path = fetch_file(remote, tmp_path / "cache")
    assert path.read_bytes() == PAYLOAD
    assert not list((tmp_path / "cache").glob("*.part"))
    assert fetch_file(remote, tmp_path / "cache") == path
    assert _Handler.hits == ["/data.bin"]  # the second call used the cache


def test_checksum_mismatch_removes_the_download(server, tmp_path):
    url, _ = server
    remote = RemoteFile("data.bin", f"{url}/data.bin", sha256="0" * 64)
    with pytest.raises(DataError, match="checksum mismatch") as err:
        fetch_file(remote, tmp_path / "cache")
    assert _sha(PAYLOAD) in str(err.value)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["data.bin.lock"]


def test_corrupted_cached_file_is_downloaded_again(server, tmp_path):
    url, _ = server
    remote = RemoteFile("data.bin", f"{url}/data.bin", sha256=_sha(PAYLOAD))
    path = fetch_file(remote, tmp_path / "cache")
    path.write_bytes(b"tampered")
    assert fetch_file(remote, tmp_path / "cache").read_bytes() == PAYLOAD
    assert len(_Handler.hits) == 2


def test_interrupted_download_resumes_from_the_part_file(server, tmp_path):
    url, _ = server
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "data.bin.part").write_bytes(PAYLOAD[:5000])  # left by an interrupted run
    remote = RemoteFile("data.bin", f"{url}/data.bin", sha256=_sha(PAYLOAD))
    assert fetch_file(remote, cache).read_bytes() == PAYLOAD
    assert _Handler.ranges == ["bytes=5000-"]


def test_unpinned_file_is_pinned_on_first_download(server, tmp_path):
    url, root = server
    remote = RemoteFile("data.bin", f"{url}/data.bin")
    path = fetch_file(remote, tmp_path / "cache")
    pin = path.with_name("data.bin.sha256")
    assert pin.read_text().strip() == _sha(PAYLOAD)
    path.write_bytes(b"changed")  # a later corruption is caught by the pinned digest
    (root / "data.bin").write_bytes(b"the server now serves something else")
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch_file(remote, tmp_path / "cache")
    assert not path.exists()


def test_offline_error_says_where_to_get_the_file(tmp_path):
    # a port on 127.0.0.1 where nothing listens: connection refused, no internet involved
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    remote = RemoteFile("data.bin", f"http://127.0.0.1:{port}/data.bin", sha256="0" * 64)
    with pytest.raises(DataError) as err:
        fetch_file(remote, tmp_path / "cache", dataset="toy", timeout=5)
    text = str(err.value)
    assert "could not download toy: network unreachable" in text
    assert f"http://127.0.0.1:{port}/data.bin" in text
    assert str(tmp_path / "cache" / "data.bin") in text
    assert not (tmp_path / "cache" / "data.bin").exists()


def test_http_error_and_file_urls(server, tmp_path):
    url, root = server
    with pytest.raises(DataError, match="HTTP 404"):
        fetch_file(RemoteFile("nope.bin", f"{url}/nope.bin"), tmp_path / "a")
    local = RemoteFile("data.bin", (root / "data.bin").as_uri(), sha256=_sha(PAYLOAD))
    assert fetch_file(local, tmp_path / "b").read_bytes() == PAYLOAD


def test_manual_only_file_gives_instructions(tmp_path):
    remote = RemoteFile("secret.zip", None)
    with pytest.raises(DataError, match=r"download it from https://example\.org/page"):
        fetch_file(remote, tmp_path, dataset="toy", homepage="https://example.org/page")


def _bacteria_zip(root: Path) -> str:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for split, n in (("reference", 6), ("finetune", 3), ("test", 3)):
            for name, arr in (
                (f"X_{split}.npy", rng.random((n, 10))),
                (f"y_{split}.npy", np.arange(n) % 3),
            ):
                b = io.BytesIO()
                np.save(b, arr)
                zf.writestr(f"bacteria/{name}", b.getvalue())
        b = io.BytesIO()
        np.save(b, np.linspace(1800.0, 400.0, 10))  # stored descending
        zf.writestr("bacteria/wavenumbers.npy", b.getvalue())
    (root / "bacteria.zip").write_bytes(buf.getvalue())
    return _sha(buf.getvalue())


def test_bacteria_id_loader_with_a_local_mirror(server, tmp_path, monkeypatch):
    url, root = server
    digest = _bacteria_zip(root)
    entry = REGISTRY["bacteria-id"]
    mirror = RemoteDataset(
        entry.name,
        (RemoteFile("bacteria-id.zip", f"{url}/bacteria.zip", digest, unpack=True),),
        entry.homepage,
        expected=entry.expected,
    )
    monkeypatch.setitem(REGISTRY, "bacteria-id", mirror)
    monkeypatch.setenv("SPECTRAKIT_DATA", str(tmp_path / "cache"))
    s = load_bacteria_id("reference")
    assert s.shape == (6, 10)
    assert s.axis.min == 400 and s.axis.max == 1800 and s.axis.kind == "raman_shift"
    assert s.meta["label"].tolist() == [0, 1, 2, 0, 1, 2]
    assert s.meta["strain"].iloc[0] == "C. albicans"
    raw = np.load(tmp_path / "cache" / "bacteria-id" / "X_reference.npy")
    np.testing.assert_allclose(s.values, raw[:, ::-1].astype(np.float32))  # axis reordered
    assert load_bacteria_id("test").shape == (3, 10)
    assert _Handler.hits == ["/bacteria.zip"]  # downloaded and unpacked once
    with pytest.raises(DataError, match="unknown bacteria-ID split"):
        load_bacteria_id("2020clinical")


def test_dig4bio_without_the_manual_download_explains_what_to_do(tmp_path):
    with pytest.raises(DataError) as err:
        load_dig4bio(home=tmp_path)
    text = str(err.value)
    assert "kaggle.com/competitions/dig-4-bio-raman-transfer-learning-challenge" in text
    assert str(tmp_path / "dig4bio") in text


def test_dig4bio_reads_the_unpacked_folder(tmp_path):
    folder = tmp_path / "dig4bio"
    folder.mkdir()
    axis = [f"{v:g}" for v in np.linspace(400, 1800, 8)]
    header = ",".join([*axis, "glucose", "Na_acetate", "Mg_SO4", "fold_idx"])
    rows = [",".join(["1.0"] * 8 + ["1.5", "0.5", "0.2", str(i % 2)]) for i in range(4)]
    for name in ("kaiser", "tec5"):
        (folder / f"{name}.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    blocks = load_dig4bio(home=tmp_path)
    assert sorted(blocks) == ["kaiser", "tec5"]
    assert blocks["kaiser"].shape == (4, 8)
    assert "glucose" in blocks["kaiser"].meta.columns


def test_fetch_unknown_layout_reports_missing_files(server, tmp_path):
    url, root = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
    (root / "a.zip").write_bytes(buf.getvalue())
    ds = RemoteDataset(
        "toy",
        (RemoteFile("a.zip", f"{url}/a.zip", unpack=True),),
        "https://example.org",
        expected=("a.txt", "b.txt"),
    )
    with pytest.raises(DataError, match=r"missing b\.txt"):
        fetch(ds, home=tmp_path)
    assert (tmp_path / "toy" / "a.txt").read_text() == "x"


def test_archive_with_unsafe_member_is_refused(server, tmp_path):
    url, root = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../escape.txt", "x")
    (root / "evil.zip").write_bytes(buf.getvalue())
    ds = RemoteDataset("evil", (RemoteFile("evil.zip", f"{url}/evil.zip", unpack=True),), "")
    with pytest.raises(DataError, match="unsafe path"):
        fetch(ds, home=tmp_path)
    assert not (tmp_path / "escape.txt").exists()


def test_missing_local_source_is_reported_as_such(tmp_path):
    remote = RemoteFile("x.bin", (tmp_path / "absent.bin").as_uri())
    with pytest.raises(DataError, match="source file cannot be read"):
        fetch_file(remote, tmp_path / "cache")


def test_concurrent_fetches_download_once(server, tmp_path):
    url, _ = server
    remote = RemoteFile("data.bin", f"{url}/data.bin", sha256=_sha(PAYLOAD))
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(fetch_file(remote, tmp_path / "c")))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(p.read_bytes() == PAYLOAD for p in results)
    assert _Handler.hits == ["/data.bin"]


def test_bacteria_axis_reorders_descending_wavenumbers_and_checks_their_count(tmp_path):
    from spectrakit.datasets.remote import _bacteria_axis

    values = np.arange(6.0).reshape(2, 3)
    same, axis = _bacteria_axis(tmp_path, values)  # no wavenumbers.npy: point indices
    assert same is values and axis.unit == "channel" and axis.values.tolist() == [0, 1, 2]
    np.save(tmp_path / "wavenumbers.npy", np.array([1200.0, 1100.0, 1000.0]))
    ordered, axis = _bacteria_axis(tmp_path, values)
    assert axis.values.tolist() == [1000.0, 1100.0, 1200.0] and axis.unit == "cm-1"
    np.testing.assert_array_equal(ordered, values[:, ::-1])
    np.save(tmp_path / "wavenumbers.npy", np.array([1000.0, 1100.0]))
    with pytest.raises(DataError, match=r"wavenumbers\.npy does not match"):
        _bacteria_axis(tmp_path, values)
