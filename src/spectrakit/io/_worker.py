"""Run a native decoder in a worker process that can be stopped (time and memory bound).

Some damaged files make a native library spin: a damaged HDF5 global heap keeps libhdf5
busy for minutes inside one call that no signal interrupts. Such files are decoded by
``_native_child.py`` in a separate interpreter (it imports NumPy and h5py only, and never
re-runs the caller's script); the parent waits at most ``ReadLimits.timeout_s`` and then
kills it. The child also runs under an address-space limit derived from the read's byte
budget, and checks every dataset's size against that budget before reading it.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from spectrakit.core.errors import FormatError
from spectrakit.io._limits import ENV_VAR, charge, current_read

__all__ = ["run_native"]

_SCRIPT = Path(__file__).with_name("_native_child.py")
#: address space allowed to the child on top of the interpreter, NumPy and h5py.
_BASE_AS = 1536 * 1024 * 1024


def _limit_memory(budget: int) -> None:  # runs in the child before exec
    try:
        import resource

        soft = _BASE_AS + 4 * budget
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (ImportError, OSError, ValueError):
        pass  # no rlimits here: the time bound and the size checks still hold


class _ArraysOnly(pickle.Unpickler):
    """Unpickler for the worker's reply: NumPy arrays, dtypes and plain containers only.

    The reply is our own child's, but it holds what a damaged file decoded to; refusing every
    other class keeps unpickling unable to construct, let alone run, anything else.
    """

    _NUMPY = (
        "numpy",
        "numpy.core.multiarray",
        "numpy._core.multiarray",
        "numpy.core.numeric",
        "numpy._core.numeric",
    )
    _BUILTINS = frozenset(("dict", "list", "tuple", "set", "frozenset", "str", "bytes", "int",
                           "float", "complex", "bool", "slice"))  # fmt: skip

    def find_class(self, module: str, name: str) -> Any:
        if module in self._NUMPY and name in (
            "ndarray",
            "dtype",
            "_reconstruct",
            "_frombuffer",
            "scalar",
        ):
            return super().find_class(module, name)
        if module == "builtins" and name in self._BUILTINS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not an array type")


def run_native(job: str, path: Path, what: str, group: str = "/") -> Any:
    """Decode ``path`` with the child's ``job`` (``"table"`` or ``"mat73"``), time bound.

    Parameters
    ----------
    job : str
        ``"table"`` (spectrakit HDF5 layout), ``"mat73"`` (MATLAB v7.3 variables) or
        ``"mat5"`` (MATLAB v4-v7 variables through scipy).
    path : Path
        The file.
    what : str
        The format, for messages ("HDF5").
    group : str, default="/"
        HDF5 group of the table.

    Returns
    -------
    Any
        The decoded arrays (dict).

    Raises
    ------
    FormatError
        When the child runs past the time limit, dies, refuses a dataset over the read
        budget, or the file is unreadable.
    """
    state = current_read(path)
    remaining = max(0, state.budget - state.used)
    cmd = [sys.executable, str(_SCRIPT), job, str(path), group, str(remaining)]
    preexec = (lambda: _limit_memory(remaining)) if os.name == "posix" else None
    try:
        done = subprocess.run(
            cmd, capture_output=True, timeout=state.limits.timeout_s, preexec_fn=preexec
        )
    except subprocess.TimeoutExpired:
        raise _timeout(path, what, state.limits.timeout_s) from None
    try:
        status, payload = _ArraysOnly(io.BytesIO(done.stdout)).load()
    except Exception:
        status, payload = "died", f"the worker ended with exit code {done.returncode}"
    if status == "ok":
        return payload
    if status == "budget":
        charge(state.budget + 1, payload, path)  # raises the budget error
    raise _failure(status, payload, path, what)


def _timeout(path: Path, what: str, timeout: float) -> FormatError:
    return FormatError(
        f"{path.name}: the {what} decoder ran past the read time limit",
        expected=f"a read within timeout_s={timeout:g} s",
        got="a decoder still busy (a damaged file keeps it looping)",
        fix="the file is damaged; if it is just large and you trust it, raise the limit "
        f"with read(..., limits=ReadLimits(timeout_s=...)) or {ENV_VAR}='timeout_s=...'",
    )


def _failure(status: str, payload: Any, path: Path, what: str) -> FormatError:
    if status == "memory":
        return FormatError(
            f"{path.name}: the {what} decoder needed more memory than the read budget",
            expected="data in proportion to the file size",
            got="a decoder asking for more",
            fix="the file is damaged; if you trust it, raise the budget with "
            f"read(..., limits=ReadLimits(max_expansion=...)) or {ENV_VAR}",
        )
    if status == "missing":
        return FormatError(
            f"{path.name}: {payload}",
            expected="datasets 'values' (n x p) and 'axis' (p) in the group",
            got=str(payload),
        )
    return FormatError(
        f"{path.name} is not a readable {what} file",
        got=str(payload),
        fix="check the file is complete and undamaged (copy it again)",
    )
