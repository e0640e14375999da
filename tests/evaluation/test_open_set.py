"""Open-set classification: 'unknown' when the detector fires, and pychemauth's figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import spectrakit
from spectrakit import Spectra
from spectrakit.cli import main
from spectrakit.core.errors import ConfigError
from spectrakit.evaluation import apply_open_set, open_set_figures

AXIS = np.linspace(400.0, 1800.0, 200)
CENTERS = {"a": 600.0, "b": 1000.0, "c": 1400.0, "novel": 800.0}


def _spectra(labels: list[str], seed: int) -> Spectra:
    rng = np.random.default_rng(seed)
    centers = np.array([CENTERS[x] for x in labels])
    band = np.exp(-0.5 * ((AXIS[None] - centers[:, None]) / 20.0) ** 2)
    values = 0.3 + band + 0.4 * np.exp(-0.5 * ((AXIS - 1650) / 60.0) ** 2)
    return Spectra(values + rng.normal(0, 0.02, band.shape), AXIS, meta={"kind": labels})


def test_figures_of_merit_known_answer():
    y_true = ["a", "a", "b", "b", "x", "x", "y", "y"]
    y_pred = ["a", "unknown", "b", "a", "unknown", "b", "unknown", "unknown"]
    f = open_set_figures(y_true, y_pred, known=["a", "b"])
    assert f["TSNS"] == pytest.approx(2 / 4) and f["TSPS"] == pytest.approx(3 / 4)
    assert f["TEFF"] == pytest.approx(np.sqrt(0.5 * 0.75))
    assert f["CSNS"] == {"a": 0.5, "b": 0.5}
    assert f["CM"].loc["x", "unknown"] == 1 and f["CM"].loc["b", "a"] == 1
    assert list(f["CM"].columns) == ["a", "b", "unknown"] and f["CM"].to_numpy().sum() == 8


def test_apply_open_set_needs_a_detector():
    frame = pd.DataFrame({"predicted": ["a", "b"], "is_ood": [True, False]})
    assert apply_open_set(frame)["predicted"].tolist() == ["unknown", "b"]
    with pytest.raises(ConfigError, match="OOD detector"):
        apply_open_set(pd.DataFrame({"predicted": ["a"]}))


def test_cli_open_set_rejects_a_novel_material(tmp_path):
    rng = np.random.default_rng(0)
    spectrakit.write(_spectra(list(rng.choice(list("abc"), 150)), 1), tmp_path / "train.csv")
    test_labels = [*rng.choice(list("abc"), 30), *["novel"] * 15]
    spectrakit.write(_spectra(test_labels, 2), tmp_path / "test.csv")
    assert main(["finetune", "--data", str(tmp_path / "train.csv"), "--target", "kind",
                 "--task", "classification", "--model", "mlp_tiny", "--epochs", "30",
                 "--lr", "3e-3", "--batch-size", "16", "--no-progress", "--loggers", "",
                 "--out", str(tmp_path / "m")]) == 0  # fmt: skip
    out = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "test.csv"),
                 "--open-set", "--out", str(out)]) == 0  # fmt: skip
    table = pd.read_csv(out)
    f = open_set_figures(table["kind"], table["predicted"], known=list("abc"))
    print({k: round(v, 3) for k, v in f.items() if k in ("TSNS", "TSPS", "TEFF")})
    assert f["TSPS"] >= 0.8  # the novel material is called unknown
    assert f["TSNS"] >= 0.8  # and the known ones keep their class
