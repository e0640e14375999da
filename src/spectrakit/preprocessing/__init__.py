"""Axis-aware, batched preprocessing steps (scikit-learn transformers) and pipelines.

Every step accepts :class:`~spectrakit.Spectra` (and returns Spectra) or arrays with the
axis given to ``fit``; positions (crop ranges, peak positions) are in axis units and
derivatives scale with the real spacing. :class:`Pipeline` chains steps, keeps the axis and
serialises to plain JSON/YAML (steps by registered name) plus an array dict for fitted state.
"""

from spectrakit.preprocessing._axis import Crop, ExcludeRegions, Resample, SelectRegions
from spectrakit.preprocessing._base import SpectralTransformer
from spectrakit.preprocessing._pipeline import Pipeline
from spectrakit.preprocessing._presets import get_pipeline, list_presets, preset
from spectrakit.preprocessing._registry import build_step, get_step_class, list_steps, register_step
from spectrakit.preprocessing._scaling import MeanCenter, Standardize
from spectrakit.preprocessing._scatter import (
    EMSC,
    MSC,
    SNV,
    AreaNorm,
    MaxNorm,
    MinMax,
    PeakNorm,
    VectorNorm,
)
from spectrakit.preprocessing._smoothing import SavitzkyGolay, WhittakerSmooth
from spectrakit.preprocessing._spikes import MedianDespike, WhitakerHayes

__all__ = [
    "EMSC",
    "MSC",
    "SNV",
    "AreaNorm",
    "Crop",
    "ExcludeRegions",
    "MaxNorm",
    "MeanCenter",
    "MedianDespike",
    "MinMax",
    "PeakNorm",
    "Pipeline",
    "Resample",
    "SavitzkyGolay",
    "SelectRegions",
    "SpectralTransformer",
    "Standardize",
    "VectorNorm",
    "WhitakerHayes",
    "WhittakerSmooth",
    "build_step",
    "get_pipeline",
    "get_step_class",
    "list_presets",
    "list_steps",
    "preset",
    "register_step",
]


def _register_baselines() -> list[str]:
    """Import the baseline family (when installed) and register its steps by class name."""
    import importlib

    try:
        module = importlib.import_module("spectrakit.preprocessing.baseline")
    except ModuleNotFoundError as exc:
        if exc.name != "spectrakit.preprocessing.baseline":
            raise
        return []
    names = list(getattr(module, "__all__", ()))
    classes = [getattr(module, n) for n in names]
    steps = [c for c in classes if isinstance(c, type) and issubclass(c, SpectralTransformer)]
    for cls in steps:
        # shared base classes (subclassed by another exported step) are not steps themselves
        is_base = any(other is not cls and issubclass(other, cls) for other in steps)
        if not is_base and cls.__name__ not in list_steps():
            register_step(cls)
    globals().update(zip(names, classes, strict=True))
    return names


__all__ += _register_baselines()
