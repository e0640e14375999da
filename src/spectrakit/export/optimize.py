"""Offline graph optimisation of an exported model, saved next to the portable graph.

onnxruntime's graph optimisations (constant folding, redundant-node elimination, Conv/Add/
activation, GELU, LayerNorm and attention fusions) are applied once at export instead of at
every load, and the result is saved as ``model.opt.onnx`` in the bundle. The level is
``extended``: its fused operators are ordinary onnxruntime CPU kernels, so the file runs on
any CPU with the same or a newer onnxruntime. The ``all`` level adds layout transformations
tied to the exporting machine's instruction set; the runtime applies those at load time
instead, where they always match the machine. ``model.onnx`` stays the plain, portable graph.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from spectrakit.core.errors import BundleError

__all__ = ["LEVELS", "OPTIMIZED_FILE", "optimize_onnx"]

OPTIMIZED_FILE = "model.opt.onnx"
#: offline levels: name -> onnxruntime GraphOptimizationLevel attribute
LEVELS = {
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


def optimize_onnx(data: bytes, level: str = "extended") -> bytes:
    """Apply onnxruntime's graph optimisations offline and return the optimised graph.

    Parameters
    ----------
    data : bytes
        A serialised ONNX model (inputs of any batch size, as exported).
    level : {"basic", "extended", "all"}, default="extended"
        Optimisation level; ``extended`` keeps the graph portable across CPUs.

    Returns
    -------
    bytes
        The optimised serialised model (same inputs and outputs).
    """
    import onnxruntime as ort

    if level not in LEVELS:
        raise BundleError(
            "unknown graph optimisation level",
            expected=", ".join(LEVELS),
            got=repr(level),
            fix="pass one of the listed levels",
        )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / OPTIMIZED_FILE
        opts = ort.SessionOptions()
        opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, LEVELS[level])
        opts.optimized_model_filepath = str(out)
        ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        return out.read_bytes()


def optimized_record(level: str) -> dict[str, Any]:
    """The ``optimized`` entry of ``export.json``: file, level and onnxruntime version."""
    import onnxruntime as ort

    return {"file": OPTIMIZED_FILE, "level": level, "onnxruntime": ort.__version__}
