"""Lightning tasks: masked spectral pretraining and supervised fine-tuning.

A task receives a ready ``nn.Module`` from the model registry and owns losses, metrics,
freezing and optimisation; it never builds the architecture itself.
"""

from spectrakit.models.heads import OutputSpec, decode_outputs, n_model_outputs
from spectrakit.tasks.masked import MaskedModelingTask, normalize_spectra, random_patch_mask
from spectrakit.tasks.params import apply_freeze, layer_groups, parameter_groups
from spectrakit.tasks.supervised import SupervisedTask, tune_thresholds

__all__ = [
    "MaskedModelingTask",
    "OutputSpec",
    "SupervisedTask",
    "apply_freeze",
    "decode_outputs",
    "layer_groups",
    "n_model_outputs",
    "normalize_spectra",
    "parameter_groups",
    "random_patch_mask",
    "tune_thresholds",
]
