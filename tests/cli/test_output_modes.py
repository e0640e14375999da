"""Every file and folder a command writes gets the mode the user's umask gives."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from _cli_battery import write_table

from spectrakit.cli import main


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mode & 0o777 for p in [root, *root.rglob("*")]}


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_a_bundle_and_its_weights_keep_the_umask(tmp_path, monkeypatch, mask):
    monkeypatch.chdir(tmp_path)
    write_table(tmp_path / "d.csv")
    old = os.umask(mask)
    try:
        argv = ["finetune", "--model", "pls", "--data", "d.csv", "--target", "y"]
        assert main([*argv, "--out", "model"]) == 0
    finally:
        os.umask(old)
    modes = _modes(tmp_path / "model")
    assert "model.safetensors" in modes and "ood.safetensors" in modes
    want = {name: (0o777 if (tmp_path / "model" / name).is_dir() else 0o666) & ~mask
            for name in modes}  # fmt: skip
    assert modes == want


def test_a_distributed_job_folder_keeps_the_umask(tmp_path):
    from spectrakit.distributed.jobs import _staged

    old = os.umask(0o027)
    try:
        with _staged(tmp_path / "out") as tmp:
            np.save(tmp / "a.npy", np.zeros(3))
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "out" / "a.npy").stat().st_mode & 0o777 == 0o640
