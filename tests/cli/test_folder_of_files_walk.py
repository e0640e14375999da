"""A new user's folder: one exported spectrum per file, and a table of what each one is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _cli_battery import exit_status

from spectrakit.cli import main


@pytest.fixture
def run_folder(tmp_path, monkeypatch) -> dict[str, float]:
    """24 Raman exports with a column-name comment, and labels.csv keyed by file stem."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    folder = Path("run")
    folder.mkdir()
    x = np.linspace(200.0, 1800.0, 201)
    truth, rows = {}, ["file,glucose,batch"]
    for i in range(24):
        c = rng.uniform(1.0, 10.0)
        y = c * np.exp(-0.5 * ((x - 1000.0) / 30.0) ** 2)
        y += rng.uniform(1, 3) * np.exp(-0.5 * ((x - 600.0) / 80.0) ** 2)
        y += rng.normal(0, 0.01, x.size)
        lines = [f"{a:g}\t{b:.6g}" for a, b in zip(x, y, strict=True)]
        (folder / f"spec_{i:02d}.txt").write_text(
            "# Raman shift (cm-1)\tIntensity\n" + "\n".join(lines)
        )
        rows.append(f"spec_{i:02d},{c:.4f},{i % 3}")
        truth[f"spec_{i:02d}.txt"] = round(c, 4)
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return truth


def test_info_finetune_and_predict_on_a_folder_of_files(run_folder, capsys):
    assert main(["info", "run"]) == 0
    out = capsys.readouterr().out
    assert "spectra     24" in out and "cm-1 (raman_shift)" in out, out
    assert "file (24), glucose [" in out and "batch [0..2]" in out, out
    argv = ["finetune", "--model", "pls", "--data", "run", "--target", "glucose"]
    assert main([*argv, "--groups", "batch", "--out", "model"]) == 0
    assert main(["predict", "--model", "model", "--data", "run", "--out", "p.csv"]) == 0
    pred = pd.read_csv("p.csv")
    assert pred["file"].tolist() == sorted(run_folder)
    reference = pred["file"].map(run_folder).to_numpy()
    np.testing.assert_allclose(pred["glucose_reference"], reference)
    assert np.sqrt(np.mean((pred["glucose"] - reference) ** 2)) < 0.05


def test_a_table_that_names_a_file_twice_is_one_clear_line(run_folder, capsys):
    with open("run/labels.csv", "a") as fh:
        fh.write("spec_00.txt,5.0,1\n")
    assert exit_status(["info", "run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "names a spectrum file twice" in err, err
