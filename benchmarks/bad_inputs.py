"""Run the bad-input battery of the command line and print what each case did.

Every case is a bad command line (bad numbers, ranges, paths, existing outputs, damaged
files, wrong kinds) over every command. A case is a *clear error* when it exits with 2,
prints exactly one line on standard error, shows no traceback, writes nothing and changes
no existing file.

Usage::

    python benchmarks/bad_inputs.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "cli"))

from _cli_battery import CASES, build_workspace, run_case, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every case's stderr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        start = time.perf_counter()
        root = build_workspace(Path(tmp) / "work")
        built = time.perf_counter() - start
        outcomes = [run_case(case, root) for case in CASES]
        ran = time.perf_counter() - start - built
    for o in outcomes:
        if args.verbose or not o.clear:
            flag = "ok  " if o.clear else "FAIL"
            owner = f" [{o.case.owner}]" if o.case.owner else ""
            print(f"{flag} {o.describe()}{owner}")
    counts = summary(outcomes)
    owners = sorted({o.case.owner for o in outcomes if not o.clear})
    for owner in owners:
        part = [o for o in outcomes if o.case.owner == owner]
        bad = sum(not o.clear for o in part)
        print(f"\n{owner or 'command line'}: {bad} of {len(part)} cases not clear")
    print()
    print("| figure | count |")
    print("|---|---|")
    for key, value in counts.items():
        print(f"| {key} | {value} |")
    print(f"\nworkspace built in {built:.1f} s; {len(outcomes)} cases ran in {ran:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
