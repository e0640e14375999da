"""The README's "Five minutes" snippet runs verbatim and gives a good model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def five_minutes_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Five minutes", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert blocks, "the Five minutes section has no python block"
    return blocks[0]


def test_five_minutes_snippet_runs_and_predicts_well(tmp_path, monkeypatch, capsys):
    pytest.importorskip("chemotools", reason="the snippet uses the built-in fermentation set")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    exec(compile(five_minutes_snippet(), "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "R2 against HPLC" in out
    assert namespace["r2"] > 0.8
    pred = namespace["pred"]
    assert {"glucose", "ood_score", "is_ood"} <= set(pred.columns)
    # the model applies the pipeline the snippet built, fitted on the standards
    steps = [name for name, _ in namespace["predictor"].pipeline.steps]
    assert steps == [name for name, _ in namespace["pipeline"].steps]
    assert (tmp_path / "runs" / "glucose-pls" / "config.json").is_file()
