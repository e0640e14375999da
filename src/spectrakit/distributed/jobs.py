"""Preprocess, predict and summarize a corpus chunk by chunk on a Dask cluster.

Each chunk of rows is one task: the worker reads its rows from the corpus, applies the
fitted pipeline (or the model bundle, loaded once per worker process) and writes its part
of the output; the client only plans the graph and writes the index and the provenance.
Outputs are assembled in a temporary sibling and renamed into place when every chunk is
written, so an interrupted job leaves nothing that looks finished. An existing output is
never replaced (choose another path or delete it first).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.atomic import atomic_dir
from spectrakit.core.errors import ConfigError
from spectrakit.distributed.cluster import kernel_threads_in_worker
from spectrakit.distributed.corpus import Corpus, open_corpus

__all__ = ["info", "predict", "preprocess"]

_PREDICTORS: dict[tuple[str, float], Any] = {}


@contextlib.contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A temporary sibling of ``out`` that becomes ``out`` when the block succeeds."""
    if out.exists() or out.is_symlink():
        raise ConfigError(
            f"{out} already exists",
            expected="a new output path",
            got="an existing file or folder",
            fix="choose another --out or remove it first",
        )
    with atomic_dir(out, overwrite=False, what="a job output") as tmp:
        yield tmp


def _provenance(corpus: Corpus, job: str, **extra: Any) -> dict[str, Any]:
    from spectrakit import __version__

    return {
        "spectrakit": __version__,
        "job": job,
        "source": str(corpus.path),
        "source_kind": corpus.kind,
        "n_spectra": int(corpus.values.shape[0]),
        "chunks": list(corpus.row_chunks),
        **extra,
    }


def _fitted(pipeline: Any, corpus: Corpus) -> Any:
    """A pipeline ready to transform each chunk on its own (refused when it must learn)."""
    from sklearn.utils.validation import check_is_fitted

    from spectrakit.core.spectra import Spectra
    from spectrakit.preprocessing import get_pipeline, is_stateless

    pipe = get_pipeline(pipeline)
    with contextlib.suppress(Exception):
        check_is_fitted(pipe)
        return pipe
    if not is_stateless(pipe):
        raise ConfigError(
            "this pipeline learns from the data, so chunks cannot be transformed apart",
            expected="a stateless pipeline, or one already fitted (a saved --save-pipeline)",
            got=", ".join(name for name, _ in pipe.steps),
            fix="fit it on a sample first and pass the saved pipeline",
        )
    first = np.asarray(corpus.values[: min(2, corpus.values.shape[0])].compute())
    return pipe.fit(Spectra(first, corpus.axis, allow_nan=True))


def _transform_block(block: np.ndarray, pipe: Any, axis: Any) -> np.ndarray:
    kernel_threads_in_worker()
    from spectrakit.core.spectra import Spectra

    return np.asarray(pipe.transform(Spectra(block, axis, allow_nan=True)).values)


def preprocess(
    corpus: str | Path, pipeline: Any, out: str | Path, *, rows: int | None = None
) -> Path:
    """Apply ``pipeline`` to every chunk of ``corpus``; write a Zarr store at ``out``.

    Runs on the active ``distributed.Client`` (see :func:`spectrakit.distributed.connect`),
    or on Dask's local scheduler when none is active.

    Parameters
    ----------
    corpus : str or Path
        ``.zarr``, ``.h5`` or ``.parquet`` corpus (:func:`open_corpus`).
    pipeline : str, Path or Pipeline
        Preset name, pipeline file, or Pipeline object; stateless or already fitted.
    out : str or Path
        New ``.zarr`` directory: ``values`` (n, p'), ``axis`` (p'), ``meta/<column>``, and
        the provenance (source, chunks, pipeline) in the group attributes.
    rows : int, optional
        Spectra per task.

    Returns
    -------
    Path
    """
    import dask.array as da
    import zarr

    src = open_corpus(corpus, rows)
    pipe = _fitted(pipeline, src)
    out_axis = pipe.output_axis(src.axis)
    result = src.values.map_blocks(
        _transform_block, pipe, src.axis, dtype=np.float64,
        chunks=(src.values.chunks[0], (out_axis.n_points,)),
    )  # fmt: skip
    out = Path(out)
    with _staged(out) as tmp:
        da.to_zarr(result, str(tmp), component="values", compute=True)
        group = zarr.open_group(str(tmp), mode="a")
        group.create_array("axis", data=np.asarray(out_axis.values))
        for name in src.meta.columns:
            col = src.meta[name].to_numpy()
            col = col.astype(str) if col.dtype.kind == "O" else col
            group.create_array(f"meta/{name}", data=col)
        prov = _provenance(src, "preprocess", pipeline=pipe.to_config())
        group.attrs.update({**_axis_attrs(out_axis), "provenance": json.loads(json.dumps(prov))})
    return out


def _axis_attrs(axis: Any) -> dict[str, str]:
    from spectrakit.io import axis_info

    return axis_info(axis)


def _predictor(bundle: str) -> Any:
    """The bundle, loaded once per worker process (keyed by path and modification time)."""
    import spectrakit

    key = (bundle, os.stat(bundle).st_mtime)
    if key not in _PREDICTORS:
        _PREDICTORS.clear()
        _PREDICTORS[key] = spectrakit.load(bundle)
    return _PREDICTORS[key]


def _predict_block(block: np.ndarray, meta: pd.DataFrame, bundle: str, axis: Any) -> pd.DataFrame:
    kernel_threads_in_worker()
    from spectrakit.core.spectra import Spectra
    from spectrakit.predict.table import predictions_table  # the same table as the CLI writes

    spectra = Spectra(block, axis, meta if len(meta.columns) else None)
    return predictions_table(spectra, _predictor(bundle).predict(spectra))


def _blocks(src: Corpus) -> list[tuple[Any, pd.DataFrame]]:
    """(delayed value block, its metadata rows) for every chunk."""
    parts, start = [], 0
    for block, n in zip(src.values.to_delayed().ravel(), src.row_chunks, strict=True):
        parts.append((block, src.meta.iloc[start : start + n]))
        start += n
    return parts


def predict(
    corpus: str | Path, bundle: str | Path, out: str | Path, *, rows: int | None = None
) -> Path:
    """Predict every chunk of ``corpus`` with ``bundle``; write a Parquet dataset or a CSV.

    Parameters
    ----------
    corpus : str or Path
    bundle : str or Path
        Model bundle directory, visible to every worker at the same path.
    out : str or Path
        ``.csv`` (assembled on the client, written atomically) or a new ``.parquet``
        directory (one part per chunk, written by the workers, plus ``_provenance.json``).
    rows : int, optional

    Returns
    -------
    Path
    """
    import dask
    import dask.dataframe as dd

    import spectrakit

    src = open_corpus(corpus, rows)
    bundle = str(Path(bundle).resolve())
    spectrakit.load(bundle)  # a bad bundle is refused here, not in every task
    parts = [
        dask.delayed(_predict_block)(block, meta, bundle, src.axis) for block, meta in _blocks(src)
    ]
    prov = _provenance(src, "predict", bundle=bundle)
    out = Path(out)
    if out.suffix.lower() == ".csv":
        from spectrakit.io import atomic_path

        table = pd.concat(dask.compute(*parts), ignore_index=True)
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
        return out
    head = np.asarray(src.values[:1].compute())
    empty = _predict_block(head, src.meta.iloc[:1], bundle, src.axis).iloc[:0]
    frame = dd.from_delayed(parts, meta=empty)
    with _staged(out) as tmp:
        frame.to_parquet(str(tmp), write_index=False)
        (tmp / "_provenance.json").write_text(json.dumps(prov, indent=2), encoding="utf-8")
    return out


def _summary_block(block: np.ndarray, axis: Any) -> dict:
    kernel_threads_in_worker()
    from spectrakit.core.spectra import Spectra
    from spectrakit.preprocessing.quality import summarize

    return summarize(Spectra(block, axis, allow_nan=True))


def _merge(parts: list[dict]) -> dict:
    """One summary from the summaries of consecutive chunks (counts add, ranges widen)."""
    first = parts[0]
    lows = [p["intensity"]["min"] for p in parts if p["intensity"]["min"] is not None]
    highs = [p["intensity"]["max"] for p in parts if p["intensity"]["max"] is not None]
    out = {**first, "intensity": {"min": min(lows, default=None), "max": max(highs, default=None)}}
    counts = ("n_spectra", "spectra_with_nan", "spectra_with_spikes", "spectra_saturated",
              "spectra_constant")  # fmt: skip
    for key in counts:
        out[key] = int(sum(p[key] for p in parts))
    return out


def info(corpus: str | Path, *, rows: int | None = None) -> dict:
    """The :func:`spectrakit.preprocessing.quality.summarize` summary of a whole corpus.

    Every chunk is summarized on a worker; counts are added and ranges widened on the
    client; metadata columns are summarized from the metadata table. The result equals
    ``summarize`` of the corpus read in one piece.
    """
    import dask

    from spectrakit.preprocessing.quality import meta_summary

    src = open_corpus(corpus, rows)
    blocks = src.values.to_delayed().ravel()
    parts = dask.compute(*[dask.delayed(_summary_block)(b, src.axis) for b in blocks])
    summary = _merge(list(parts))
    summary["meta"] = meta_summary(src.meta)
    summary["provenance"] = _provenance(src, "info")
    return summary
