"""Portable inference: ONNX export with verified parity, and a NumPy + onnxruntime predictor."""

from spectrakit._lazy import lazy_attributes
from spectrakit.predict.runtime import OnnxPredictor, load_onnx

__all__ = ["OnnxPredictor", "export_onnx", "load_onnx"]

# export_onnx needs torch; the runtime above does not
__getattr__ = lazy_attributes("spectrakit.export", {"export_onnx": "spectrakit.export.onnx"})
