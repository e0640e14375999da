"""Small untrained bundles for inference benchmarks (timings do not depend on training)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.data.channels import ChannelPreprocessor
from spectrakit.models import create


def make_spectra(n: int = 64, points: int = 1000, seed: int = 0) -> sk.Spectra:
    rng = np.random.default_rng(seed)
    axis = np.linspace(400.0, 1800.0, points)
    peak = np.exp(-0.5 * ((axis - 1000.0) / 12.0) ** 2)
    vals = rng.uniform(0, 1, (n, 1)) * peak + rng.normal(0, 0.01, (n, points)) + 0.5
    return sk.Spectra(vals, axis, meta={"c": rng.uniform(size=n)})


def make_bundle(out: Path, name: str, spectra: sk.Spectra, pipeline=None) -> Path:
    probe = create(name, input_length=spectra.n_points)
    pre = ChannelPreprocessor([pipeline]).fit(
        spectra, length_multiple=getattr(probe, "patch_size", None)
    )
    model = create(name, input_length=pre.output_axis_.n_points, n_outputs=1).eval()
    return save(
        out,
        model=model,
        task="regression",
        axis=spectra.axis,
        model_axis=pre.output_axis_,
        targets=["c"],
        output={"task": "regression", "n_targets": 1},
        preprocessor=pre,
    )
