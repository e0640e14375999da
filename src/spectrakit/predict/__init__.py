"""Prediction with a bundle: the PyTorch :class:`Predictor` and the onnxruntime predictor.

Both share one inference core (:mod:`spectrakit.predict.core`: axis conformance, extra
features, output decoding), so a prediction means the same whichever engine computed it.
Names load on first use: the runtime predictor needs NumPy and onnxruntime only.
"""

from __future__ import annotations

from spectrakit._lazy import lazy_attributes

_LAZY = {
    "ExtraFeatures": "spectrakit.predict.core",
    "conform_axis": "spectrakit.predict.core",
    "decode_outputs_np": "spectrakit.predict.core",
    "predictions_frame": "spectrakit.predict.core",
    "Predictor": "spectrakit.predict.predictor",
    "Predictions": "spectrakit.predict.result",
    "load": "spectrakit.predict.loader",
    "OnnxPredictor": "spectrakit.predict.runtime",
    "load_onnx": "spectrakit.predict.runtime",
}

__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes("spectrakit.predict", _LAZY)
