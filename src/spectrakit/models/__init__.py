"""Model registry and families: ``create(name, ...)``, ``list_models()``, ``model_config()``.

Importing this package registers every family (one module each).
"""

from spectrakit.models import (  # noqa: F401  (importing registers each family)
    chemometric,
    cnn1d,
    cnnpeak,
    gaf2d,
    mlp,
    peakmixer,
    resnet1d,
    resnetv2_1d,
    scorenet,
    smallnet,
    specbert,
    spectrafm,
    vgg1d,
)
from spectrakit.models._base import SpectralModel
from spectrakit.models._registry import (
    MODELS,
    create,
    list_models,
    model_config,
    model_entrypoint,
    model_family,
    register_model,
)

__all__ = [
    "MODELS",
    "SpectralModel",
    "create",
    "list_models",
    "model_config",
    "model_entrypoint",
    "model_family",
    "register_model",
]
