"""Predict with an exported bundle using only NumPy and onnxruntime (no torch import).

The runtime applies exactly what the PyTorch predictor applies: the bundle's axis checks and
resampling, the runtime part of the preprocessing (the rest is inside the graph), the graph,
the same output decoding, and the bundle's OOD detector on the graph's ``features``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from spectrakit.bundle.config import BundleConfig
from spectrakit.bundle.format import Bundle
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import BundleError, DataError
from spectrakit.core.spectra import Spectra
from spectrakit.predict.core import (
    ExtraFeatures,
    any_grid_inputs,
    conform_axis,
    coverage,
    measured_input,
    on_axis_values,
)
from spectrakit.predict.one_graph import OneSpectrumGraph
from spectrakit.predict.result import Predictions, assemble_predictions

__all__ = ["OnnxPredictor", "load_onnx"]


def _import_ort():
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise BundleError(
            "the ONNX runtime predictor needs onnxruntime",
            fix="pip install 'spectrakit[export]'",
        ) from exc
    return ort


class OnnxPredictor:
    """An exported bundle, ready to predict without PyTorch.

    Parameters
    ----------
    bundle : path-like
        Bundle directory (or .zip) that holds ``model.onnx`` (see ``spectrakit export``).
    threads : int, optional
        Intra-op threads of onnxruntime for batches (default: its own choice, one per core).
    single_threads : int or None, default=1
        Intra-op threads for a batch of one spectrum. One spectrum is too little work to
        share: waking a thread pool costs more than it saves (see
        ``benchmarks/inference.py``), so by default such calls run on a second,
        single-threaded session, created on first use. None: batches of one use the batch
        session too.

    Attributes
    ----------
    config : BundleConfig
        Validated bundle configuration.
    axis : SpectralAxis
        Axis of the raw spectra the model expects.
    """

    def __init__(
        self,
        bundle: str | Path,
        threads: int | None = None,
        *,
        single_threads: int | None = 1,
        key: str | os.PathLike | bytes | None = None,
        require_signature: bool = False,
    ) -> None:
        ort = _import_ort()
        self.bundle = Bundle(bundle)
        self.bundle_dir = self.bundle.path
        self.config: BundleConfig = self.bundle.verify()
        self.bundle.check_signature(key, required=require_signature)
        if not self.config.export:
            raise BundleError(
                f"{self.bundle.source} has not been exported to ONNX",
                expected="model.onnx and export.json in the bundle",
                got="neither",
                fix=f"run: spectrakit export --model {bundle} --format onnx",
            )
        self.export = self.bundle.read_json("export.json")
        self.axis = self.config.axis
        self.model_axis = self.config.model_axis
        self.preprocessor = self.bundle.preprocessor()
        self.channel_layout = self.config.channel_layout
        self.model_file = model_file(self.export, self.config.files)
        self._graph = str(self.bundle.file(self.model_file))
        self.session = _session(ort, self._graph, threads)
        same = single_threads is None or (threads is not None and threads == single_threads)
        self._single_threads = None if same else int(single_threads)
        self._single = None
        self.one_graph = self._one_spectrum_graph(threads if same else single_threads)
        self.targets = list(self.config.targets)
        self.classes = self.config.classes
        self.task = self.config.task
        self._extra = ExtraFeatures(self.config.extra_features)
        self.ood = _runtime_ood(self.bundle)
        self._lock = threading.Lock()
        self._covered: float | None = None

    def __repr__(self) -> str:
        return f"OnnxPredictor({self.config.family.name}, task={self.task})"

    @property
    def accepts_any_grid(self) -> bool:
        """The graph takes the axis as an input, any length, and no preprocessing is fitted."""
        return (
            "axis" in self.export["inputs"]
            and all(p is None for p in self.preprocessor.pipelines)
            and not any(self.export.get("graph_steps") or [])
        )

    def _on_own_grid(self, spectra: Spectra) -> bool:
        ax = spectra.axis
        return self.accepts_any_grid and (ax.unit, ax.kind) == (self.axis.unit, self.axis.kind)

    def _own_grid(self, spectra: Spectra) -> tuple[np.ndarray, SpectralAxis]:
        """Exactly the PyTorch predictor's inputs for an axis-aware model on its own grid."""
        values, axis = any_grid_inputs(spectra, int(self.export.get("patch_size") or 1))
        fixed = self.export.get("input_length")
        if not self.export["dynamic_length"] and axis.n_points != fixed:
            raise BundleError(
                "this ONNX graph was exported for one input length",
                expected=f"{fixed} points (the grid the model was exported on)",
                got=f"{axis.n_points} points ({axis.describe()})",
                fix="use the PyTorch predictor (spectrakit.load) for other grids",
            )
        coverage(axis, self.axis)
        return values, axis

    def coverage(self, spectra: Spectra) -> float | None:
        """Fraction of the input axis inside the trained range (axis-aware models), else None."""
        if self.channel_layout is not None or not self._on_own_grid(spectra):
            return None
        patch = int(self.export.get("patch_size") or 1)
        return coverage(any_grid_inputs(spectra[:1], patch)[1], self.axis, warn=False)

    def prepare(self, spectra: Spectra) -> np.ndarray:
        """Graph input (n, C, L_in): axis conformance plus the runtime preprocessing steps."""
        return self._prepare(spectra)[0]

    def _prepare(self, spectra: Spectra) -> tuple[np.ndarray, SpectralAxis]:
        spectra = measured_input(spectra, self.channel_layout)
        if not isinstance(spectra, Spectra):
            raise DataError(
                "predictions need Spectra", expected="a spectrakit.Spectra", got=type(spectra)
            )
        if self.accepts_any_grid:
            if not self._on_own_grid(spectra):  # another unit: onto the training axis first
                spectra = conform_axis(spectra, self.axis, self.preprocessor.read_range())
            return self._own_grid(spectra)
        spectra = conform_axis(spectra, self.axis, self.preprocessor.read_range())
        pre, channels = self.preprocessor, []
        inputs = [spectra] * len(pre.pipelines)
        if self.channel_layout is not None:  # each measured channel on its own axis
            inputs = pre.channel_inputs(spectra)
        steps = zip(inputs, pre.pipelines, self.export["runtime_steps"], strict=True)
        for s, pipe, k in steps:
            for _, step in [] if pipe is None else pipe.steps[:k]:
                s = step.transform(s)
            channels.append(np.asarray(s.values, dtype=np.float32))
        # the graph applies the tail and the window
        return np.stack(channels, axis=1), self.model_axis

    def _feeds(self, spectra: Spectra) -> dict[str, np.ndarray]:
        spectra = measured_input(spectra, self.channel_layout)
        values, axis = self._prepare(spectra)
        feeds = {"spectra": values}
        names = self.export["inputs"]
        if "axis" in names:
            feeds["axis"] = axis.values.astype(np.float32)
        if "extra" in names:
            feeds["extra"] = self._extra.values(spectra)
        return feeds

    def _one_spectrum_graph(self, threads: int | None) -> OneSpectrumGraph | None:
        """The export's one-spectrum graph (``model.one.onnx``), when it saved one."""
        record = self.export.get("single")
        if not record or record.get("file") not in self.config.files:
            return None
        path = str(self.bundle.file(record["file"]))
        ort = _import_ort()
        return OneSpectrumGraph(
            path, record, self.model_axis.values, lambda p: _session(ort, p, threads, spin=False)
        )

    def session_for(self, n: int):
        """The onnxruntime session that runs a batch of ``n`` spectra."""
        if n != 1 or self._single_threads is None:
            return self.session
        with self._lock:
            if self._single is None:
                self._single = _session(_import_ort(), self._graph, self._single_threads)
        return self._single

    def run(self, spectra: Spectra, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """Raw outputs (n, n_outputs) and features (n, D)."""
        return self._run_feeds(self._feeds(spectra), batch_size)

    def _run_feeds(
        self, feeds: dict[str, np.ndarray], batch_size: int
    ) -> tuple[np.ndarray, np.ndarray]:
        n = feeds["spectra"].shape[0]
        one = self.one_graph.takes(feeds) if self.one_graph is not None and n == 1 else None
        if one is not None:  # one spectrum on the bundle's axis: the specialised graph
            return self.one_graph.run(one)
        if n <= batch_size:  # one call (one spectrum: the single-threaded session)
            outputs, features = self.session_for(n).run(["outputs", "features"], feeds)
            return outputs, features
        outs, feats = [], []
        for start in range(0, n, batch_size):
            part = {
                k: (v[start : start + batch_size] if k != "axis" else v) for k, v in feeds.items()
            }
            sess = self.session_for(part["spectra"].shape[0])
            o, f = sess.run(["outputs", "features"], part)
            outs.append(o)
            feats.append(f)
        return np.concatenate(outs), np.concatenate(feats)

    def embed(self, spectra: Spectra, batch_size: int = 256) -> np.ndarray:
        """Embeddings (n, D), as :meth:`Predictor.embed`."""
        return self.run(spectra, batch_size)[1]

    def predict(self, spectra: Spectra, batch_size: int = 256) -> pd.DataFrame:
        """Predictions with the same columns as :meth:`spectrakit.predict.Predictor.predict`."""
        return self.predict_arrays(spectra, batch_size).frame()

    def predict_arrays(self, spectra: Spectra, batch_size: int = 256) -> Predictions:
        """:meth:`predict` as NumPy columns, without building a DataFrame (the lean path)."""
        self._check_head()
        spectra = measured_input(spectra, self.channel_layout)
        raw, feats = self.run(spectra, batch_size)
        return self._assemble(raw, feats, self.coverage(spectra), spectra.values)

    def predict_values(self, values: np.ndarray, batch_size: int = 256) -> Predictions:
        """Predictions for intensities on the bundle's own axis, shape (n, L) or (L,).

        The fastest path for one spectrum: when the whole preprocessing is in the graph and
        the model reads no metadata, the values go to the graph without a :class:`Spectra`
        (checked the same way: numbers, one per axis point, finite). Otherwise they are
        predicted as ``Spectra(values, self.axis)``. Same results as :meth:`predict_arrays`.
        """
        if self._graph_only:
            self._check_head()
            vals = on_axis_values(values, self.axis)
            channels = np.repeat(vals[:, None, :], len(self.preprocessor.pipelines), axis=1)
            raw, feats = self._run_feeds({"spectra": channels}, batch_size)
            return self._assemble(raw, feats, None, vals)
        if self._own_axis_feeds:
            self._check_head()
            vals = on_axis_values(values, self.axis)[:, None, :]
            axis = self.axis.values.astype(np.float32)
            raw, feats = self._run_feeds({"spectra": vals, "axis": axis}, batch_size)
            return self._assemble(raw, feats, self._own_coverage, vals)
        return self.predict_arrays(Spectra(values, self.axis), batch_size)

    @property
    def _own_axis_feeds(self) -> bool:
        """An axis-aware graph whose input on the bundle's own axis is the values and that axis.

        True when the whole axis is whole patches (nothing to crop), no measured channels and
        no metadata inputs: then :meth:`predict_arrays` would feed exactly these.
        """
        patch = int(self.export.get("patch_size") or 1)
        return (
            self.accepts_any_grid
            and self.channel_layout is None
            and set(self.export["inputs"]) == {"spectra", "axis"}
            and self.axis.n_points % patch == 0
        )

    @property
    def _own_coverage(self) -> float:
        """The ``coverage`` of spectra on the bundle's own axis (computed once)."""
        if self._covered is None:
            self._covered = coverage(self.axis, self.axis, warn=False)
        return self._covered

    def _assemble(
        self, raw: np.ndarray, feats: np.ndarray, covered: float | None, inputs: np.ndarray
    ) -> Predictions:
        """Predictions from the graph's outputs; the OOD detector scores logits or features."""
        logits = self.ood is not None and self.ood.input_kind == "logits"
        return assemble_predictions(self, raw, lambda: raw if logits else feats, covered, inputs)

    @property
    def _graph_only(self) -> bool:
        """On the bundle axis the graph input is the raw values: no runtime step, no extras."""
        return (
            not self.accepts_any_grid
            and self.channel_layout is None
            and not self._extra.names
            and not any(self.export["runtime_steps"])
            and set(self.export["inputs"]) == {"spectra"}
        )

    def _check_head(self) -> None:
        if self.config.output is None:
            raise BundleError(
                "this bundle is a pretrained encoder without a prediction head",
                fix="fine-tune it first: spectrakit finetune --init BUNDLE ...",
            )


def model_file(export: dict, files: dict) -> str:
    """The graph to run: the offline-optimised one when the export saved it, else model.onnx."""
    opt = (export.get("optimized") or {}).get("file")
    return opt if opt and opt in files else "model.onnx"


def _session(ort, path: str, threads: int | None, *, spin: bool = True):
    """A CPU session: sequential execution, one inter-op thread, all graph optimisations.

    The saved graph is already optimised offline at a portable level; the remaining
    (layout, machine-specific) optimisations are applied here, for the machine it runs on.
    ``spin=False``: idle pool threads sleep instead of spinning (one-spectrum calls, which
    leave the pool idle between requests; spinning threads only take cores from others).
    """
    opts = ort.SessionOptions()
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = int(threads)
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def _runtime_ood(bundle: Bundle):
    """The bundle's OOD detector, when the runtime can score it (embeddings or logits)."""
    if not bundle.config.ood:
        return None
    from spectrakit.ood import load_detector

    det = load_detector(bundle)
    if det.input_kind == "reconstruction":
        raise BundleError(
            "this bundle's OOD detector scores masked reconstructions",
            expected="an embedding or logits detector for the ONNX runtime",
            got="a reconstruction-error detector",
            fix="use the PyTorch predictor (spectrakit.load) for this bundle",
        )
    return det


def load_onnx(
    bundle: str | Path,
    threads: int | None = None,
    *,
    single_threads: int | None = 1,
    key: str | os.PathLike | bytes | None = None,
    require_signature: bool = False,
) -> OnnxPredictor:
    """Load an exported bundle for NumPy + onnxruntime inference (``key``: see ``load``).

    ``threads`` and ``single_threads``: see :class:`OnnxPredictor`.
    """
    return OnnxPredictor(
        bundle,
        threads=threads,
        single_threads=single_threads,
        key=key,
        require_signature=require_signature,
    )
