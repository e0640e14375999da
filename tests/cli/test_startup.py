"""Start-up cost: the command line and ``import spectrakit`` load no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spectrakit.cli._app import COMMANDS

SRC = str(Path(__file__).resolve().parents[2] / "src")
HEAVY = ("pandas", "scipy", "sklearn", "torch", "lightning", "numba", "pyarrow", "onnxruntime")
HEAVY += ("numpy", "yaml", "matplotlib", "pydantic", "fastapi")

_PROBE = """
import contextlib, io, json, sys
{setup}
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""

_MODULES = """
import contextlib, io, json, sys
{setup}
print(json.dumps(sorted(m for m in sys.modules if m.startswith("spectrakit.cli."))))
"""

_CLI = """
from spectrakit.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main({argv!r})
    except SystemExit:
        pass
"""


def _loaded(setup: str, probe: str = _PROBE) -> list[str]:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = probe.format(setup=setup, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["info", "--help"], ["preprocess", "--help"], ["predict", "--help"]],
    ids=" ".join,
)
def test_cli_help_loads_no_heavy_library(argv):
    assert _loaded(_CLI.format(argv=argv)) == []


def test_every_command_help_loads_no_heavy_library():
    """All the commands' ``--help`` in one process: none of them loads NumPy or more."""
    setup = "\n".join(
        _CLI.format(argv=[*name, "--help"]) for name in ([], *([c] for c in COMMANDS))
    )
    assert _loaded(setup) == []


def _command_modules(argv: list[str]) -> list[str]:
    """The command modules (``spectrakit.cli.info``, not the helpers) that ``argv`` imports."""
    got = _loaded(_CLI.format(argv=argv), _MODULES)
    return [m.rpartition(".")[2] for m in got if not m.rpartition(".")[2].startswith("_")]


def test_help_imports_no_command_module():
    """``spectrakit --help`` lists every command from :data:`COMMANDS` without its module."""
    assert _command_modules(["--help"]) == []


def test_command_help_imports_only_its_module():
    assert _command_modules(["--debug", "export", "--help"]) == ["export"]


def test_import_spectrakit_loads_no_heavy_library():
    assert _loaded("import spectrakit") == []


def test_lazy_top_level_names_are_the_modules_objects():
    code = (
        "import spectrakit, sys\n"
        "assert 'numpy' not in sys.modules\n"
        "from spectrakit.core.axis import SpectralAxis\n"
        "assert spectrakit.SpectralAxis is SpectralAxis\n"
    )
    assert "numpy" in _loaded(code)


def test_lazy_public_names_still_resolve():
    code = (
        "import spectrakit, spectrakit.io, spectrakit.preprocessing as pp\n"
        "assert spectrakit.Spectra is __import__('spectrakit.spectra').spectra.Spectra\n"
        "assert callable(spectrakit.read) and callable(spectrakit.io.write)\n"
        "assert pp.AsPLS.__name__ == 'AsPLS' and 'AsPLS' in pp.list_steps()\n"
        "assert pp.get_pipeline('raman-default').steps\n"
    )
    assert "pandas" in _loaded(code)  # the names work (and load what they need)


def test_help_start_up_budget():
    """The one timing assert: ``spectrakit --help`` well within a second (goal 0.3 s)."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "spectrakit", "--help"]
    subprocess.run(cmd, capture_output=True, env=env, check=True)  # warm the file cache
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        best = min(best, time.perf_counter() - t)
    assert best < 1.5, f"spectrakit --help took {best:.2f} s (goal 0.3 s)"


_PREPROCESS = """
import contextlib, io, json, sys
import numpy as np
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.spectra import Spectra
from spectrakit.io import write
x = np.linspace(400.0, 1800.0, 200)
rows = np.exp(-(((x - 1000.0) / 20.0) ** 2)) + 1e-3 * x + np.arange(4)[:, None] * 0.1
write(Spectra(rows, SpectralAxis(x, "cm-1")), {src!r})
from spectrakit.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(["preprocess", {src!r}, "--pipeline", "nir-default", "--out", {out!r}])
assert code == 0, code
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_preprocess_run_loads_no_estimator_library(tmp_path, suffix):
    """A preprocessing run needs no scikit-learn, scipy.signal/stats, torch or Lightning."""
    src, out = str(tmp_path / f"raw{suffix}"), str(tmp_path / f"clean{suffix}")
    heavy = ("sklearn", "torch", "lightning", "onnxruntime", "matplotlib")
    heavy += ("scipy.signal", "scipy.stats")
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = _PREPROCESS.format(src=src, out=out, heavy=heavy)
    got = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(got.stdout.strip().splitlines()[-1]) == []
    assert Path(out).stat().st_size > 0
