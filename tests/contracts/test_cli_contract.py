"""Every registered command: ``--help`` exits 0, and one bad input gives one line and exit 2.

Parametrised over :data:`spectrakit.cli._app.COMMANDS`; a new command needs an entry in
``BAD_INPUT`` (a command line whose input is wrong), else
:func:`test_bad_input_one_line_exit_2` fails for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spectrakit.cli import main
from spectrakit.cli._app import COMMANDS

RAGGED = "bad.csv"  # a table whose last row lost a value
NOT_A_BUNDLE = "notabundle"  # a folder without config.json

#: command -> a command line whose input is bad (files made by the ``workdir`` fixture).
BAD_INPUT: dict[str, list[str]] = {
    "info": [RAGGED],
    "convert": [RAGGED, "out.csv"],
    "preprocess": [RAGGED, "--out", "out.csv"],
    "models": ["no_such_model*"],
    "pretrain": ["--data", RAGGED, "--out", "enc"],
    "finetune": ["--data", RAGGED, "--target", "y", "--out", "run"],
    "predict": ["--model", NOT_A_BUNDLE, "--data", "good.csv"],
    "evaluate": ["--model", NOT_A_BUNDLE, "--data", "good.csv"],
    "explain": ["--model", NOT_A_BUNDLE, "--data", "good.csv", "--out", "ex"],
    "export": ["--model", NOT_A_BUNDLE],
    "serve": ["--model", NOT_A_BUNDLE],
    "registry": ["--root", "store", "pull", "no-such-model", "--dest", "pulled"],
    "baseline": ["pls", "--data", RAGGED, "--target", "y"],
    "benchmark": ["--models", "pls", "--data", RAGGED, "--target", "y"],
    "demo": ["--out", "a_file"],  # an output folder that is a file
    "sign": ["no_such_bundle", "--key", "k"],
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / RAGGED).write_text("sample,y,1000,1001,1002\na,1,1,2,3\nb,2,1,2\n")
    (tmp_path / "good.csv").write_text("sample,y,1000,1001,1002\na,1,1,2,3\nb,2,1,2,4\n")
    (tmp_path / NOT_A_BUNDLE).mkdir()
    (tmp_path / "a_file").write_text("not a folder\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_exits_0(command, capsys):
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: spectrakit {command}")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_input_one_line_exit_2(command, workdir, capsys):
    assert command in BAD_INPUT, f"add a bad command line for {command!r} to BAD_INPUT"
    before = sorted(p.name for p in workdir.iterdir())
    code = main([command, *BAD_INPUT[command]])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"spectrakit {command}: error: "), lines[0]
    assert "for usage" not in lines[0], "the input is refused, not the command line"
    assert sorted(p.name for p in workdir.iterdir()) == before  # no partial output


def test_explain_method_choices_are_the_registry():
    from spectrakit.cli.explain import METHODS as CHOICES
    from spectrakit.explain import list_methods

    assert sorted(CHOICES) == list_methods()
