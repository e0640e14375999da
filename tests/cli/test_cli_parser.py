"""The parser built for one command is the full parser's, minus the other commands' options."""

from __future__ import annotations

import argparse

import pytest

from spectrakit.cli import _app
from spectrakit.cli._app import COMMANDS, build_parser, command_in, main


def _commands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_listed_only_help_equals_the_full_help():
    assert build_parser(()).format_help() == build_parser().format_help()


def test_help_lists_every_command_with_its_summary(capsys):
    assert main(["--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for name in COMMANDS:
        assert f"{name} {COMMANDS.metadata(name)['summary']}" in out


@pytest.mark.parametrize("name", list(COMMANDS))
def test_one_command_parser_equals_its_full_parser(name):
    alone = _commands(build_parser([name])).choices[name]
    full = _commands(build_parser()).choices[name]
    assert alone.format_help() == full.format_help()
    assert alone.description and alone.description == full.description


def test_shared_options_in_one_pass():
    """``--no-progress`` on every command, ``--overwrite`` on exactly the writing ones."""
    sub = _commands(build_parser())
    for name, command in sub.choices.items():
        options = command._option_string_actions
        assert "--no-progress" in options, name
        assert ("--overwrite" in options) == (name in _app.WRITERS), name
    assert set(_app.WRITERS) == set(COMMANDS) - {"serve", "registry", "sign"}
    pull = _commands(sub.choices["registry"]).choices["pull"]  # registry has it on pull
    assert "--overwrite" in pull._option_string_actions


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["info", "x.csv"], "info"),
        (["--debug", "--no-progress", "predict", "--model", "m"], "predict"),
        (["--", "export"], "export"),
        (["--help"], None),
        ([], None),
        (["infoo", "x.csv"], None),
        (["--version"], None),
    ],
)
def test_command_in(argv, command):
    assert command_in(argv) == command


def test_unknown_command_is_one_line_exit_2(capsys):
    assert main(["infoo", "x.csv"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'infoo'" in err[0] and "'info'" in err[0]


def test_no_command_prints_help_exit_2(capsys):
    assert main([]) == 2
    assert "info" in capsys.readouterr().out


def test_options_before_the_command_still_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("sample,1000,1001,1002\na,1,2,3\nb,2,3,4\n")
    assert main(["--no-progress", "info", "d.csv"]) == 0
    assert "2" in capsys.readouterr().out
