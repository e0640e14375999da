"""Options checked at parse time, inputs before the first write, one line for any failure."""

from __future__ import annotations

import argparse

import pytest
from _cli_battery import exit_status, write_table

from spectrakit.cli import _app, main
from spectrakit.cli._types import bounded_float, bounded_int, new_folder, port, suffix_path


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_table(tmp_path / "d.csv")
    write_table(tmp_path / "other.csv", start=2000.0)
    return tmp_path


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------------- types
@pytest.mark.parametrize(
    ("kind", "text", "words"),
    [
        (bounded_int(1), "0", ">= 1"),
        (bounded_int(1), "1.5", "an integer"),
        (bounded_float(0, 1, low_open=True, high_open=True), "1", "< 1"),
        (bounded_float(0), "nan", "finite"),
        (bounded_float(0), "-inf", "finite"),
        (port, "65536", "<= 65535"),
        (suffix_path(".png"), "plot.xyz", ".png"),
        (new_folder, ".", "working folder"),
        (new_folder, "..", "working folder"),
    ],
)
def test_bad_values_are_refused_with_the_range(kind, text, words):
    with pytest.raises(argparse.ArgumentTypeError, match=words.replace(".", r"\.")):
        kind(text)


def test_good_values_pass_unchanged():
    assert bounded_int(1)("3") == 3 and port("0") == 0
    assert bounded_float(0, 1, low_open=True)("1") == 1.0
    assert suffix_path(".png", ".svg")("a/B.SVG") == "a/B.SVG"
    assert new_folder("deployed/m") == "deployed/m"


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["preprocess", "d.csv", "--out", "p.csv", "--plot", "p.xyz"], "--plot"),
        (["preprocess", "d.csv", "--out", "p.csv", "--n-plot", "-5"], "--n-plot"),
        (["export", "--model", "m", "--opset", "1"], "--opset"),
        (["serve", "--model", "m", "--port", "99999"], "--port"),
        (["serve", "--model", "m", "--max-body-mb", "-1"], "--max-body-mb"),
        (["registry", "pull", "m", "--dest", "."], "--dest"),
        (["baseline", "pls", "--data", "d.csv", "--target", "y", "--alpha", "2"], "--alpha"),
        (["explain", "--model", "m", "--data", "d.csv", "--out", "e", "--top-k", "0"], "--top-k"),
        (["benchmark", "--data", "d.csv", "--target", "y", "--models", "pls", "--lr", "0"], "--lr"),
    ],
)
def test_options_are_checked_at_parse_time(work, capsys, argv, option):
    assert exit_status(argv) == 2
    assert f"argument {option}" in _one_line(capsys)
    assert sorted(p.name for p in work.iterdir()) == ["d.csv", "other.csv"]


# ---------------------------------------------------------------------- before the first write
def test_baseline_on_a_mismatched_test_axis_writes_nothing_and_fits_nothing(work, capsys):
    argv = ["baseline", "pls", "--data", "d.csv", "--target", "y", "--test", "other.csv"]
    assert main([*argv, "--out", "res"]) == 2
    err = _one_line(capsys)
    assert "--test spectra are on another axis" in err
    assert not (work / "res").exists()


def test_benchmark_checks_every_model_name_before_any_fit(work, capsys):
    argv = ["benchmark", "--data", "d.csv", "--target", "y", "--models", "pls,nosuch,ridge"]
    assert main(argv) == 2
    err = _one_line(capsys)
    assert "unknown model name" in err and "nosuch" in err
    assert not (work / "results").exists()


def test_convert_to_a_read_only_format_names_the_writers(work, capsys):
    assert main(["convert", "d.csv", "y.spc"]) == 2
    err = _one_line(capsys)
    assert "no spc writer" in err and "parquet" in err and "csv" in err
    assert not (work / "y.spc").exists()


def test_info_counts_nan_instead_of_refusing(work, capsys):
    (work / "nan.csv").write_text("sample,1000,1001,1002\na,1,2,3\nb,1,nan,3\nc,1,,3\n")
    assert main(["info", "nan.csv"]) == 0
    assert "2 spectra contain NaN" in capsys.readouterr().out


def test_info_tells_how_to_give_an_unrecorded_axis_unit(work, capsys):
    (work / "nounit.csv").write_text("sample,1000,1001,1002\na,1,2,3\nb,1,2,4\n")
    assert main(["info", "nounit.csv"]) == 0
    assert "records no axis unit: pass --unit" in capsys.readouterr().out
    assert main(["info", "nounit.csv", "--unit", "nm"]) == 0
    assert "records no axis unit" not in capsys.readouterr().out


def test_evaluate_refuses_a_sheet_for_a_regression_before_writing(work, capsys):
    argv = ["finetune", "--model", "pls", "--data", "d.csv", "--target", "y", "--ood", "none"]
    assert main([*argv, "--out", "model"]) == 0
    capsys.readouterr()
    argv = ["evaluate", "--model", "model", "--data", "d.csv", "--out", "m.json"]
    assert main([*argv, "--sheet", "sheet"]) == 2
    assert "result sheet is drawn for classifiers" in _one_line(capsys)
    assert not (work / "m.json").exists() and not (work / "sheet").exists()


# ---------------------------------------------------------------------- finetune targets
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--target", "flat"], "is constant"),
        (["--target", "one", "--task", "classification"], "single class"),
        (["--target", "label", "--task", "regression"], "is not numeric"),
        (["--model", "pls", "--target", "flat"], "is constant"),
        (["--model", "plsda", "--target", "one"], "single class"),
    ],
)
def test_finetune_refuses_a_target_that_teaches_nothing(work, capsys, args, words):
    assert main(["finetune", "--data", "d.csv", "--out", "ft", *args]) == 2
    assert words in _one_line(capsys)
    assert sorted(p.name for p in work.iterdir()) == ["d.csv", "other.csv"]


def test_finetune_notes_a_weak_fit_and_what_to_try(work, capsys):
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(work / "d.csv")
    frame.insert(0, "noise", np.random.default_rng(7).normal(size=len(frame)))
    frame.to_csv(work / "n.csv", index=False)
    argv = ["finetune", "--model", "pls", "--data", "n.csv", "--ood", "none"]
    assert main([*argv, "--target", "noise", "--out", "weak"]) == 0
    err = capsys.readouterr().err
    assert "note: the fit is weak (cv_r2 " in err and "--model auto" in err, err
    assert main([*argv, "--target", "y", "--out", "strong"]) == 0  # R2 near 1: no note
    assert "the fit is weak" not in capsys.readouterr().err


def test_weak_classification_is_judged_against_chance():
    from spectrakit.cli.finetune import weak_fit_hint

    assert weak_fit_hint({"cv_accuracy": 0.6}, ["a", "b"]) is not None  # < 0.75
    assert weak_fit_hint({"cv_accuracy": 0.6}, list("abcdefghij")) is None  # > 0.55
    assert weak_fit_hint({"val_r2_fat": 0.2, "val_r2_water": 0.9}, None).count("val_r2") == 1


# ---------------------------------------------------------------------- last resort
def _broken_command(monkeypatch, exc: BaseException) -> None:
    import spectrakit.cli.info as info

    def boom(args):
        raise exc

    monkeypatch.setattr(info, "run", boom)
    original = info.add_parser

    def add_parser(sub):
        original(sub)
        sub.choices["info"].set_defaults(func=boom)

    monkeypatch.setattr(info, "add_parser", add_parser)


def test_an_unexpected_exception_gives_one_line_and_exit_1(work, capsys, monkeypatch):
    monkeypatch.delenv("SPECTRAKIT_DEBUG", raising=False)
    _broken_command(monkeypatch, KeyError("axis"))
    assert main(["info", "d.csv"]) == _app.EXIT_INTERNAL
    err = _one_line(capsys)
    assert "internal error: KeyError: 'axis'" in err and "report" in err and "--debug" in err


def test_debug_shows_the_traceback(work, monkeypatch):
    _broken_command(monkeypatch, KeyError("axis"))
    with pytest.raises(KeyError):
        main(["--debug", "info", "d.csv"])
    monkeypatch.setenv("SPECTRAKIT_DEBUG", "1")
    with pytest.raises(KeyError):
        main(["info", "d.csv"])


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "unreadable input"),
        (PermissionError(13, "Permission denied", "out.csv"), "Permission denied: out.csv"),
        (__import__("json").JSONDecodeError("Expecting value", "{", 1), "JSONDecodeError"),
        (__import__("pickle").UnpicklingError("invalid load key"), "UnpicklingError"),
    ],
)
def test_unreadable_input_is_bad_input_not_a_bug(work, capsys, monkeypatch, exc, words):
    monkeypatch.delenv("SPECTRAKIT_DEBUG", raising=False)
    _broken_command(monkeypatch, exc)
    assert main(["info", "d.csv"]) == 2
    assert words in _one_line(capsys)


def test_overwrite_is_added_once_to_every_writing_command():
    from spectrakit.cli._output import add_overwrite_option

    parser = _app.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in _app.WRITERS:
        add_overwrite_option(sub.choices[name])  # a second time: no conflict
        action = sub.choices[name]._option_string_actions["--overwrite"]
        assert action.default is False and action.const is True
