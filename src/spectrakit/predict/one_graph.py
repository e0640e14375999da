"""The ONNX graph specialised to one spectrum on the bundle's own axis (``model.one.onnx``).

It takes exactly one input shape, and axis-aware models have the model axis folded in as
a constant, so it answers only inputs that match: one spectrum of that shape and, when the
graph folded the axis, exactly that axis. Anything else goes to the general graph.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["OneSpectrumGraph"]


class OneSpectrumGraph:
    """Lazily opened session of the one-spectrum graph, and the test of which inputs it takes.

    Parameters
    ----------
    path : str
        The graph file.
    record : dict
        Its ``export.json`` entry (``inputs`` with their shapes, ``constant_axis``).
    axis : ndarray of shape (L,)
        The model axis; with ``constant_axis``, an input is taken only on exactly this axis
        (as float32, as it is fed).
    open_session : callable
        ``path -> onnxruntime session`` (the runtime's session settings).
    """

    def __init__(self, path: str, record: dict[str, Any], axis: np.ndarray, open_session) -> None:
        self.path = path
        self.shapes = {k: tuple(v) for k, v in record["inputs"].items()}
        self.axis = np.asarray(axis, dtype=np.float32) if record.get("constant_axis") else None
        self._open = open_session
        self._session = None
        self._lock = threading.Lock()

    def takes(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        """The graph's feeds for ``feeds`` (the axis dropped), or None if it cannot take them."""
        if set(feeds) - {"axis"} != set(self.shapes):
            return None
        if any(feeds[k].shape != s for k, s in self.shapes.items()):
            return None
        if self.axis is not None:
            given = feeds.get("axis")
            if given is None or given.shape != self.axis.shape:
                return None
            if not np.array_equal(given, self.axis):
                return None
        elif "axis" in feeds:
            return None
        return {k: feeds[k] for k in self.shapes}

    @property
    def session(self):
        """The onnxruntime session, created on first use."""
        with self._lock:
            if self._session is None:
                self._session = self._open(self.path)
        return self._session

    def run(self, feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Outputs (1, n_outputs) and features (1, D) for feeds accepted by :meth:`takes`."""
        outputs, features = self.session.run(["outputs", "features"], feeds)
        return outputs, features
