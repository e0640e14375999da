"""The SpectraTorch workflow: export at any accepted length, a result sheet per model, and
the whole recipe recorded in the bundle (and optionally in its folder name)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.models import create, list_models
from spectrakit.preprocessing.channels import ChannelPreprocessor

ort = pytest.importorskip("onnxruntime")
from spectrakit.export.onnx import export_onnx, verify_lengths  # noqa: E402


def _minimum(name: str) -> tuple[torch.nn.Module, int]:
    probe = create(name, input_length=512)
    patch = getattr(probe, "patch_size", None) or 1
    low = -(-max(probe.min_length, patch) // patch) * patch
    return probe, low


@pytest.mark.parametrize("name", list_models("*"))
def test_every_family_accepts_every_length_its_export_is_verified_at(name):
    probe, low = _minimum(name)
    if not probe.variable_length:
        pytest.skip("fixed-length model: verified at its one length")
    model = create(name, input_length=low, n_outputs=2).eval()
    lengths = verify_lengths(model, low, None)
    assert min(lengths) == low  # the half length is never below the minimum
    with torch.no_grad():
        for n in lengths:
            axis = torch.linspace(400.0, 1800.0, n) if probe.axis_aware else None
            assert model(torch.zeros(1, 1, n), axis=axis).shape == (1, 2)


@pytest.mark.parametrize("name", ["cnn1d", "vgg1d_tiny"])
def test_export_at_the_family_minimum_length(tmp_path, name):
    _, low = _minimum(name)
    axis = np.linspace(400.0, 1800.0, low)
    spectra = sk.Spectra(np.random.default_rng(0).normal(size=(4, low)), axis)
    pre = ChannelPreprocessor([None]).fit(spectra)
    bundle = save(
        tmp_path / name,
        model=create(name, input_length=low, n_outputs=1).eval(),
        task="regression",
        axis=spectra.axis,
        model_axis=pre.output_axis_,
        targets=["c"],
        output={"task": "regression", "n_targets": 1, "target_mean": [0.0], "target_std": [1.0]},
        preprocessor=pre,
    )
    record = export_onnx(bundle, batch_sizes=(1,))  # cnn1d: 256 points, its minimum
    assert all(r["ok"] for r in record["parity"])
    assert min(r["length"] for r in record["parity"]) == low
    assert json.loads((bundle / "export.json").read_text())["parity"] == record["parity"]


FAST = ["--no-progress", "--threads", "1", "--patience", "0"]
TEMPLATE = "{model} y={targets} c={channels} t={transforms} {split} s={seed} eps={label_smoothing}"


def _classes(path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    axis = np.linspace(400.0, 1800.0, 128)
    label = rng.integers(0, 3, n)
    centre = np.array([700.0, 1100.0, 1500.0])[label]
    values = np.exp(-0.5 * ((axis[None] - centre[:, None]) / 40.0) ** 2)
    values += rng.normal(0, 0.05, values.shape)
    names = np.array(["OK", "VR11", "CROCHET"])[label]
    sk.write(sk.Spectra(values, axis, meta={"type": names, "sample": np.arange(n)}), path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from spectrakit.cli import main

    root = tmp_path_factory.mktemp("spectratorch")
    _classes(root / "train.csv", 60, 0)
    _classes(root / "test.csv", 30, 1)
    augment = '[{"name": "Shift", "params": {"max_shift": 2}}]'
    (root / "snv.yaml").write_text("steps:\n  - SNV\n")
    args = ["finetune", "--data", str(root / "train.csv"), "--target", "type"]
    args += ["--model", "cnn1d_tiny", "--out", str(root / "models"), "--split", "1/4"]
    args += ["--seed", "42", "--label-smoothing", "0.1", "--augment", augment]
    args += [
        "--pipeline",
        str(root / "snv.yaml"),
        "--name-template",
        TEMPLATE,
        "--epochs",
        "3",
        *FAST,
    ]
    assert main(args) == 0
    return root


def test_recipe_is_recorded_and_names_the_folder(trained):
    (bundle,) = (p for p in (trained / "models").iterdir() if p.suffix != ".run")
    assert bundle.name == "cnn1d_tiny y=('type',) c=('snv',) t=('SNV', 'da') 1-4 s=42 eps=0.1"
    facts = json.loads((bundle / "config.json").read_text())["training"]["recipe"]
    assert facts["split"] == "1-4" and facts["seed"] == 42 and facts["label_smoothing"] == 0.1
    assert "Shift" in json.dumps(facts["augmentation"])
    config = json.loads((bundle / "config.json").read_text())
    assert config["training"]["n_val"] == 15  # fold 1 of 4 of the 60 spectra


def test_split_names_one_fold_exactly():
    from spectrakit.training.recipe import split_fold

    spectra = sk.Spectra(np.zeros((20, 4)), np.arange(4.0), meta={"i": np.arange(20)})
    folds = [split_fold(spectra, (k, 4), seed=3)[1].meta["i"].tolist() for k in range(4)]
    assert sorted(i for f in folds for i in f) == list(range(20))  # a partition
    assert folds[1] == split_fold(spectra, (1, 4), seed=3)[1].meta["i"].tolist()
    assert folds[1] != split_fold(spectra, (1, 4), seed=4)[1].meta["i"].tolist()


def test_evaluate_writes_the_result_sheet(trained, tmp_path):
    from PIL import Image

    from spectrakit.cli import main

    (bundle,) = (p for p in (trained / "models").iterdir() if p.suffix != ".run")
    sheet = tmp_path / "sheet"
    args = ["evaluate", "--model", str(bundle), "--data", str(trained / "test.csv")]
    assert (
        main([*args, "--target", "type", "--out", str(tmp_path / "m.json"), "--sheet", str(sheet)])
        == 0
    )
    with Image.open(sheet / "result_sheet.png") as img:
        assert img.size == (1500, 900)
    html = (sheet / "result_sheet.html").read_text(encoding="utf-8")
    for part in ("data:image/png;base64,", "training recipe", "1-4", "roc_auc", "calibration"):
        assert part in html
    metrics = json.loads((tmp_path / "m.json").read_text())["type"]
    assert 0.0 <= metrics["accuracy"] <= 1.0


def test_result_sheet_numbers_match_scikit_learn():
    from sklearn.metrics import roc_auc_score

    from spectrakit.evaluation.result_sheet import result_sheet_png

    rng = np.random.default_rng(0)
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
    proba = rng.dirichlet(np.ones(3), 60)
    proba[np.arange(60), np.searchsorted(["a", "b", "c"], y)] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    png, numbers = result_sheet_png(y, proba, ["a", "b", "c"])
    assert png[:4] == b"\x89PNG"
    for j, c in enumerate("abc"):
        assert numbers["curves"][c]["auc"] == pytest.approx(roc_auc_score(y == c, proba[:, j]))
    assert sum(b["n"] for b in numbers["calibration"]) == 60
