"""A graph specialised to one spectrum on the bundle's own axis, saved next to the others.

The portable graph keeps the batch (and, for variable-length models, the length) dynamic
and takes the axis of axis-aware models as an input. For one spectrum on the bundle's own
grid, all of that is known at export time: the input shape is (1, C, L) and the axis is
the model axis. Fixing the shapes and putting the axis into the graph as a constant lets
the simplifier fold every shape computation (``Shape``/``Gather``/``Concat`` chains around
each reshape) and, for axis-aware models, the whole position encoding (float64 Fourier
features and their MLP) into constants. The result is saved as ``model.one.onnx``; the
runtime runs it for a single spectrum whose input matches, and the general graph otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.export.optimize import optimize_onnx

__all__ = ["SINGLE_FILE", "count_nodes", "single_onnx"]

SINGLE_FILE = "model.one.onnx"
#: the input baked into the graph as a constant (the model axis of axis-aware models)
CONSTANT_INPUT = "axis"


def single_onnx(
    data: bytes, feeds: dict[str, np.ndarray], level: str = "extended"
) -> tuple[bytes, dict[str, Any]]:
    """The graph for one input of exactly ``feeds``' shapes, ``axis`` folded in, optimised.

    Parameters
    ----------
    data : bytes
        The serialised portable graph.
    feeds : dict of str to ndarray
        One sample input, batch 1: ``spectra`` (1, C, L), optionally ``axis`` (L,)
        (becomes a constant) and ``extra`` (1, E).
    level : str, default="extended"
        onnxruntime offline level (see :func:`~spectrakit.export.optimize.optimize_onnx`).

    Returns
    -------
    bytes
        The specialised, simplified and optimised graph.
    dict
        Its ``export.json`` entry: file, inputs with their shapes, whether the axis is a
        constant, node counts of the portable and the specialised graph, simplifier.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    baked = CONSTANT_INPUT in feeds
    if baked:
        graph.input.remove(next(i for i in graph.input if i.name == CONSTANT_INPUT))
        value = np.asarray(feeds[CONSTANT_INPUT], dtype=np.float32)
        graph.initializer.append(numpy_helper.from_array(value, CONSTANT_INPUT))
    shapes = {k: v.shape for k, v in feeds.items() if k != CONSTANT_INPUT}
    for value_info in graph.input:
        _fix_dims(value_info, shapes.get(value_info.name, {}))
    for value_info in graph.output:
        _fix_dims(value_info, {0: 1})
    optimized, record = optimize_onnx(model.SerializeToString(), level)
    return optimized, {
        **record,
        "file": SINGLE_FILE,
        "inputs": {k: list(s) for k, s in shapes.items()},
        "constant_axis": baked,
        "nodes": {"portable": count_nodes(data), "single": count_nodes(optimized)},
    }


def _fix_dims(value_info: Any, shape: tuple[int, ...] | dict[int, int]) -> None:
    """Set the dimensions of a graph input or output (a tuple: all; a dict: those named)."""
    sizes = dict(enumerate(shape)) if isinstance(shape, tuple) else shape
    for i, dim in enumerate(value_info.type.tensor_type.shape.dim):
        if i in sizes:
            dim.ClearField("dim_param")
            dim.dim_value = int(sizes[i])


def count_nodes(data: bytes) -> int:
    """Number of nodes in a serialised ONNX graph (top level)."""
    import onnx

    return len(onnx.load_from_string(data).graph.node)
