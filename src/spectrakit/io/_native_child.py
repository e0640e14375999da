"""Worker script: decode an HDF5 or MATLAB file in a separate interpreter (run by path).

It imports only NumPy, h5py and scipy.io (never the spectrakit package), reads the request from its
arguments (job, path, group, byte budget) and writes ``pickle((status, payload))`` to
stdout; the parent (:mod:`spectrakit.io._worker`) unpickles only NumPy arrays and plain
containers from it, and kills the child when it runs past the time limit.
"""

import pickle
import sys

import h5py
import numpy as np

_VLEN_BYTES = 64


class Refused(Exception):
    """A dataset larger than the read budget."""


def _array(node, budget, used, what):
    item = _VLEN_BYTES if node.dtype.kind == "O" else node.dtype.itemsize
    need = float(np.prod(node.shape, dtype=np.float64)) * item
    if used[0] + need > budget:
        raise Refused(f"{what} ({need / 2**20:.1f} MB decoded)")
    used[0] += need
    return np.asarray(node[()])


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def table(path, group, budget):
    """Datasets ``values``/``axis``, the group attributes and the ``meta`` columns."""
    used = [0.0]
    with h5py.File(path, "r") as fh:
        if group not in fh:
            return "missing", f"no group {group!r}"
        g = fh[group]
        missing = [k for k in ("values", "axis") if k not in g]
        if missing:
            return "missing", "datasets " + ", ".join(missing) + "; keys " + ", ".join(g.keys())
        out = {
            "values": _array(g["values"], budget, used, "dataset 'values'"),
            "axis": _array(g["axis"], budget, used, "dataset 'axis'"),
            "attrs": {k: _text(v) for k, v in g.attrs.items()},
            "meta": {},
        }
        if "meta" in g:
            order = [str(c) for c in g["meta"].attrs.get("columns", list(g["meta"].keys()))]
            for name in order:
                col = _array(g["meta"][name], budget, used, f"meta column {name!r}")
                if col.dtype.kind in "SO":
                    col = np.array([_text(c) for c in col])
                out["meta"][name] = col
    return "ok", out


def mat73(path, group, budget):
    """Top-level numeric and char datasets of a MATLAB v7.3 file (MATLAB's orientation)."""
    used = [0.0]
    out = {}
    with h5py.File(path, "r") as fh:
        for name, node in fh.items():
            if not isinstance(node, h5py.Dataset) or name.startswith("#"):
                continue
            cls = _text(node.attrs.get("MATLAB_class", b""))
            data = _array(node, budget, used, f"variable {name!r}")
            if cls == "char":
                # MATLAB stores text as uint16 code units, column-major.
                out[name] = np.array("".join(map(chr, data.T.ravel().tolist())))
            elif data.dtype.kind in "biuf":
                out[name] = data.T  # HDF5 sees MATLAB's column-major arrays transposed
    return "ok", out


def mat5(path, group, budget):
    """Variables of a MATLAB v4-v7 file through scipy (whose C decoder can crash on damage)."""
    from scipy.io import loadmat

    raw = loadmat(path, squeeze_me=False, chars_as_strings=True)
    return "ok", {k: v for k, v in raw.items() if not k.startswith("__")}


def main(argv):
    job, path, group, budget = argv[1], argv[2], argv[3], float(argv[4])
    try:
        result = {"table": table, "mat73": mat73, "mat5": mat5}[job](path, group, budget)
    except Refused as exc:
        result = ("budget", str(exc))
    except MemoryError:
        result = ("memory", "")
    except BaseException as exc:  # every library failure becomes one message
        detail = (str(exc).splitlines() or [""])[0][:100]
        result = ("failed", f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main(sys.argv)
