"""The command line in a shell pipeline: a reader that goes away is no error."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import spectrakit as sk


def test_a_closed_pipe_ends_the_command_quietly(tmp_path):
    path = tmp_path / "x.csv"
    sk.io.write(sk.Spectra(np.random.default_rng(0).random((5, 40)), np.arange(40.0)), path)
    cmd = [sys.executable, "-m", "spectrakit", "info", str(path)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # as `spectrakit info x.csv | head -0` does, before anything is written
    err = child.stderr.read().decode()
    child.wait(timeout=120)
    assert child.returncode == 141  # what a shell shows for a command stopped by SIGPIPE
    assert err == ""  # no "error: Broken pipe", no "Exception ignored" at exit
