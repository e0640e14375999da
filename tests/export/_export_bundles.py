"""A small untrained regression bundle on a cm-1 axis, for the ONNX graph tests."""

import numpy as np

from spectrakit.bundle import save
from spectrakit.core.axis import SpectralAxis
from spectrakit.models import create


def regression_bundle(path, name, n_points=128, **model_kwargs):
    """Bundle of model ``name`` (2 targets, seed 0) on 400-1800 cm-1 with ``n_points``.

    ``model_kwargs`` go to the model's constructor.
    """
    import torch

    torch.manual_seed(0)
    axis = SpectralAxis(np.linspace(400.0, 1800.0, n_points), unit="cm-1")
    model = create(name, n_outputs=2, input_length=n_points, **model_kwargs).eval()
    output = {"task": "regression", "n_targets": 2}
    return save(path, model=model, task="regression", axis=axis, targets=["a", "b"], output=output)
