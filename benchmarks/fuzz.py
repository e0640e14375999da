"""Long fuzzing of every reader: executions per format and findings (non-spectrakit errors).

Mutates one valid file per format (byte flips, overwrites, inserted and deleted runs,
truncation, header edits; the operators of ``tests/test_io_fuzz.py``) for a time budget per
format, and prints a table of executions, clean reads, SpectraErrors and findings: any other
exception, or a read past the hang limit. Usage:
python benchmarks/fuzz.py [--seconds 30] [--formats npz,parquet] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import spectrakit as sk
from _io_attacks import mutate, seed_files
from spectrakit.core.errors import SpectraError
from spectrakit.io import ReadLimits

_FORMAT = {"jcamp-asdf": "jcamp"}


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang


def _one(path: Path, fmt: str) -> str:
    signal.alarm(20)
    try:
        sk.read_blocks(path, format=_FORMAT.get(fmt, fmt), limits=ReadLimits(timeout_s=5))
        return "read"
    except SpectraError:
        return "error"
    except _Hang:
        return "finding: hang > 20 s"
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return f"finding: {type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}"
    finally:
        signal.alarm(0)


def fuzz(fmt: str, name: str, good: bytes, folder: Path, seconds: float, rng) -> dict:
    """Mutate ``good`` for ``seconds``; counts of outcomes and distinct findings."""
    counts = {"execs": 0, "read": 0, "error": 0}
    findings: dict[str, int] = {}
    path = folder / ("m_" + name)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        ops = [(rng.randrange(6), rng.randrange(1 << 20), rng.randrange(1 << 16))
               for _ in range(rng.randint(1, 6))]  # fmt: skip
        path.write_bytes(mutate(good, ops))
        outcome = _one(path, fmt)
        counts["execs"] += 1
        if outcome.startswith("finding"):
            findings[outcome] = findings.get(outcome, 0) + 1
            (folder / f"finding_{fmt}_{len(findings)}_{name}").write_bytes(path.read_bytes())
        else:
            counts[outcome] += 1
    return {**counts, "findings": findings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="time per format")
    parser.add_argument("--formats", default="", help="comma-separated subset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="folder for the files that gave findings")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        seeds = seed_files(folder)
        wanted = [f for f in args.formats.split(",") if f] or sorted(seeds)
        print("| format | executions | exec/s | read | SpectraError | findings |")
        print("|---|---|---|---|---|---|")
        total = 0
        for fmt in wanted:
            name, good = seeds[fmt]
            r = fuzz(fmt, name, good, folder, args.seconds, rng)
            total += r["execs"]
            found = "; ".join(f"{k} (x{v})" for k, v in r["findings"].items()) or "none"
            print(f"| {fmt} | {r['execs']} | {r['execs'] / args.seconds:.0f} | {r['read']} "
                  f"| {r['error']} | {found} |", flush=True)  # fmt: skip
        print(f"total executions: {total}")


if __name__ == "__main__":
    main()
