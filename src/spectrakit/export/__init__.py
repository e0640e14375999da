"""Portable inference: ONNX export with verified parity, and a NumPy + onnxruntime predictor."""

from spectrakit.export.runtime import OnnxPredictor, load_onnx

__all__ = ["OnnxPredictor", "export_onnx", "load_onnx"]


def __getattr__(name: str):
    if name == "export_onnx":  # needs torch; the runtime above does not
        from spectrakit.export.onnx import export_onnx

        return export_onnx
    raise AttributeError(name)
