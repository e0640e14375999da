"""Knowing when not to answer: out-of-distribution detectors (higher score = more unusual).

Each detector declares what it scores (``input_kind``): model embeddings, logits, or
masked-reconstruction errors. Fit on training data, calibrate the threshold on held-out
in-distribution data at a chosen false-rejection rate, store in the bundle without pickle.

>>> det = fit_ood(predictor, train, method="dime")  # doctest: +SKIP
>>> save_detector(det, predictor.bundle_dir)  # doctest: +SKIP
"""

from spectrakit._lazy import by_module, lazy_attributes
from spectrakit.ood._base import (
    DETECTORS,
    INPUT_KINDS,
    OODDetector,
    create_detector,
    list_detectors,
    register_detector,
)
from spectrakit.ood._detectors import (
    DIME,
    EnergyScore,
    KNNDistance,
    Mahalanobis,
    ReconstructionError,
)
from spectrakit.ood._hotelling import HotellingQ
from spectrakit.ood._persist import load_detector, save_detector

# Computing detector inputs runs the model (torch); scoring and loading need only NumPy, so
# the ONNX runtime predictor can use detectors without importing torch.
_LAZY = by_module(
    {
        "spectrakit.ood._fit": ("fit_ood",),
        "spectrakit.ood._inputs": ("detector_inputs", "model_inputs", "reconstruction_errors"),
        "spectrakit.ood._tune": ("tune_dime",),
    }
)


__getattr__ = lazy_attributes("spectrakit.ood", _LAZY)


__all__ = [
    "DETECTORS",
    "DIME",
    "INPUT_KINDS",
    "EnergyScore",
    "HotellingQ",
    "KNNDistance",
    "Mahalanobis",
    "OODDetector",
    "ReconstructionError",
    "create_detector",
    "detector_inputs",
    "fit_ood",
    "list_detectors",
    "load_detector",
    "model_inputs",
    "reconstruction_errors",
    "register_detector",
    "save_detector",
    "tune_dime",
]
