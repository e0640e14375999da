"""The HTML report is self-contained and renders with its images in headless Chromium."""

import base64
import io
import re
import subprocess

import numpy as np
import pytest

from _browser import chromium
from spectrakit.chemometrics import PLSRegressor
from spectrakit.datasets import MixtureSettings
from spectrakit.datasets.synthetic import make_synthetic
from spectrakit.evaluation import cross_validate, write_model_report
from spectrakit.preprocessing import Pipeline, SavitzkyGolay, Standardize


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    spectra = make_synthetic(
        60, axis=(400.0, 1800.0, 150), mixture=MixtureSettings(n_components=3), seed=2
    )
    pipe = Pipeline([("smooth", SavitzkyGolay(7, 2)), ("scale", Standardize())])
    res = cross_validate(
        lambda: PLSRegressor(n_components=3), spectra, "c_comp0", "kfold:4", pipeline=pipe
    )
    metrics_csv = out / "metrics.csv"
    metrics_csv.write_text(
        "epoch,step,train_loss,val_loss\n"
        + "".join(
            f"{e},{e * 10},{1.0 / (e + 1)},\n{e},{e * 10},,{1.2 / (e + 1)}\n" for e in range(8)
        )
    )
    path = write_model_report(
        out,
        title="PLS on synthetic spectra",
        task="regression",
        spectra=spectra,
        target=spectra.meta["c_comp0"].to_numpy(),
        cv_result=res,
        pipeline=pipe,
        metrics_csv=metrics_csv,
    )
    return out, path


def test_report_is_self_contained(report_dir):
    out, path = report_dir
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text)
    assert "<script" not in text.lower() and "<link" not in text.lower()
    srcs = re.findall(r"src='([^']*)'", text)
    assert len(srcs) == 5  # parity, residuals, folds, learning curves, mean spectra
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # the same figures as PNG files next to the report, and the preprocessing is listed
    assert {p.name for p in (out / "figures").glob("*.png")} >= {
        "cv_parity.png",
        "cv_residuals.png",
        "cv_folds.png",
        "learning_curves.png",
        "mean_spectra.png",
    }
    assert "SavitzkyGolay" in text and "Standardize" in text
    assert ">rmse<" in text


def test_report_renders_in_headless_chromium(report_dir, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium); rendering not checked")
    _, path = report_dir
    shot = tmp_path / "shot.png"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,2000",
        path.resolve().as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert shot.exists(), "chromium wrote no screenshot"
    from matplotlib.image import imread

    img = imread(io.BytesIO(shot.read_bytes()), format="png")[..., :3]
    assert img.shape[0] >= 1500 and img.shape[1] >= 1000
    non_white = np.mean(np.any(img < 0.9, axis=2))
    assert img.std() > 0.05  # not a blank page
    assert non_white > 0.02  # text and plots cover a real part of the page (blank: 0)
    # embedded plots are drawn: matplotlib's default blue markers/lines appear
    blue = (img[..., 2] > 0.6) & (img[..., 0] < 0.35) & (img[..., 1] > 0.35) & (img[..., 1] < 0.6)
    assert blue.sum() > 200
