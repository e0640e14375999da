"""The reply of the native-reader worker is unpickled as arrays and containers only."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest

from spectrakit.io._worker import _ArraysOnly


def _load(obj) -> object:
    return _ArraysOnly(io.BytesIO(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))).load()


def test_arrays_structs_and_cells_come_back():
    struct = np.array([(np.zeros(3), "x")], dtype=[("a", object), ("b", object)])
    status, payload = _load(("ok", {"v": np.arange(4.0), "s": struct, "t": np.array(["a"])}))
    assert status == "ok" and payload["v"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert payload["s"]["b"][0] == "x" and payload["t"].tolist() == ["a"]


def test_any_other_class_is_refused():
    with pytest.raises(pickle.UnpicklingError, match="not an array type"):
        _load(("ok", os.system))
