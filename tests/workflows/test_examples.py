"""Every script in examples/ runs with --quick and writes what its docstring promises."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.examples
pytest.importorskip("chemotools", reason="the examples use the built-in data sets")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OUTPUTS = {
    "01_read_inspect_preprocess": [
        *(f"fermentation.{ext}" for ext in ("csv", "parquet", "h5", "jdx", "npz", "mat")),
        "quality.json",
        "pipeline.yaml",
        "preprocessed.csv",
        "before_after.png",
    ],
    "02_pls_vs_deep_fermentation": [
        "report.html",
        "predictions.csv",
        "scores.json",
        "cnn_bundle/config.json",
        "cnn_bundle/model.safetensors",
    ],
    "03_pretrain_finetune_multi_instrument": [
        "pretrained/config.json",
        "finetuned/model.safetensors",
        "scratch/model.safetensors",
        "results.csv",
        "comparison.png",
    ],
    "04_calibration_transfer": ["results.csv", "transfer.png"],
    "05_explain_and_ood": [
        "classifier/ood.json",
        "ig.png",
        "gradcam.png",
        "top_bands.csv",
        "predictions.csv",
    ],
    "06_export_and_serve": [
        "glucose_model/model.onnx",
        "onnx_predictions.csv",
        "http_exchange.json",
    ],
    "07_ddp_two_process_cpu": ["model/config.json", "model/model.safetensors", "ddp.json"],
    "seed_specbert": [
        "challenge/96_samples.csv",
        "pretrained/config.json",
        "pretrained/card.md",
        "finetuned/model.safetensors",
        "results.json",
    ],
    "seed_spectratorch": [
        "sheet/result_sheet.png",
        "sheet/result_sheet.html",
        "metrics.json",
        "channels/both/config.json",
        "channels/accuracy.json",
    ],
    "seed_peakmixer": [
        "peakmixer/config.json",
        "cnnpeak/model.safetensors",
        "channel_sets.csv",
        "channel_sets.png",
    ],
    "seed_pychemauth": [
        "cnn/ood.json",
        "predictions.csv",
        "figures.json",
    ],
    "seed_spectrafm": [
        "model/model.onnx",
        "results.csv",
        "predictions_beyond_range.csv",
    ],
}


def test_every_example_is_covered():
    scripts = [*EXAMPLES.glob("[0-9]*.py"), *EXAMPLES.glob("seed_*.py")]
    assert sorted(p.stem for p in scripts) == sorted(OUTPUTS)


@pytest.fixture(scope="module", params=sorted(OUTPUTS))
def ran(request, tmp_path_factory) -> tuple[str, Path, str]:
    name = request.param
    out = tmp_path_factory.mktemp(name[:2]) / "out"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "--out", str(out)],
        cwd=out.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return name, out, proc.stdout


def test_example_runs_and_writes_its_outputs(ran):
    name, out, stdout = ran
    missing = [f for f in OUTPUTS[name] if not (out / f).is_file()]
    assert not missing, f"{name} did not write {missing}"
    assert f"wrote {out}" in stdout
    left = [p.name for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert not left, f"temporary files left behind: {left}"
    check = CHECKS.get(name)
    if check is not None:
        check(out)


def _formats(out: Path) -> None:
    import spectrakit as sk
    from spectrakit.preprocessing import Pipeline

    original = sk.read(out / "fermentation.csv")
    for ext in ("parquet", "h5", "npz", "mat"):
        back = sk.read(out / f"fermentation.{ext}")
        assert back.axis.allclose(original.axis) and back.shape == original.shape
    assert Pipeline.load(out / "pipeline.yaml").to_config()["steps"][0]["step"] == "Crop"


def _report(out: Path) -> None:
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<img" in html and "data:image/png;base64," in html
    scores = json.loads((out / "scores.json").read_text())
    assert scores["pls"]["n"] == 34  # one prediction per HPLC reference
    assert scores["pls"]["rmse"] < 10.0  # g/L; glucose spans about 0-60 g/L


def _pretraining(out: Path) -> None:
    results = pd.read_csv(out / "results.csv")
    assert set(results["model"]) == {"finetuned", "scratch"}
    assert results["instrument"].nunique() == 3


def _transfer(out: Path) -> None:
    r = pd.read_csv(out / "results.csv").set_index("method")["rmsep"]
    assert r["PDS"] < 0.5 * r["slave, no correction"]
    assert r["master spectra (floor)"] < r["slave, no correction"]


def _ood(out: Path) -> None:
    table = pd.read_csv(out / "predictions.csv")
    unseen = table["label"] == "ethanol"
    assert {"predicted", "ood_score", "is_ood"} <= set(table.columns)
    assert table.loc[unseen, "is_ood"].mean() > table.loc[~unseen, "is_ood"].mean()


def _serve(out: Path) -> None:
    exchange = json.loads((out / "http_exchange.json").read_text())
    assert [e["status"] for e in exchange] == [200, 200, 200, 422]
    assert exchange[2]["response"]["n"] == 3
    assert "error" in exchange[3]["response"]


def _specbert(out: Path) -> None:
    results = json.loads((out / "results.json").read_text())
    assert results["msm_val_loss_ratio"] > 0
    card = (out / "pretrained" / "card.md").read_text(encoding="utf-8")
    assert all(f"- {n}: 60 spectra" in card for n in ("anton_532", "kaiser", "metrohm"))


def _spectratorch(out: Path) -> None:
    (bundle,) = (p for p in (out / "models").iterdir() if p.suffix != ".run")
    assert bundle.name == "vgg1d_tiny y=('type',) c=('snv',) t=('SNV', 'da') 0-5 s=42 eps=0.1"
    html = (out / "sheet" / "result_sheet.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "training recipe" in html
    accuracy = json.loads((out / "channels" / "accuracy.json").read_text())
    assert accuracy["both"] >= 0.9 and accuracy["ex277_only"] <= 0.75  # class in channel 2


def _spectrafm(out: Path) -> None:
    results = pd.read_csv(out / "results.csv")
    assert len(results) == 3 and (results["onnx_max_abs_diff"] < 1e-4).all()
    assert (pd.read_csv(out / "predictions_beyond_range.csv")["coverage"] < 0.7).all()


def _peakmixer(out: Path) -> None:
    table = pd.read_csv(out / "channel_sets.csv").set_index(["model", "channels"])
    assert len(table) == 6 and table[["infidelity", "sensitivity"]].notna().all().all()
    from spectrakit.training.ip_temperature import TEMPERATURES

    assert set(table["ip_temperature"]) <= set(TEMPERATURES)  # chosen on the training split
    for model in ("peakmixer_tiny", "cnnpeak_tiny"):
        share = table.loc[model, "band_share"]
        assert share["specific"] > share["all"] > share["complementary"]


def _pychemauth(out: Path) -> None:
    figures = json.loads((out / "figures.json").read_text())
    assert figures["accuracy"] > 0.8 and figures["dime_rejection_unknown"] > 0.5
    assert {"TSNS", "TSPS", "TEFF", "k", "alpha"} <= set(figures)


CHECKS = {
    "seed_peakmixer": _peakmixer,
    "seed_pychemauth": _pychemauth,
    "seed_specbert": _specbert,
    "seed_spectratorch": _spectratorch,
    "seed_spectrafm": _spectrafm,
    "01_read_inspect_preprocess": _formats,
    "02_pls_vs_deep_fermentation": _report,
    "03_pretrain_finetune_multi_instrument": _pretraining,
    "04_calibration_transfer": _transfer,
    "05_explain_and_ood": _ood,
    "06_export_and_serve": _serve,
}
