"""The accuracy benchmark writes its tables into the docs itself (nothing typed by hand)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2]))
    import benchmarks.accuracy as bench

    return bench


def _run(score, pls, bias=0.1):
    return {"scores": {"PLS": {"score": pls, "bias": bias}, "auto": {"score": score, "bias": bias}},
            "auto_choice": "pls_net", "seconds": 2.0}  # fmt: skip


def test_rendered_tables_replace_only_the_generated_block(bench, tmp_path):
    runs = [_run(1.0, 2.0), _run(3.0, 4.0)]
    saved = {"nir-30": {"task": "regression", "summary": bench._summary(runs, "regression"),
                        "runs": runs, "quick": True, "threads": 1}}  # fmt: skip
    src = tmp_path / "r.json"
    src.write_text(json.dumps(saved))
    doc = tmp_path / "accuracy.md"
    doc.write_text(f"# Title\n\nintro\n\n{bench.MARK_START}\nold table\n{bench.MARK_END}\n\nend\n")
    assert bench.main(["--render", str(src), "--markdown", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Title\n\nintro\n\n") and text.endswith("\n\nend\n")
    assert "old table" not in text
    assert "### nir-30: RMSEP, mean +- SD over 2 seeds (2 s per seed)" in text
    # mean 2 +- SD 1.4; ratio to PLS is the mean of per-seed ratios (0.5, 0.75)
    assert "| auto | 2 +- 1.4 | 0.625 | +0.1 |" in text
    assert "| PLS | 3 +- 1.4 | 1.000 | +0.1 |" in text
    assert "pls_net x2" in text


def test_a_document_without_the_block_is_refused(bench, tmp_path):
    doc = tmp_path / "other.md"
    doc.write_text("no markers here\n")
    with pytest.raises(SystemExit, match="no"):
        bench.write_markdown(str(doc), ["x"], "h")
    assert doc.read_text() == "no markers here\n"


def test_seeds_run_separately_are_joined_and_labelled_runs_kept_apart(bench, tmp_path):
    first, later = [_run(1.0, 2.0), _run(3.0, 4.0)], [_run(2.0, 2.0)]
    paths = []
    for k, (runs, label) in enumerate([(first, None), (later, None), (later, "pls_net")]):
        saved = {"coffee": {"task": "regression", "summary": bench._summary(runs, "regression"),
                            "runs": runs, "quick": True, "threads": 1, "label": label}}  # fmt: skip
        paths.append(tmp_path / f"r{k}.json")
        paths[-1].write_text(json.dumps(saved))
    doc = tmp_path / "accuracy.md"
    doc.write_text(f"{bench.MARK_START}\n{bench.MARK_END}\n")
    assert bench.main(["--render", ",".join(map(str, paths)), "--markdown", str(doc)]) == 0
    text = doc.read_text()
    # seeds 1+2 and seed 3 form one table: mean 2, per-seed ratios (0.5, 0.75, 1.0)
    assert "### coffee: RMSEP, mean +- SD over 3 seeds" in text
    assert "| auto | 2 +- 1 | 0.750 | +0.1 |" in text
    assert "### coffee (pls_net): RMSEP, mean +- SD over 1 seeds" in text


def test_unknown_deep_recipe_override_is_refused(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--cases", "coffee", "--deep", "transformer"])
    assert "unknown deep recipe" in capsys.readouterr().err


def test_case_heading_gives_wall_and_cpu_seconds_per_seed(bench):
    runs = [_run(1.0, 2.0) | {"cpu_seconds": 1.0}, _run(3.0, 4.0) | {"cpu_seconds": 3.0}]
    lines = bench._table("raman", "classification", bench._summary(runs, "classification"), runs)
    assert lines[0] == "### raman: accuracy, mean +- SD over 2 seeds (2 s per seed, 2 s CPU)"
    # a saved run without CPU seconds keeps the wall figure alone
    older = [_run(1.0, 2.0), _run(3.0, 4.0) | {"cpu_seconds": 3.0}]
    heading = bench._table("raman", "classification", bench._summary(older, "classification"),
                           older)[0]  # fmt: skip
    assert heading.endswith("(2 s per seed)")


def test_a_seed_rendered_from_two_files_counts_once_the_later_run(bench, tmp_path):
    old = [_run(1.0, 2.0) | {"seed": 0}, _run(3.0, 4.0) | {"seed": 1}]
    new = [_run(2.0, 2.0) | {"seed": 1}, _run(4.0, 4.0) | {"seed": 2}]
    paths = []
    for k, runs in enumerate([old, new]):
        saved = {"raman": {"task": "regression", "summary": bench._summary(runs, "regression"),
                           "runs": runs, "quick": True, "threads": 1}}  # fmt: skip
        paths.append(tmp_path / f"r{k}.json")
        paths[-1].write_text(json.dumps(saved))
    merged = bench._merged([str(p) for p in paths])["raman"]
    assert [r["seed"] for r in merged["runs"]] == [0, 1, 2]
    # seed 1 is the later run (2 against PLS 2), not the earlier one (3 against 4)
    assert [r["scores"]["auto"]["score"] for r in merged["runs"]] == [1.0, 2.0, 4.0]
