"""Bounded fuzzing of every reader: mutated valid files give only spectrakit errors.

Byte flips, overwrites, inserted and deleted runs, truncation and header edits of one valid
file per format; each read must return spectra or raise a SpectraError, never another
exception and never hang (``benchmarks/fuzz.py`` runs the same targets for long).
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spectrakit as sk
from _io_attacks import mutate, seed_files
from spectrakit.core.errors import SpectraError
from spectrakit.io import ReadLimits

_OPS = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 1 << 20), st.integers(0, 1 << 16)),
    min_size=1,
    max_size=6,
)
#: formats decoded in a worker interpreter cost ~0.15 s per read: fewer examples.
_EXAMPLES = {"hdf5": 15}
_FORMAT = {"jcamp-asdf": "jcamp", "long": "long"}


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang("read ran past 20 s")


def read_mutated(folder: Path, fmt: str, name: str, data: bytes) -> None:
    """Read one mutated file; raise AssertionError for anything but a SpectraError."""
    path = folder / ("m_" + name)
    path.write_bytes(data)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        sk.read_blocks(path, format=_FORMAT.get(fmt, fmt), limits=ReadLimits(timeout_s=5))
    except SpectraError:
        pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    return folder, seed_files(folder)


@pytest.mark.parametrize(
    "fmt",
    ["csv", "hdf5", "jcamp", "jcamp-asdf", "long", "mat", "npy", "npz", "opus", "parquet", "spc"],
)
def test_fuzzed_files_raise_only_spectrakit_errors(seeds, fmt):
    folder, files = seeds
    name, good = files[fmt]
    assert sk.read_blocks(_put(folder, name, good), format=_FORMAT.get(fmt, fmt))

    @settings(
        max_examples=_EXAMPLES.get(fmt, 60),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(ops=_OPS)
    def run(ops):
        read_mutated(folder, fmt, name, mutate(good, ops))

    run()


def _put(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
