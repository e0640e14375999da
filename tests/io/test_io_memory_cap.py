"""A file under 1 MB never pushes the reading process over 200 MB peak (any format).

Each read runs in a fresh interpreter that reports its peak resident memory (Linux VmHWM);
importing spectrakit with every reader takes ~160 MB of it. The HDF5 worker interpreter
is bounded separately (address-space limit, see ``spectrakit.io._worker``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _io_attacks import REFUSED

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")

_CAP_MB = 200
_CHILD = """
import json, sys
import spectrakit as sk
import spectrakit.io.formats
from spectrakit.core.errors import SpectraError
from spectrakit.io import ReadLimits
try:
    sk.read(sys.argv[1], limits=ReadLimits(timeout_s=5))
    outcome = "read"
except SpectraError as exc:
    outcome = "refused"
# VmHWM: peak resident memory of this interpreter since exec (ru_maxrss would include the
# forking parent's memory before exec)
with open("/proc/self/status") as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
print(json.dumps({"peak_mb": peak / 1024, "outcome": outcome}))
"""


def _wide_csv(path: Path) -> Path:
    """~0.9 MB CSV with one spectrum of 90,000 points (the widest plain text table)."""
    n = 90_000
    header = ",".join(f"{400 + i * 0.01:.2f}" for i in range(n))
    path.write_text(header + "\n" + ",".join(["1"] * n) + "\n")
    return path


def _long_text(path: Path) -> Path:
    x = np.arange(60_000)
    path.write_text("".join(f"{a},{a % 7}\n" for a in x))
    return path


def _dig4bio(path: Path) -> Path:
    path.mkdir()
    header = ",".join(f"{400 + i}" for i in range(900)) + ",glucose"
    rows = "\n".join(",".join(["0.5"] * 900) + ",1.0" for _ in range(200))
    (path / "kaiser.csv").write_text(header + "\n" + rows + "\n")
    return path


def _npy(path: Path) -> Path:
    np.save(path, np.ones((120, 1000)))
    return path


_FILES = {
    **REFUSED,
    "csv-wide": ("w.csv", _wide_csv),
    "long-60k-lines": ("l.xy", _long_text),
    "dig4bio-folder": ("d4b", _dig4bio),
    "npy-1mb": ("a.npy", _npy),
}


@pytest.mark.parametrize("name", sorted(_FILES))
def test_small_file_stays_under_the_memory_cap(tmp_path, name):
    file_name, build = _FILES[name]
    path = build(tmp_path / file_name)
    size = sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size
    assert size < 1_000_000
    src = str(Path(__file__).resolve().parents[2] / "src")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": src},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["peak_mb"] < _CAP_MB, report
    assert report["outcome"] == ("refused" if name in REFUSED else "read")
