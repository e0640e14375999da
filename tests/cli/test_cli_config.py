"""``--config`` precedence, ``--print-config``, and help that documents every option."""

from __future__ import annotations

import argparse

import pytest
import yaml

from spectrakit.cli import main
from spectrakit.cli._app import build_parser


def _printed(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return yaml.safe_load(capsys.readouterr().out)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("weight-decay: 0.5\nepochs: 7\nlr: 3e-3\nschedule: triangular2\n")
    return path


def _finetune(config, *flags: str) -> list[str]:
    return ["finetune", "--data", "d.csv", "--target", "y", "--out", "o", "--config",
            str(config), *flags, "--print-config"]  # fmt: skip


def test_typed_flag_beats_config_even_at_its_default(capsys, config):
    got = _printed(capsys, _finetune(config, "--weight-decay", "1e-4", "--epochs", "50"))
    assert got["weight-decay"] == 1e-4 and got["epochs"] == 50  # both equal the defaults
    assert got["lr"] == 3e-3 and got["schedule"] == "triangular2"  # from the file, typed
    abbreviated = _printed(capsys, _finetune(config, "--weight-dec", "1e-4"))
    assert abbreviated["weight-decay"] == 1e-4  # an abbreviated flag is typed too


def test_print_config_round_trips_as_config(capsys, config, tmp_path):
    first = _printed(capsys, _finetune(config, "--seed", "3"))
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(first))
    for key in ("data", "target", "out"):  # required flags are given on the command line
        first.pop(key)
    second = _printed(capsys, _finetune(again))
    assert {k: second[k] for k in first} == first


def test_pretrain_print_config(capsys):
    got = _printed(capsys, ["pretrain", "--data", "u.csv", "--out", "o", "--mask-ratio", "0.5",
                            "--print-config"])  # fmt: skip
    assert got["mask-ratio"] == 0.5 and got["mask-mode"] == "token"


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_has_help_text():
    missing = [
        f"{name} {a.option_strings[0]}"
        for name, sub in _subparsers().items()
        for a in sub._actions
        if a.option_strings and not a.help
    ]
    assert missing == []


def test_help_shows_defaults(capsys):
    code = main(["finetune", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "(default: 0.2)" in text and "(default: 0.0001)" in text and "(default: cosine)" in text
