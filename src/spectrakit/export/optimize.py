"""Offline graph optimisation of an exported model, saved next to the portable graph.

onnxruntime's graph optimisations (constant folding, redundant-node elimination, Conv/Add/
activation, GELU, LayerNorm and attention fusions) are applied once at export instead of at
every load, and the result is saved as ``model.opt.onnx`` in the bundle. The level is
``extended``: its fused operators are ordinary onnxruntime CPU kernels, so the file runs on
any CPU with the same or a newer onnxruntime. The ``all`` level adds layout transformations
tied to the exporting machine's instruction set; the runtime applies those at load time
instead, where they always match the machine. ``model.onnx`` stays the plain, portable graph.

When ``onnxsim`` is installed (``spectrakit[export]``), the graph is simplified first (shape
inference, constant folding of shape arithmetic); that removes nodes onnxruntime's own pass
leaves, notably in the transformer families. Without it, or when it cannot simplify a
graph, the onnxruntime pass alone is applied; ``export.json`` records which. The 1D
convolutions are then written as 2D ones (:mod:`spectrakit.export.conv2d`), so the runtime
can run conv families in onnxruntime's blocked NCHWc layout with fused residual additions
and activations.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from spectrakit.core.errors import BundleError
from spectrakit.export.conv2d import conv_as_2d

__all__ = ["LEVELS", "OPTIMIZED_FILE", "optimize_onnx", "simplify_onnx"]

OPTIMIZED_FILE = "model.opt.onnx"
#: offline levels: name -> onnxruntime GraphOptimizationLevel attribute
LEVELS = {
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}


def optimize_onnx(
    data: bytes, level: str = "extended", simplify: bool = True
) -> tuple[bytes, dict[str, Any]]:
    """Apply onnxruntime's graph optimisations offline and return the optimised graph.

    Parameters
    ----------
    data : bytes
        A serialised ONNX model (inputs of any batch size, as exported).
    level : {"basic", "extended", "all"}, default="extended"
        Optimisation level; ``extended`` keeps the graph portable across CPUs.
    simplify : bool, default=True
        Simplify with onnxsim first, when it is installed.

    Returns
    -------
    bytes
        The optimised serialised model (same inputs and outputs).
    dict
        Its ``export.json`` entry: file, level, onnxruntime version, simplifier (or None).
    """
    import onnxruntime as ort

    if level not in LEVELS:
        raise BundleError(
            "unknown graph optimisation level",
            expected=", ".join(LEVELS),
            got=repr(level),
            fix="pass one of the listed levels",
        )
    simplifier = None
    if simplify:
        data, simplifier = simplify_onnx(data)
    data, n_conv2d = conv_as_2d(data)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / OPTIMIZED_FILE
        opts = ort.SessionOptions()
        opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, LEVELS[level])
        opts.optimized_model_filepath = str(out)
        ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        optimized = out.read_bytes()
    record = {"file": OPTIMIZED_FILE, "level": level, "onnxruntime": ort.__version__}
    return optimized, {**record, "simplifier": simplifier, "conv_as_2d": n_conv2d}


def simplify_onnx(data: bytes) -> tuple[bytes, str | None]:
    """The graph simplified by onnxsim, and ``"onnxsim <version>"``.

    The graph is returned unchanged, with None, when onnxsim is not installed or cannot
    simplify this graph (its own check failed).
    """
    try:
        import onnx
        import onnxsim
    except ImportError:
        return data, None
    try:
        with _quiet_stderr():  # its constant folding prints a line per node it leaves
            model, ok = onnxsim.simplify(onnx.load_from_string(data))
    except Exception:  # onnxsim raises many types on graphs it cannot handle
        return data, None
    if not ok:
        return data, None
    return model.SerializeToString(), f"onnxsim {onnxsim.__version__}"


@contextlib.contextmanager
def _quiet_stderr():
    """Silence what native code writes on stderr (file descriptor 2) inside the block."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
