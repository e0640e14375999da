"""Atomic output: never destroys what it did not write, swaps bundles whole, keeps the umask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import spectrakit.bundle  # noqa: F401  -- registers the bundle recogniser with the core
from spectrakit.core import atomic
from spectrakit.core.atomic import (
    atomic_dir,
    atomic_path,
    check_output_dir,
    clean_stale,
    is_bundle_dir,
    overwrite_allowed,
)
from spectrakit.core.errors import ConfigError, DataError


def _fake_bundle(path: Path, weights: bytes = b"old") -> Path:
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(weights)
    config = {"format": "spectrakit-bundle", "files": {"model.safetensors": "x"}}
    (path / "config.json").write_text(json.dumps(config))
    return path


def _write_bundle(tmp: Path, weights: bytes) -> None:
    _fake_bundle(tmp / "_", weights)
    for f in (tmp / "_").iterdir():
        f.rename(tmp / f.name)
    (tmp / "_").rmdir()


def test_a_user_folder_is_refused_and_kept(tmp_path):
    user = tmp_path / "userdir"
    user.mkdir()
    (user / "precious.txt").write_text("data")
    refused = pytest.raises(ConfigError, match="already exists and is not a model bundle")
    with refused, atomic_dir(user) as tmp:
        (tmp / "config.json").write_text("{}")
    assert (user / "precious.txt").read_text() == "data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["userdir"]


def test_a_file_is_refused_not_turned_into_a_folder(tmp_path):
    target = tmp_path / "afile.txt"
    target.write_text("mine")
    with pytest.raises(ConfigError, match="already exists"), atomic_dir(target) as tmp:
        (tmp / "a").write_text("x")
    assert target.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile.txt"]


def test_overwrite_replaces_a_user_folder(tmp_path):
    user = tmp_path / "userdir"
    user.mkdir()
    (user / "precious.txt").write_text("data")
    with overwrite_allowed(), atomic_dir(user) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in user.iterdir()) == ["new.txt"]
    with atomic_dir(user, overwrite=True) as tmp:
        (tmp / "newer.txt").write_text("newer")
    assert sorted(p.name for p in user.iterdir()) == ["newer.txt"]


def test_a_bundle_with_a_foreign_file_is_not_a_bundle(tmp_path):
    bundle = _fake_bundle(tmp_path / "b")
    assert is_bundle_dir(bundle)
    (bundle / "notes.txt").write_text("mine")
    assert not is_bundle_dir(bundle)
    (bundle / "notes.txt").unlink()
    (bundle / "config.json").write_text("{not json")
    assert not is_bundle_dir(bundle)


def test_the_bundle_package_recognises_bundles_for_the_core(tmp_path):
    from spectrakit.bundle import is_bundle_dir as bundle_test

    bundle = _fake_bundle(tmp_path / "b")
    assert bundle_test(bundle) and bundle_test in atomic._BUNDLE_TESTS
    (bundle / "config.json").write_text('{"format": "spectrakit-bundle", "x": NaN}')
    assert not bundle_test(bundle)  # the strict reader of the bundle package decides
    link = tmp_path / "link"
    link.symlink_to(_fake_bundle(tmp_path / "c"), target_is_directory=True)
    assert not is_bundle_dir(link)
    before = list(atomic._BUNDLE_TESTS)
    assert atomic.register_bundle_test(bundle_test) is bundle_test
    assert len(atomic._BUNDLE_TESTS) == len(before)  # registering again keeps one


def test_the_core_alone_recognises_no_bundle_and_refuses_to_replace_it(tmp_path):
    bundle = _fake_bundle(tmp_path / "b")
    code = textwrap.dedent(
        f"""
        import sys
        from spectrakit.core.atomic import check_output_dir, is_bundle_dir
        from spectrakit.core.errors import ConfigError
        assert "spectrakit.bundle" not in sys.modules
        assert not is_bundle_dir({str(bundle)!r})
        try:
            check_output_dir({str(bundle)!r})
        except ConfigError:
            pass
        else:
            raise SystemExit("replaced a folder nothing recognised")
        import spectrakit.bundle
        assert is_bundle_dir({str(bundle)!r})
        check_output_dir({str(bundle)!r})
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_a_bundle_is_replaced_only_when_the_new_one_is_complete(tmp_path):
    bundle = _fake_bundle(tmp_path / "model")
    with pytest.raises(RuntimeError), atomic_dir(bundle) as tmp:
        _write_bundle(tmp, b"new")
        raise RuntimeError("crash while writing")
    assert (bundle / "model.safetensors").read_bytes() == b"old"
    with atomic_dir(bundle) as tmp:
        _write_bundle(tmp, b"new")
        assert (bundle / "model.safetensors").read_bytes() == b"old"  # still the old one
    assert (bundle / "model.safetensors").read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no .old.*, no temporary


def test_the_working_folder_is_never_an_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("x")
    for path in (".", "..", str(tmp_path)):
        with pytest.raises(ConfigError, match="working folder"):
            check_output_dir(path, overwrite=True)


def test_errors_name_the_users_path_not_the_temporary(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(FileNotFoundError) as info, atomic_dir(target) as tmp:
        open(tmp / "missing" / "f.txt", "w").close()
    assert info.value.filename == str(target / "missing" / "f.txt")
    with pytest.raises(DataError) as err, atomic_path(tmp_path / "f.csv") as tmp:
        raise DataError(f"cannot write {tmp}", got=str(tmp))
    assert atomic.TMP_TAG not in str(err.value)
    assert str(tmp_path / "f.csv") in str(err.value)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_outputs_keep_the_umask(tmp_path, mask):
    old = os.umask(mask)
    try:
        with atomic_path(tmp_path / "f.txt") as tmp:
            tmp.write_text("x")
        with atomic_dir(tmp_path / "d") as tmp:
            (tmp / "a").write_text("x")
        plain = tmp_path / "plain"
        plain.mkdir()
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    mode = lambda p: p.stat().st_mode & 0o777  # noqa: E731
    assert mode(tmp_path / "f.txt") == mode(tmp_path / "plain.txt") == 0o666 & ~mask
    assert mode(tmp_path / "d") == mode(plain) == 0o777 & ~mask


def test_a_replaced_file_keeps_its_mode(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.stat().st_mode & 0o777 == 0o640
    assert target.read_text() == "new"


_CRASH = textwrap.dedent(
    """
    import os, sys
    from spectrakit.core.atomic import atomic_dir, atomic_path
    kind, target = sys.argv[1], sys.argv[2]
    ctx = atomic_dir(target) if kind == "dir" else atomic_path(target)
    with ctx as tmp:
        if kind == "dir":
            (tmp / "model.safetensors").write_bytes(b"half")
        else:
            tmp.write_bytes(b"half")
        os._exit(9)  # killed mid-write: no cleanup runs
    """
)


@pytest.mark.parametrize("kind", ["dir", "file"])
def test_a_crash_leaves_no_stray_temporary_after_the_next_run(tmp_path, kind):
    target = tmp_path / ("model" if kind == "dir" else "out.csv")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, "-c", _CRASH, kind, str(target)], env=env)
    assert run.returncode == 9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and atomic.TMP_TAG in left[0]  # the killed write's temporary
    ctx = atomic_dir(target) if kind == "dir" else atomic_path(target)
    with ctx as tmp:
        if kind == "dir":
            (tmp / "a.txt").write_text("x")
        else:
            tmp.write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_only_our_stale_temporaries_are_removed(tmp_path):
    target = tmp_path / "model"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], stdout=-1)
    pid = int(dead.stdout)
    host = atomic._host()
    ours = tmp_path / f".model{atomic.TMP_TAG}{host}-{pid}-abc"
    ours.mkdir()
    (ours / atomic.MARKER).write_text(f"{pid} {host}\n")
    unmarked = tmp_path / f".model{atomic.TMP_TAG}{host}-{pid}-def"
    unmarked.mkdir()  # named like ours but without our marker: not provably ours
    (unmarked / "x").write_text("x")
    alive = tmp_path / f".model{atomic.TMP_TAG}{host}-{os.getppid()}-ghi"
    alive.mkdir()  # its process still runs
    (alive / atomic.MARKER).write_text(f"{os.getppid()} {host}\n")
    other_host = tmp_path / f".model{atomic.TMP_TAG}elsewhere-{pid}-jkl.csv"
    other_host.write_text("x")
    user = tmp_path / ".model.old.xyz"
    user.write_text("x")
    assert clean_stale(target) == [ours]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (unmarked, alive, other_host, user)
    )
