"""Run the 1D convolutions of a graph as 2D ones, so onnxruntime's NCHWc kernels apply.

onnxruntime's blocked-layout (NCHWc) convolution, with its Conv+Add+activation fusion, is
only applied to 2D convolutions. A 1D convolution on (N, C, L) is the 2D convolution on
(N, C, 1, L) with a (1, k) kernel, so every 1D ``Conv`` with a constant weight is rewritten
that way. The elementwise nodes between convolutions (activations, residual additions)
stay in the 4D form too, so a residual trunk runs as one NCHWc chain with a single layout
change at each end; a 3D value is recovered (``Squeeze``) only where another node needs it.
A graph where that is not one chain (a pooling layer between convolutions: each would
need its own pair of layout changes) is left as it is. The rewritten graph is plain ONNX;
the layout change itself happens when a session opens it with all optimisations, on the
machine that runs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["conv_as_2d"]

#: nodes that work the same on (N, C, 1, L) as on (N, C, L) when all inputs are 4D
ELEMENTWISE = {"Relu", "Identity", "Add", "Sigmoid", "Mul", "LeakyRelu", "Clip"}
_AXIS = "spectrakit_conv2d_axis"


def conv_as_2d(data: bytes) -> tuple[bytes, int]:
    """The graph with its 1D convolutions as 2D ones, and how many were rewritten.

    Parameters
    ----------
    data : bytes
        A serialised ONNX model.

    Returns
    -------
    bytes
        The rewritten model (``data`` itself when it has no 1D convolution).
    int
        Number of convolutions rewritten (0: none, or not one 4D chain).
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(data)
    graph = model.graph
    weights = {w.name: w for w in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    rewrite = _Rewrite()
    for node in graph.node:
        weight = weights.get(node.input[1]) if _plain_conv(node) else None
        if weight is not None and len(weight.dims) == 3 and uses[weight.name] == 1:
            kernel = numpy_helper.to_array(weight)[:, :, None, :]
            weight.CopyFrom(numpy_helper.from_array(kernel, weight.name))
            rewrite.conv(node)
        elif node.op_type in ELEMENTWISE and node.input and all(map(rewrite.is_4d, node.input)):
            rewrite.elementwise(node)
        else:
            rewrite.keep(node)
    for output in graph.output:
        rewrite.need_3d(output.name)
    if not rewrite.count or rewrite.changes > 2:  # not one chain: layout changes would cost
        return data, 0
    graph.initializer.append(numpy_helper.from_array(np.array([2], dtype=np.int64), _AXIS))
    del graph.node[:]
    graph.node.extend(rewrite.nodes)
    return model.SerializeToString(), rewrite.count


def _plain_conv(node: Any) -> bool:
    """A ``Conv`` with explicit pads (no ``auto_pad``), the form the rewrite handles."""
    if node.op_type != "Conv" or len(node.input) < 2:
        return False
    auto = [a for a in node.attribute if a.name == "auto_pad"]
    return not auto or auto[0].s in (b"", b"NOTSET")


class _Rewrite:
    """The new node list, and which values exist only in their 4D form."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.four: dict[str, str] = {}  # value -> its 4D form
        self.only_4d: set[str] = set()  # values produced in 4D, no 3D copy yet
        self.count = 0
        self.changes = 0  # Unsqueeze and Squeeze nodes added

    def is_4d(self, name: str) -> bool:
        return name in self.only_4d

    def _as_4d(self, name: str) -> str:
        from onnx import helper

        if name not in self.four:
            self.four[name] = f"{name}__4d"
            self.nodes.append(helper.make_node("Unsqueeze", [name, _AXIS], [self.four[name]]))
            self.changes += 1
        return self.four[name]

    def _produce_4d(self, name: str) -> str:
        self.four[name] = f"{name}__4d"
        self.only_4d.add(name)
        return self.four[name]

    def need_3d(self, name: str) -> None:
        """Materialise the 3D value of ``name`` when only its 4D form exists."""
        from onnx import helper

        if name in self.only_4d:
            self.nodes.append(helper.make_node("Squeeze", [self.four[name], _AXIS], [name]))
            self.only_4d.discard(name)
            self.changes += 1

    def conv(self, node: Any) -> None:
        from onnx import helper

        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        pads = list(attrs.get("pads", [0, 0]))
        new = {
            "kernel_shape": [1, *attrs["kernel_shape"]],
            "strides": [1, *attrs.get("strides", [1])],
            "dilations": [1, *attrs.get("dilations", [1])],
            "group": attrs.get("group", 1),
            "pads": [0, pads[0], 0, pads[1]],
        }
        x = self._as_4d(node.input[0])
        out = self._produce_4d(node.output[0])
        self.nodes.append(helper.make_node("Conv", [x, *node.input[1:]], [out], **new))
        self.count += 1

    def elementwise(self, node: Any) -> None:
        from onnx import helper

        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        ins = [self.four[i] for i in node.input]
        out = self._produce_4d(node.output[0])
        self.nodes.append(helper.make_node(node.op_type, ins, [out], **attrs))

    def keep(self, node: Any) -> None:
        for name in node.input:
            self.need_3d(name)
        self.nodes.append(node)
