"""Peak memory and time of reading each hostile file, this tree against another source tree.

Builds the attack files of ``tests/_io_attacks.py`` and reads each in a fresh interpreter
(peak resident memory from Linux VmHWM, wall time, killed after --timeout seconds), once
with this tree's sources and once with the peer's (``--peer-src``, e.g. an older checkout's
``src``). Usage: python benchmarks/read_limits.py --peer-src ../old/src [--timeout 40]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _io_attacks import REFUSED

_CHILD = """
import json, sys
import spectrakit as sk
try:
    sk.read(sys.argv[1])
    outcome = "read"
except Exception as exc:
    outcome = type(exc).__name__
with open("/proc/self/status") as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM"))
print(json.dumps({"peak_mb": peak / 1024, "outcome": outcome}))
"""


def measure(path: Path, src: str, timeout: float) -> tuple[str, str, str]:
    """Peak MB, seconds and outcome of reading ``path`` with the sources in ``src``."""
    env = {**os.environ, "PYTHONPATH": src}
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "-", f">{timeout:.0f}", "killed"
    took = time.perf_counter() - start
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return "-", f"{took:.1f}", f"crashed ({done.returncode})"
    return f"{report['peak_mb']:.0f}", f"{took:.1f}", report["outcome"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-src", required=True, help="source tree to compare with")
    parser.add_argument("--timeout", type=float, default=40.0)
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parents[1] / "src")
    print("| file | size | peer MB | peer s | peer outcome | MB | s | outcome |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (file_name, build) in sorted(REFUSED.items()):
            path = build(Path(tmp) / file_name)
            size = path.stat().st_size
            peer = measure(path, args.peer_src, args.timeout)
            ours = measure(path, here, args.timeout)
            print(f"| {name} | {size / 1024:.1f} KB | {' | '.join(peer)} | {' | '.join(ours)} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
