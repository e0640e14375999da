"""Every registered explanation method: one finite attribution per point of the input axis.

Parametrised over :data:`spectrakit.explain._registry.METHODS`. ``MODEL_FOR`` names a model
family a method needs (attention maps need a transformer); the others run on a peakmixer,
which has a convolutional layer and an interpretable path.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import spectrakit as sk
from spectrakit.explain import explain
from spectrakit.explain._registry import METHODS
from spectrakit.models import create

pytestmark = pytest.mark.usefixtures("one_torch_thread")
MODEL_FOR = {"attention": "specbert_tiny"}


@pytest.fixture(scope="module")
def spectra() -> sk.Spectra:
    axis = np.linspace(1800.0, 400.0, 96)  # given descending: the axis is what the user sees
    values = np.random.default_rng(0).random((3, axis.size)) + np.exp(-(((axis - 1000) / 40) ** 2))
    return sk.Spectra(values, axis, unit="cm-1")


@pytest.mark.parametrize("method", list(METHODS))
def test_output_is_on_the_input_axis(method, spectra):
    torch.manual_seed(0)
    model = create(MODEL_FOR.get(method, "peakmixer_tiny"), n_outputs=2)
    attr = explain(model, spectra, method=method, target=1)
    assert attr.values.shape == spectra.values.shape
    np.testing.assert_array_equal(attr.axis.values, spectra.axis.values)
    assert attr.axis.unit == spectra.axis.unit
    assert np.isfinite(attr.values).all() and np.abs(attr.values).sum() > 0
    assert attr.method == METHODS.canonical(method)
