"""A chunked on-disk store of spectra on one axis, for corpora larger than memory.

Layout of a store directory::

    store.json          axis, dtype, number of points, list of chunks with their row counts
    chunk_000000.npy    one float32 block of shape (rows, n_points) per appended chunk

Every chunk is written to a temporary file and renamed into place, and ``store.json`` is
rewritten atomically after each chunk, so an interrupted writer leaves a valid store holding
the chunks completed so far. Rows are read with positional reads (``os.pread``) rather than
memory maps: reading random batches never grows the process' resident memory with the
pages of the corpus, only with the batch itself.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError, FormatError
from spectrakit.core.numeric import refuse_nonfinite
from spectrakit.core.spectra import Spectra
from spectrakit.io import atomic_path

__all__ = ["SpectraStore"]

_INDEX = "store.json"
_FORMAT = "spectrakit-store"


class SpectraStore:
    """Spectra on one shared axis, kept on disk in ``.npy`` chunks and read in random batches.

    Use :meth:`create` to start a store, :meth:`append` to add spectra (buffered into chunks
    of ``chunk_size`` rows), :meth:`flush` or a ``with`` block to write the last partial chunk,
    and :meth:`open` to read an existing one.

    Parameters
    ----------
    path : str or Path
        Store directory.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from spectrakit import SpectralAxis
    >>> d = tempfile.mkdtemp()
    >>> with SpectraStore.create(d + "/s", SpectralAxis(np.arange(8.0)), chunk_size=4) as st:
    ...     st.append(np.ones((10, 8), dtype=np.float32))
    >>> store = SpectraStore.open(d + "/s")
    >>> len(store), store.read([0, 9]).shape
    (10, (2, 8))
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        index_file = self.path / _INDEX
        if not index_file.is_file():
            raise FormatError(
                f"{self.path} is not a spectra store",
                expected=f"a directory with {_INDEX}",
                got="no index file",
                fix="create it with SpectraStore.create(path, axis)",
            )
        try:
            index = json.loads(index_file.read_text(encoding="utf-8"))
            if index.get("format") != _FORMAT:
                raise KeyError("format")
            self.axis = SpectralAxis.from_dict(index["axis"])
            self.chunk_size = int(index["chunk_size"])
            chunks = [(str(c["file"]), int(c["rows"])) for c in index["chunks"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(
                f"{index_file} is not a valid store index",
                expected=f"JSON with format={_FORMAT!r}, axis, chunk_size, chunks",
                got=str(exc)[:80],
                fix="recreate the store",
            ) from exc
        self._chunks: list[tuple[str, int]] = chunks
        self._buffer: list[np.ndarray] = []
        self._buffered = 0
        self._fds: dict[str, int] = {}
        self._refresh_offsets()

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        path: str | Path,
        axis: SpectralAxis | Sequence[float] | np.ndarray,
        *,
        chunk_size: int = 65536,
        overwrite: bool = False,
    ) -> SpectraStore:
        """Start an empty store at ``path`` for spectra on ``axis``.

        Parameters
        ----------
        path : str or Path
            Directory to create.
        axis : SpectralAxis or array-like of shape (n_points,)
            The axis every appended spectrum lies on.
        chunk_size : int, default=65536
            Rows per chunk file (65536 x 1000 float32 = 256 MB per chunk).
        overwrite : bool, default=False
            Replace an existing store at ``path``.
        """
        axis = axis if isinstance(axis, SpectralAxis) else SpectralAxis(np.asarray(axis))
        if chunk_size < 1:
            raise DataError(
                "invalid chunk size", expected="a positive integer", got=str(chunk_size)
            )
        path = Path(path)
        if (path / _INDEX).exists():
            if not overwrite:
                raise FormatError(
                    f"a store already exists at {path}",
                    expected="a new directory",
                    got="existing store.json",
                    fix="pass overwrite=True or choose another path",
                )
            for f in path.glob("chunk_*.npy"):
                f.unlink()
        path.mkdir(parents=True, exist_ok=True)
        _write_index(path, axis, chunk_size, [])
        return cls(path)

    @classmethod
    def open(cls, path: str | Path) -> SpectraStore:
        """Open an existing store for reading (and further appends)."""
        return cls(path)

    @classmethod
    def from_spectra(
        cls, path: str | Path, spectra: Spectra, *, chunk_size: int = 65536, overwrite: bool = False
    ) -> SpectraStore:
        """Write the values of ``spectra`` into a new store (metadata is not kept)."""
        store = cls.create(path, spectra.axis, chunk_size=chunk_size, overwrite=overwrite)
        with store:
            store.append(spectra.values)
        return store

    # ------------------------------------------------------------------ writing
    def append(self, values: np.ndarray | Spectra) -> None:
        """Add spectra of shape (n, n_points); full chunks are written to disk immediately."""
        if isinstance(values, Spectra):
            if not values.axis.allclose(self.axis, rtol=1e-9, atol=1e-9):
                raise DataError(
                    "spectra lie on another axis than the store",
                    expected=self.axis.describe(),
                    got=values.axis.describe(),
                    fix="resample them onto the store axis first",
                )
            values = values.values
        arr = np.asarray(values, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.axis.n_points:
            raise DataError(
                "appended spectra have the wrong shape",
                expected=f"(n, {self.axis.n_points})",
                got=str(arr.shape),
            )
        refuse_nonfinite(
            arr,
            "appended spectra contain NaN or infinite values",
            expected="finite intensities",
            what="bad spectra",
            fix="repair or drop them before appending",
        )
        start = 0
        while start < arr.shape[0]:
            take = min(self.chunk_size - self._buffered, arr.shape[0] - start)
            self._buffer.append(arr[start : start + take])
            self._buffered += take
            start += take
            if self._buffered == self.chunk_size:
                self._write_chunk()

    def flush(self) -> None:
        """Write buffered spectra as a (possibly partial) chunk."""
        if self._buffered:
            self._write_chunk()

    def _write_chunk(self) -> None:
        block = np.concatenate(self._buffer, axis=0)
        name = f"chunk_{len(self._chunks):06d}.npy"
        with atomic_path(self.path / name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, block, allow_pickle=False)
        self._chunks.append((name, int(block.shape[0])))
        _write_index(self.path, self.axis, self.chunk_size, self._chunks)
        self._buffer, self._buffered = [], 0
        self._refresh_offsets()

    def __enter__(self) -> SpectraStore:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.flush()
        self.close()

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def shape(self) -> tuple[int, int]:
        """(n_spectra, n_points) of the data written so far."""
        return len(self), self.axis.n_points

    def _refresh_offsets(self) -> None:
        self._starts = np.concatenate([[0], np.cumsum([r for _, r in self._chunks])]).astype(
            np.int64
        )
        self._headers: dict[str, int] = getattr(self, "_headers", {})

    def _fd(self, name: str) -> tuple[int, int]:
        fd = self._fds.get(name)
        if fd is None:
            fd = os.open(self.path / name, os.O_RDONLY)
            self._fds[name] = fd
        header = self._headers.get(name)
        if header is None:
            with open(self.path / name, "rb") as fh:
                version = np.lib.format.read_magic(fh)
                reader = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = reader(fh)
                if dtype != np.float32 or len(shape) != 2 or shape[1] != self.axis.n_points:
                    raise FormatError(
                        f"chunk {name} does not match the store",
                        expected=f"float32 (rows, {self.axis.n_points})",
                        got=f"{dtype} {shape}",
                    )
                header = fh.tell()
            self._headers[name] = header
        return fd, header

    def read(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Rows ``indices`` as a float32 array of shape (len(indices), n_points).

        Rows are fetched with one positional read per contiguous run, so cost and memory
        scale with the batch, not with the store.
        """
        idx = np.asarray(indices, dtype=np.int64).ravel()
        n = len(self)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise DataError(
                "store row index out of range", expected=f"indices in [0, {n})", got=str(idx.max())
            )
        p = self.axis.n_points
        out = np.empty((idx.size, p), dtype=np.float32)
        row_bytes = 4 * p
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        chunk_of = np.searchsorted(self._starts, sorted_idx, side="right") - 1
        i = 0
        while i < sorted_idx.size:
            # extend a run of consecutive rows within one chunk
            j = i + 1
            while (
                j < sorted_idx.size
                and chunk_of[j] == chunk_of[i]
                and sorted_idx[j] == sorted_idx[j - 1] + 1
            ):
                j += 1
            c = int(chunk_of[i])
            name = self._chunks[c][0]
            fd, header = self._fd(name)
            local = int(sorted_idx[i] - self._starts[c])
            raw = os.pread(fd, row_bytes * (j - i), header + local * row_bytes)
            out[order[i:j]] = np.frombuffer(raw, dtype=np.float32).reshape(j - i, p)
            i = j
        return out

    def iter_batches(self, batch_size: int = 4096) -> Iterator[np.ndarray]:
        """Yield consecutive blocks of rows, in order."""
        for start in range(0, len(self), batch_size):
            yield self.read(np.arange(start, min(start + batch_size, len(self))))

    def to_spectra(self, indices: Sequence[int] | np.ndarray | None = None) -> Spectra:
        """Load rows (all by default) into memory as :class:`Spectra`."""
        idx = np.arange(len(self)) if indices is None else np.asarray(indices)
        return Spectra(self.read(idx), self.axis)

    def close(self) -> None:
        """Close open chunk files (reading reopens them on demand)."""
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}

    def __getstate__(self) -> dict:  # DataLoader workers reopen their own descriptors
        state = self.__dict__.copy()
        state["_fds"] = {}
        return state

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()

    def __repr__(self) -> str:
        return f"SpectraStore({self.path}, {len(self)} spectra, {self.axis.describe()})"


def _write_index(path: Path, axis: SpectralAxis, chunk_size: int, chunks) -> None:
    index = {
        "format": _FORMAT,
        "version": 1,
        "axis": axis.to_dict(),
        "dtype": "float32",
        "chunk_size": int(chunk_size),
        "chunks": [{"file": f, "rows": int(r)} for f, r in chunks],
    }
    with atomic_path(path / _INDEX) as tmp:
        tmp.write_text(json.dumps(index), encoding="utf-8")
