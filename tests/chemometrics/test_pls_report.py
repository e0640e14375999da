"""PLS reports: RMSECV by LV with the chosen count, coefficients/VIP on the axis, parity and
residuals; rendered in headless Chromium."""

from __future__ import annotations

import io
import json
import subprocess

import numpy as np
import pytest

from _browser import chromium
from spectrakit.chemometrics import make_baseline
from spectrakit.cli._app import main
from spectrakit.evaluation.pls_report import pls_diagnostics, vip_scores

pytest.importorskip("chemotools", reason="the fermentation data ship with chemotools")
from spectrakit.datasets import load_fermentation


def test_vip_matches_its_definition_and_mean_square_is_one():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12))
    y = X[:, 2] - X[:, 7] + 0.05 * rng.normal(size=200)
    model = make_baseline("pls", n_components=3).fit(X, y).model_[-1]
    vip = vip_scores(model.x_weights_, model.x_scores_, model.y_loadings_)
    assert np.mean(vip**2) == pytest.approx(1.0)
    one = make_baseline("pls", n_components=1).fit(X, y).model_[-1]
    top = vip_scores(one.x_weights_, one.x_scores_, one.y_loadings_)
    assert set(np.argsort(top)[-2:]) == {2, 7}  # the two variables y depends on
    # reference: the textbook loop over variables and components
    W, T, Q = model.x_weights_, model.x_scores_, model.y_loadings_
    ss = [float(Q[0, a] ** 2 * T[:, a] @ T[:, a]) for a in range(3)]
    ref = [np.sqrt(12 * sum(ss[a] * (W[j, a] / np.linalg.norm(W[:, a])) ** 2
                            for a in range(3)) / sum(ss)) for j in range(12)]  # fmt: skip
    np.testing.assert_allclose(vip, ref)


def test_diagnostics_mark_the_lv_chosen_by_cv_on_the_axis():
    train = load_fermentation("train")
    est = make_baseline(
        "pls", pipeline={"steps": [{"step": "Crop", "params": {"low": 950, "high": 1500}}]}
    )
    d = pls_diagnostics(est.fit(train, "glucose"))
    assert d["n_components"] == int(np.argmin(d["cv_mean"])) + 1
    assert d["unit"] == "cm-1" and d["axis"].min() >= 950 and d["axis"].max() <= 1500
    assert d["coef"].shape == (1, d["axis"].size) and d["vip"].shape == d["axis"].shape


def test_baseline_report_has_pls_figures_and_renders(tmp_path):
    out = tmp_path / "run"
    args = ["baseline", "pls", "--data", "builtin:fermentation-train", "--target", "glucose"]
    assert main([*args, "--cv", "kfold:5", "--out", str(out)]) == 0
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"pls_rmsecv.png", "pls_coefficients.png", "cv_parity.png", "cv_residuals.png"} <= (
        figures
    )
    html = (out / "report.html").read_text()
    assert "PLS model" in html and "chosen by inner cross-validation" in html
    assert json.loads((out / "metrics.json").read_text())["cv"]
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed; rendering not checked")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1200,4000", (out / "report.html").resolve().as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.exists(), "chromium wrote no screenshot"
    from matplotlib.image import imread

    img = imread(io.BytesIO(shot.read_bytes()), format="png")[..., :3]
    assert img.std() > 0.05
    # the chosen-LV marker and the fitted lines are drawn in matplotlib's red and orange
    red = (img[..., 0] > 0.75) & (img[..., 1] < 0.3) & (img[..., 2] < 0.3)
    orange = (img[..., 0] > 0.9) & (img[..., 1] > 0.4) & (img[..., 1] < 0.6) & (img[..., 2] < 0.2)
    assert red.sum() > 50 and orange.sum() > 50
