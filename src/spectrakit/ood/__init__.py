"""Knowing when not to answer: out-of-distribution detectors (higher score = more unusual).

Each detector declares what it scores (``input_kind``): model embeddings, logits, or
masked-reconstruction errors. Fit on training data, calibrate the threshold on held-out
in-distribution data at a chosen false-rejection rate, store in the bundle without pickle.

>>> det = fit_ood(predictor, train, method="dime")  # doctest: +SKIP
>>> save_detector(det, predictor.bundle_dir)  # doctest: +SKIP
"""

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
from spectrakit.ood._fit import fit_ood
from spectrakit.ood._inputs import detector_inputs, model_inputs, reconstruction_errors
from spectrakit.ood._persist import load_detector, save_detector

__all__ = [
    "DETECTORS",
    "DIME",
    "INPUT_KINDS",
    "EnergyScore",
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
]
