"""The bad-input battery: every bad command line gives one clear line and touches nothing.

Each case (see ``_cli_battery.py``) must exit with 2, print exactly one line on standard
error, show no traceback, write nothing and leave every existing file unchanged.
"""

from __future__ import annotations

import pytest
from _cli_battery import (
    CASES,
    TRAINING_OPTIONS,
    Outcome,
    build_workspace,
    run_case,
    summary,
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return build_workspace(tmp_path_factory.mktemp("battery") / "work")


def test_the_battery_is_large_and_covers_every_command():
    commands = {case.argv[0] for case in CASES}
    assert len(CASES) >= 150
    assert commands >= {
        *("info", "convert", "preprocess", "finetune", "pretrain", "predict", "evaluate"),
        *("explain", "export", "serve", "registry", "baseline", "benchmark", "demo", "models"),
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gives_one_clear_line(workspace, case):
    if case.owner == TRAINING_OPTIONS:  # each would start a training run: the script runs them
        pytest.skip("training options are run by benchmarks/bad_inputs.py")
    outcome = run_case(case, workspace)
    if case.owner and not outcome.clear:  # passes as soon as its owner refuses it
        pytest.xfail(f"to be refused by the {case.owner}: {outcome.describe()[:200]}")
    assert outcome.clear, outcome.describe()


def test_summary_counts_each_failure_kind():
    case = CASES[0]
    outcomes = [
        Outcome(case, 2, "spectrakit info: error: one line\n"),
        Outcome(case, 1, "spectrakit info: internal error: KeyError\n"),
        Outcome(case, None, "Traceback (most recent call last):\n  ...\n"),
        Outcome(case, 0, ""),
        Outcome(case, 2, "error\n", changed=["afile.txt"]),
        Outcome(case, 2, "error\n", created=["out.csv"]),
        Outcome(case, 2, "first line\nsecond line\n"),
    ]
    assert summary(outcomes) == {
        "tried": 7,
        "clear errors": 1,
        "tracebacks": 1,
        "internal errors": 1,
        "silent wrong": 1,
        "data lost": 1,
        "partial outputs": 1,
    }
