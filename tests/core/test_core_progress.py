"""Progress bars: shown on a terminal, silent off one, with --no-progress or the variable."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest

import spectrakit as sk
from spectrakit.core import progress as progress_module
from spectrakit.core.progress import ENV_VAR, disable_progress, progress, progress_enabled

SRC = str(Path(sk.__file__).resolve().parents[1])
COUNT = (
    "from spectrakit.core.progress import progress\n"
    "for _ in progress(range(40), 40, 'counting'):\n    pass\n"
)


def _on_pty(argv: list[str], env_extra: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``argv`` with standard error on a pseudo-terminal; (exit code, what it showed)."""
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop(ENV_VAR, None)
    env.update(env_extra or {})
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave, env=env)  # fmt: skip
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    proc.communicate(timeout=120)
    os.close(master)
    return proc.returncode, shown.decode("utf-8", "replace")


def test_off_a_terminal_nothing_is_written_and_the_iterable_passes_through(capfd):
    items = [1, 2, 3]
    assert not progress_enabled()  # pytest captures standard error: not a terminal
    assert progress(items, 3, "quiet") is items
    with progress(total=10, desc="manual") as bar:
        bar.update(10)
    assert capfd.readouterr().err == ""


def test_disable_and_environment_variable(monkeypatch):
    monkeypatch.setattr(progress_module.sys, "stderr", _Tty())
    assert progress_enabled()
    before = disable_progress()
    assert not progress_enabled()
    disable_progress(before)
    assert progress_enabled()
    monkeypatch.setenv(ENV_VAR, "1")
    assert not progress_enabled()


class _Tty:
    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def test_bar_is_shown_on_a_pseudo_terminal():
    code, shown = _on_pty([sys.executable, "-c", COUNT])
    assert code == 0
    assert "counting" in shown and "/40" in shown


def test_environment_variable_silences_the_terminal_bar():
    code, shown = _on_pty([sys.executable, "-c", COUNT], {ENV_VAR: "1"})
    assert code == 0 and shown == ""


@pytest.fixture(scope="module")
def parquet_job(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("stream")
    axis = np.linspace(400.0, 1800.0, 50)
    values = np.random.default_rng(0).random((300, axis.size)) + 1.0
    sk.io.write(sk.Spectra(values, axis, unit="cm-1"), folder / "in.parquet")
    (folder / "snv.json").write_text('{"steps": ["SNV"]}')
    cli = [sys.executable, "-m", "spectrakit"]
    job = ["preprocess", str(folder / "in.parquet"), "--pipeline", str(folder / "snv.json")]
    out = ["--out", str(folder / "out.parquet"), "--overwrite"]  # each test rewrites it
    return [*cli, *job, "--block-size", "20", *out]


def test_preprocess_stream_shows_progress_on_a_terminal(parquet_job):
    code, shown = _on_pty(parquet_job)
    assert code == 0, shown
    assert "preprocess" in shown and "/300" in shown


@pytest.mark.parametrize("where", ["before", "after"])
def test_no_progress_flag_is_honoured(parquet_job, where):
    argv = list(parquet_job)
    argv.insert(3 if where == "before" else len(argv), "--no-progress")
    code, shown = _on_pty(argv)
    assert code == 0, shown
    assert shown == ""


def test_preprocess_off_a_terminal_writes_nothing_to_stderr(parquet_job):
    done = subprocess.run(parquet_job, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": SRC})  # fmt: skip
    assert done.returncode == 0 and done.stderr == ""
