"""No command destroys existing data: outputs are claimed before any work."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from _cli_battery import exit_status, write_table

from spectrakit.cli import main
from spectrakit.core import atomic


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "/"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_table(tmp_path / "d.csv")
    (tmp_path / "afile.txt").write_text("precious")
    user = tmp_path / "userdir"
    user.mkdir()
    (user / "precious.txt").write_text("precious")
    return tmp_path


def _refused(capsys, argv: list[str], root: Path, name: str) -> str:
    before = _tree(root)
    assert exit_status(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert name in err and ("already exists" in err or "is a folder" in err), err
    assert _tree(root) == before
    return err


FILE_OUTPUTS = {
    "convert": ["convert", "d.csv", "{}"],
    "preprocess": ["preprocess", "d.csv", "--pipeline", "snv", "--out", "{}"],
    "preprocess --plot": ["preprocess", "d.csv", "--out", "new.csv", "--plot", "{}"],
    "evaluate --out": ["evaluate", "--model", "nomodel", "--data", "d.csv", "--out", "{}"],
    "export --out": ["export", "--model", "nomodel", "--format", "zip", "--out", "{}"],
    "export --out onnx": ["export", "--model", "nomodel", "--out", "{}"],
    "predict --out": ["predict", "--model", "nomodel", "--data", "d.csv", "--out", "{}"],
}
DIR_OUTPUTS = {
    "finetune --out": ["finetune", "--data", "d.csv", "--target", "y", "--out", "{}"],
    "pretrain --out": ["pretrain", "--data", "d.csv", "--out", "{}"],
    "explain --out": ["explain", "--model", "nomodel", "--data", "d.csv", "--out", "{}"],
    "registry pull --dest": ["registry", "--root", "reg", "pull", "m", "--dest", "{}"],
    "baseline --out": ["baseline", "pls", "--data", "d.csv", "--target", "y", "--out", "{}"],
    "baseline --save": ["baseline", "pls", "--data", "d.csv", "--target", "y", "--save", "{}"],
    "benchmark --out": [
        "benchmark",
        "--data",
        "d.csv",
        "--target",
        "y",
        "--models",
        "pls",
        "--out",
        "{}",
    ],
    "evaluate --plots": ["evaluate", "--model", "nomodel", "--data", "d.csv", "--plots", "{}"],
    "demo --out": ["demo", "--out", "{}"],
}


def _fill(argv: list[str], path: str) -> list[str]:
    return [a.replace("{}", path) for a in argv]


@pytest.mark.parametrize("name", sorted(FILE_OUTPUTS))
def test_an_existing_file_output_is_refused(work, capsys, name):
    for ext in (".csv", ".png", ".zip", ".onnx"):
        (work / f"old{ext}").write_text("precious")
    ext = {"preprocess --plot": ".png", "export --out": ".zip", "export --out onnx": ".onnx"}
    ext = ext.get(name, ".csv")
    _refused(capsys, _fill(FILE_OUTPUTS[name], f"old{ext}"), work, f"old{ext}")
    (work / f"folder{ext}").mkdir()
    (work / f"folder{ext}" / "precious.txt").write_text("precious")
    _refused(capsys, _fill(FILE_OUTPUTS[name], f"folder{ext}"), work, f"folder{ext}")


@pytest.mark.parametrize(("fmt", "out"), [("zip", "m.onnx"), ("onnx", "m.zip")])
def test_an_export_output_must_fit_its_format(work, capsys, fmt, out):
    before = _tree(work)
    assert exit_status(["export", "--model", "nomodel", "--format", fmt, "--out", out]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"--format {fmt}" in err, err
    assert _tree(work) == before


@pytest.mark.parametrize("name", sorted(DIR_OUTPUTS))
def test_a_user_folder_or_a_file_is_refused_as_an_output_folder(work, capsys, name):
    err = _refused(capsys, _fill(DIR_OUTPUTS[name], "userdir"), work, "userdir")
    assert "--overwrite" in err
    _refused(capsys, _fill(DIR_OUTPUTS[name], "afile.txt"), work, "afile.txt")


def test_finetune_replaces_its_own_bundle_and_overwrite_replaces_a_folder(work, capsys):
    argv = ["finetune", "--model", "pls", "--data", "d.csv", "--target", "y", "--ood", "none"]
    assert main([*argv, "--out", "model"]) == 0
    first = _tree(work / "model")
    assert main([*argv, "--out", "model", "--seed", "3"]) == 0  # a bundle is replaced
    assert set(_tree(work / "model")) == set(first)
    assert not [p for p in work.iterdir() if atomic.TMP_TAG in p.name or ".old." in p.name]
    assert main([*argv, "--out", "userdir", "--overwrite"]) == 0
    assert not (work / "userdir" / "precious.txt").exists()
    assert (work / "userdir" / "config.json").is_file()
    capsys.readouterr()


def test_results_folders_are_written_again_but_not_over_added_files(work, capsys):
    argv = ["baseline", "pls", "--data", "d.csv", "--target", "y", "--cv", "kfold:3"]
    assert main([*argv, "--out", "res"]) == 0
    assert {"metrics.json", "cv_predictions.csv", "report.html"} <= {
        p.name for p in (work / "res").iterdir()
    }
    assert main([*argv, "--out", "res"]) == 0  # our own earlier output
    (work / "res" / "notes.txt").write_text("mine")
    _refused(capsys, [*argv, "--out", "res"], work, "res")
    capsys.readouterr()


def test_two_outputs_of_one_command_may_not_share_a_path(work, capsys):
    argv = ["evaluate", "--model", "m", "--data", "d.csv", "--out", "e", "--plots", "./e"]
    assert main(argv) == 2
    assert "same path" in capsys.readouterr().err
    argv = ["baseline", "pls", "--data", "d.csv", "--target", "y", "--out", "o", "--save", "o"]
    assert main(argv) == 2
    assert "same path" in capsys.readouterr().err


def test_registry_pull_into_the_working_folder_is_refused(work, capsys):
    before = _tree(work)
    assert exit_status(["registry", "--root", "reg", "pull", "m", "--dest", "."]) == 2
    assert "working folder" in capsys.readouterr().err
    assert _tree(work) == before


def test_written_outputs_are_readable_by_others(work, capsys):
    import os

    old = os.umask(0o022)
    try:
        assert main(["convert", "d.csv", "out.csv"]) == 0
        argv = ["finetune", "--model", "pls", "--data", "d.csv", "--target", "y", "--ood", "none"]
        assert main([*argv, "--out", "model"]) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    assert (work / "out.csv").stat().st_mode & 0o777 == 0o644
    assert (work / "model").stat().st_mode & 0o777 == 0o755
    config = json.loads((work / "model" / "config.json").read_text())
    assert config["format"] == "spectrakit-bundle"


def test_a_failed_plot_write_leaves_no_metrics_file(work, capsys, monkeypatch):
    argv = ["finetune", "--model", "pls", "--data", "d.csv", "--target", "y", "--ood", "none"]
    assert main([*argv, "--out", "model"]) == 0
    from spectrakit.cli import evaluate as evaluate_cli

    def full_disk(path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(evaluate_cli, "atomic_path", full_disk)
    argv = ["evaluate", "--model", "model", "--data", "d.csv", "--target", "y"]
    status = exit_status([*argv, "--out", "metrics.json", "--plots", "plots"])
    err = capsys.readouterr().err.strip()
    assert status != 0 and len(err.splitlines()) == 1, err
    assert "No space left" in err
    assert not (work / "metrics.json").exists()
