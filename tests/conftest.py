"""Shared fixtures: small realistic spectra with known structure."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit import Spectra


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def raman_like(rng: np.random.Generator) -> Spectra:
    """20 spectra, 400-1800 cm-1 (descending input order), two Gaussian peaks + slope + noise."""
    axis = np.linspace(1800.0, 400.0, 701)
    conc = rng.uniform(0.5, 2.0, size=(20, 2))
    peaks = np.stack(
        [np.exp(-0.5 * ((axis - 1000.0) / 8.0) ** 2), np.exp(-0.5 * ((axis - 1450.0) / 12.0) ** 2)]
    )
    values = conc @ peaks + 1e-4 * axis + rng.normal(0, 0.01, size=(20, axis.size))
    return Spectra(
        values,
        axis,
        meta={"sample": [f"s{i // 2}" for i in range(20)], "c1": conc[:, 0], "c2": conc[:, 1]},
        unit="cm-1",
        kind="raman_shift",
        laser_wavelength=785.0,
    )


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module of tiny models: thread start-up and contention cost more
    than they save, and two xdist workers already share two cores."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make_tiny_bundle(path, n_points: int = 64, scale: float = 1.0):
    """Write a real, valid regression bundle (cnn1d_tiny, no preprocessing) at ``path``."""
    import torch

    from spectrakit.bundle import save
    from spectrakit.core.axis import SpectralAxis
    from spectrakit.models import create

    torch.manual_seed(0)
    axis = SpectralAxis(np.linspace(400.0, 1800.0, n_points), unit="cm-1")
    model = create("cnn1d_tiny", n_outputs=1, input_length=n_points)
    output = {"task": "regression", "n_targets": 1, "target_mean": [1.0], "target_std": [scale]}
    return save(path, model=model, task="regression", axis=axis, targets=["c"], output=output)


def make_measured_bundle(path, pipelines=None, n: int = 16, seed: int = 4):
    """A real regression bundle on two measured channels (cnn1d_tiny, C x P input channels).

    Returns the bundle path and the :class:`ChannelSet` its preprocessing was fitted on.
    """
    import torch

    from spectrakit.bundle import save
    from spectrakit.datasets.measured_channels import make_deciding_channel
    from spectrakit.models import create
    from spectrakit.preprocessing.measured_channels import MeasuredChannels

    data = make_deciding_channel(n=n, n_points=64, seed=seed)
    pre = MeasuredChannels(data.layout, pipelines).fit(data.pack())
    torch.manual_seed(0)
    model = create("cnn1d_tiny", in_channels=len(pre.pipelines), n_outputs=1, input_length=64)
    output = {"task": "regression", "n_targets": 1, "target_mean": [0.0], "target_std": [1.0]}
    bundle = save(path, model=model, task="regression", axis=pre.input_axis_,
                  model_axis=pre.output_axis_, targets=["c"], output=output,
                  preprocessor=pre)  # fmt: skip
    return bundle, data


@pytest.fixture
def tiny_bundle(tmp_path):
    """A real, valid regression bundle folder (cnn1d_tiny on 64 points)."""
    return make_tiny_bundle(tmp_path / "tiny-bundle")


@pytest.fixture
def restore_torch_threads():
    """Put torch's thread count back after a test that changes it (``--threads 1``)."""
    import torch

    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)
