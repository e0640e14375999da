"""Export a bundle's model (with the expressible preprocessing tail) to ONNX, verified.

The graph takes the spectra after the runtime part of the preprocessing, shape (B, C, L_in),
(plus the axis for axis-aware models and tabular features when the model fuses them) and
returns ``outputs`` (B, n_outputs; raw, decoded by
:func:`spectrakit.predict.core.decode_outputs_np`)
and ``features`` (B, D; the embedding used by OOD detectors). The batch dimension is always
dynamic; the length is dynamic when the model accepts variable length and no fixed-length
step (preprocessing operator, central window) is inside the graph.

Export is verified automatically: onnxruntime outputs must equal PyTorch outputs within
``rtol``/``atol`` at several batch sizes (and lengths), else :class:`BundleError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from spectrakit.core.errors import BundleError, ModelError
from spectrakit.core.progress import progress
from spectrakit.export._graph_steps import graph_step
from spectrakit.export.cls_query import cls_query_only
from spectrakit.export.optimize import OPTIMIZED_FILE, optimize_onnx
from spectrakit.export.single import SINGLE_FILE, single_onnx
from spectrakit.models.input_crop import crop_unit

__all__ = ["export_onnx", "split_pipeline"]

log = logging.getLogger(__name__)
ONNX_FILE = "model.onnx"
EXPORT_FILE = "export.json"


def split_pipeline(pipeline: Any, axis: Any) -> tuple[int, list[nn.Module]]:
    """Split a fitted pipeline into a runtime prefix and an in-graph tail.

    Returns
    -------
    n_runtime : int
        Number of leading steps the runtime applies with NumPy.
    tail : list of nn.Module
        Torch forms of the remaining steps, in order.
    """
    if pipeline is None:
        return 0, []
    steps = [s for _, s in pipeline.steps]
    axes = [axis]
    for s in steps:
        axes.append(s.output_axis(axes[-1]))
    tail: list[nn.Module] = []
    k = len(steps)
    while k > 0:
        mod = graph_step(steps[k - 1], axes[k - 1].values)
        if mod is None:
            break
        tail.insert(0, mod)
        k -= 1
    return k, tail


class _Exported(nn.Module):
    """Preprocessing tail per channel, the central window, then the model."""

    def __init__(
        self,
        model: nn.Module,
        tails: list[list[nn.Module]],
        window: tuple[int, int] | None,
        axis_input: bool,
        extra_input: bool,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        self.normalize = normalize
        self.model = model
        self.tails = nn.ModuleList(nn.Sequential(*t) for t in tails)
        self.window = window
        self.axis_input = axis_input
        self.extra_input = extra_input

    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if any(len(t) for t in self.tails):
            x64 = x.double()  # preprocessing in float64 as in NumPy; the model sees float32
            x = torch.stack([t(x64[:, c]) for c, t in enumerate(self.tails)], dim=1).float()
        if self.window is not None:
            x = x[:, :, self.window[0] : self.window[1]]
        if self.normalize:  # per-spectrum standardization, as Predictor.prepare
            from spectrakit.models.inputs import normalize_spectra

            x = normalize_spectra(x)
        i = 0
        axis = extra = None
        if self.axis_input:
            axis, i = rest[0], 1
        if self.extra_input:
            extra = rest[i]
        feats = self.model.forward_features(x, axis=axis, extra=extra)
        return self.model.forward_head(feats), feats


def _graph_plan(predictor: Any) -> dict[str, Any]:
    pre = predictor.preprocessor
    if getattr(pre, "layout", None) is not None:
        # measured channels: each channel's pipelines run in the runtime, on its own axis
        n_runtime = [0 if p is None else len(p.steps) for p in pre.pipelines]
        window = None if pre.window_ == (0, pre.full_length_) else pre.window_
        tails = [[] for _ in pre.pipelines]
        return {"n_runtime": n_runtime, "tails": tails, "window": window,
                "length": pre.full_length_}  # fmt: skip
    n_runtime, tails = [], []
    for pipe in pre.pipelines:
        k, tail = split_pipeline(pipe, predictor.axis)
        n_runtime.append(k)
        tails.append(tail)
    if getattr(predictor, "accepts_any_grid", False):
        # the graph takes the axis as an input: the runtime crops to whole patches itself
        # (as the PyTorch predictor does), so the graph has no fixed window
        length = predictor.model_axis.n_points
        return {"n_runtime": n_runtime, "tails": tails, "window": None, "length": length}
    full_axis = (
        predictor.axis if pre.pipelines[0] is None else pre.pipelines[0].output_axis(predictor.axis)
    )
    start = int(np.argmin(np.abs(full_axis.values - predictor.model_axis.values[0])))
    stop = start + predictor.model_axis.n_points
    window = None if (start, stop) == (0, full_axis.n_points) else (start, stop)
    return {"n_runtime": n_runtime, "tails": tails, "window": window, "length": full_axis.n_points}


def _inputs(model: nn.Module, predictor: Any, batch: int, length: int, plan: dict) -> dict:
    rng = np.random.default_rng(batch * 1000 + length)
    c = len(predictor.preprocessor.pipelines)
    x = rng.normal(size=(batch, c, length)).astype(np.float32)
    feeds = {"spectra": x}
    if getattr(model, "axis_aware", False):
        ax = predictor.model_axis.values
        if length != ax.size:  # variable length: a grid of the same spacing
            ax = ax[0] + predictor.model_axis.spacing * np.arange(length)
        feeds["axis"] = ax.astype(np.float32)
    if getattr(model, "n_extra", 0):
        feeds["extra"] = rng.normal(size=(batch, model.n_extra)).astype(np.float32)
    return feeds


def export_onnx(
    bundle: str | Path,
    *,
    opset: int = 18,
    batch_sizes: tuple[int, ...] = (1, 3, 16),
    lengths: tuple[int, ...] | None = None,
    rtol: float = 1e-3,
    atol: float = 1e-4,
    include_preprocessing: bool = True,
    optimize: str | None = "extended",
    single: bool = True,
    cls_query: bool = True,
) -> dict[str, Any]:
    """Export the bundle's model to ``model.onnx`` inside the bundle and verify it.

    Parameters
    ----------
    bundle : path-like
        Bundle directory.
    opset : int, default=18
        ONNX opset.
    batch_sizes : tuple of int
        Batch sizes at which onnxruntime must match PyTorch.
    lengths : tuple of int, optional
        Extra input lengths checked when the length is dynamic (default: L, L/2, 2L rounded
        to the model's patch size).
    rtol, atol : float
        Parity tolerance (``|ort - torch| <= atol + rtol * |torch|``).
    include_preprocessing : bool, default=True
        Put the expressible preprocessing tail into the graph.
    optimize : {"extended", "basic", "all"} or None, default="extended"
        Also save onnxruntime's offline-optimised graph as ``model.opt.onnx`` (verified
        against PyTorch like ``model.onnx``; the runtime prefers it). None: plain graph only.
    single : bool, default=True
        With ``optimize``, also save ``model.one.onnx``: the graph specialised to one
        spectrum on the bundle's own axis (fixed shapes, the axis folded in; verified
        against PyTorch), which the runtime runs for single spectra.
    cls_query : bool, default=True
        Trace the last block of CLS-pooling transformers for the CLS row only
        (:mod:`~spectrakit.export.cls_query`): the same outputs, less work. False: every row.

    Returns
    -------
    dict
        The export record (also written to ``export.json`` in the bundle): inputs, dynamic
        axes, preprocessing split, parity (max abs/rel error per batch size and length).
    """
    predictor, model = _load_exportable(bundle)
    plan = _export_plan(predictor, model, include_preprocessing)
    plan["cls_query"] = cls_query
    wrapper = _wrap(model, predictor, plan)
    data, exporter, names = _trace(wrapper, model, predictor, plan, opset)
    tol = (rtol, atol)
    check = (wrapper, model, predictor, plan, batch_sizes, lengths, plan["dynamic_length"], *tol)
    record = _export_record(model, plan, names, opset, exporter, rtol, atol)
    graphs = _verified_graphs(data, record, check, optimize, single)
    _write_export(bundle, graphs, record)
    return record


def _trace(
    wrapper: nn.Module, model: nn.Module, predictor: Any, plan: dict[str, Any], opset: int
) -> tuple[bytes, str, list[str]]:
    """Export ``wrapper`` on a two-spectrum sample; ``plan["dynamic_length"]`` is updated.

    With ``plan["cls_query"]``, the last block of CLS-pooling transformers is traced for
    the CLS row only (:mod:`~spectrakit.export.cls_query`); it is then updated to whether
    that applied.
    Returns the ONNX bytes, the exporter used and the graph's input names.
    """
    sample = _inputs(model, predictor, 2, plan["length"], plan)
    names = list(sample)
    args = tuple(torch.from_numpy(sample[n]) for n in names)
    attempts = _export_attempts(_dynamic_axes(names, plan["dynamic_length"]))
    reduce = cls_query_only(model) if plan["cls_query"] else contextlib.nullcontext(False)
    with reduce as plan["cls_query"]:
        data, exporter, dynamic = _export_first(wrapper, args, names, attempts, opset, predictor)
    plan["dynamic_length"] = _has_length_axis(dynamic)
    return data, exporter, names


def _verified_graphs(
    data: bytes, record: dict[str, Any], check: tuple, optimize: str | None, single: bool
) -> dict[str, bytes]:
    """Verify the plain graph, then add the optimised and one-spectrum graphs if asked.

    Each graph's parity against PyTorch goes into ``record`` (updated in place).
    """
    record["parity"] = _verify(data, *check)
    graphs = {ONNX_FILE: data}
    if optimize:
        optimized, opt_record = optimize_onnx(data, optimize)
        record["optimized"] = {**opt_record, "parity": _verify(optimized, *check)}
        graphs[OPTIMIZED_FILE] = optimized
    if optimize and single:
        graphs[SINGLE_FILE], record["single"] = _single_graph(data, optimize, check)
    return graphs


def _single_graph(data: bytes, level: str, check: tuple) -> tuple[bytes, dict[str, Any]]:
    """The one-spectrum graph (:func:`single_onnx`) and its record, verified against PyTorch."""
    wrapper, model, predictor, plan, *_, rtol, atol = check
    feeds = _inputs(model, predictor, 1, plan["length"], plan)
    graph, record = single_onnx(data, feeds, level)
    import onnxruntime as ort

    sess = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    record["parity"] = _compare(sess, wrapper, feeds, rtol, atol)
    return graph, record


def _load_exportable(bundle: str | Path) -> tuple[Any, nn.Module]:
    """Load the bundle's PyTorch predictor and its model in evaluation mode."""
    from spectrakit.predict.loader import load

    predictor = load(bundle)
    model = predictor.model.eval()
    if getattr(model, "family", "") == "gaf2d" and not hasattr(torch.onnx, "export"):
        raise ModelError("this torch build cannot export ONNX")
    return predictor, model


def _export_plan(predictor: Any, model: nn.Module, include_preprocessing: bool) -> dict[str, Any]:
    """The graph plan with the preprocessing choice applied and whether the length is dynamic.

    Without the preprocessing tail in the graph every step runs at runtime. The length is
    dynamic only for variable-length models with no fixed-length step inside the graph (a
    preprocessing operator, the central window, tabular features).
    """
    plan = _graph_plan(predictor)
    if not include_preprocessing:
        plan["tails"] = [[] for _ in plan["tails"]]
        plan["n_runtime"] = [
            0 if p is None else len(p.steps) for p in predictor.preprocessor.pipelines
        ]
    fixed = plan["window"] is not None or any(len(t) for t in plan["tails"])
    fixed = fixed or bool(predictor.config.extra_features.get("names"))
    plan["dynamic_length"] = bool(getattr(model, "variable_length", False)) and not fixed
    return plan


def _wrap(model: nn.Module, predictor: Any, plan: dict[str, Any]) -> _Exported:
    """The module the exporter traces: preprocessing tail, window, normalisation, model."""
    return _Exported(
        model,
        plan["tails"],
        plan["window"],
        axis_input=bool(getattr(model, "axis_aware", False)),
        extra_input=bool(getattr(model, "n_extra", 0)),
        normalize=bool(predictor.config.normalize),
    ).eval()


def _dynamic_axes(names: list[str], dynamic_length: bool) -> dict[str, dict[int, str]]:
    """ONNX dynamic axes: the batch always; the length of spectra (and axis) when dynamic."""
    dyn: dict[str, dict[int, str]] = {"spectra": {0: "batch"}, "outputs": {0: "batch"}}
    dyn["features"] = {0: "batch"}
    if dynamic_length:
        dyn["spectra"][2] = "length"
        if "axis" in names:
            dyn["axis"] = {0: "length"}
    if "extra" in names:
        dyn["extra"] = {0: "batch"}
    return dyn


def _has_length_axis(dynamic: dict[str, dict[int, str]]) -> bool:
    return any("length" in v.values() for v in dynamic.values())


def _export_attempts(dyn: dict[str, dict[int, str]]) -> list[tuple[dict, bool]]:
    """(dynamic axes, use dynamo) in the order tried.

    The TorchScript exporter is fast; the dynamo exporter covers ops it cannot (adaptive
    pooling on symbolic sizes); a fixed length is the last resort for variable-length models.
    """
    attempts = [(dyn, False), (dyn, True)]
    if _has_length_axis(dyn):
        fixed = {k: {a: n for a, n in v.items() if n != "length"} for k, v in dyn.items()}
        attempts += [(fixed, False), (fixed, True)]
    return attempts


def _export_first(
    wrapper: nn.Module,
    args: tuple,
    names: list[str],
    attempts: list[tuple[dict, bool]],
    opset: int,
    predictor: Any,
) -> tuple[bytes, str, dict[str, dict[int, str]]]:
    """The ONNX bytes of the first attempt that exports, its exporter and dynamic axes."""
    errors = []
    for dynamic, dynamo in attempts:
        try:
            data = _export_bytes(wrapper, args, names, dynamic, opset, dynamo)
            return data, "dynamo" if dynamo else "torchscript", dynamic
        except Exception as exc:  # the exporter raises many types; keep the first line
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    raise ModelError(
        f"model {predictor.config.family.name} cannot be exported to ONNX",
        got=errors[-1],
        fix="use the PyTorch predictor (spectrakit.load) for this model family",
    )


def _export_record(
    model: nn.Module,
    plan: dict[str, Any],
    names: list[str],
    opset: int,
    exporter: str,
    rtol: float,
    atol: float,
) -> dict[str, Any]:
    """The export record written to ``export.json`` (parity is added after verification)."""
    dynamic_length = plan["dynamic_length"]
    return {
        "onnx_file": ONNX_FILE,
        "opset": opset,
        "exporter": exporter,
        "inputs": names,
        "outputs": ["outputs", "features"],
        "dynamic_batch": True,
        "dynamic_length": dynamic_length,
        "input_length": None if dynamic_length else plan["length"],
        "runtime_steps": plan["n_runtime"],
        "graph_steps": [len(t) for t in plan["tails"]],
        "window": plan["window"],
        "cls_query": plan["cls_query"],  # the last block computes the CLS row only
        "patch_size": crop_unit(model),  # the runtime crops own-grid input to whole ones
        "tolerance": {"rtol": rtol, "atol": atol},
        "parity": [],
        "torch_version": torch.__version__,
    }


def _write_export(bundle: str | Path, graphs: dict[str, bytes], record: dict[str, Any]) -> None:
    """Add the graphs (file name -> bytes) and the record to the bundle (atomic, hashed)."""
    from spectrakit.bundle import add_file

    for name, graph in graphs.items():
        add_file(bundle, name, graph)
    add_file(bundle, EXPORT_FILE, json.dumps(record, indent=2).encode())


def verify_lengths(model: nn.Module, length: int, given: tuple[int, ...] | None) -> tuple:
    """Input lengths a dynamic-length graph is checked at: L, L/2 and 2L by default.

    Only lengths the model accepts: at least its ``min_length`` (a CNN's receptive field)
    and whole patches; a half length below the minimum is replaced by the minimum.
    """
    p = crop_unit(model)
    low = -(-max(int(getattr(model, "min_length", 1) or 1), p) // p) * p
    if given:
        bad = [n for n in given if n < low or n % p]
        if bad:
            raise ModelError(
                "the model does not accept these verification lengths",
                expected=f"multiples of {p} of at least {low} points",
                got=", ".join(map(str, bad)),
            )
        return tuple(given)
    half = max(low, (length // 2) // p * p)
    return tuple(sorted({length, half, (2 * length) // p * p}))


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporters' graph dumps (printed by C++ on stdout) and registration logs.

    Failures are reported by the caller as one clear line, so nothing of value is lost.
    """
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [lg.level for lg in loggers]
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            os.dup2(devnull.fileno(), 1)
            for lg in loggers:
                lg.setLevel(logging.ERROR)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _export_bytes(
    wrapper: nn.Module, args: tuple, names: list[str], dynamic: dict, opset: int, dynamo: bool
) -> bytes:
    with tempfile.TemporaryDirectory() as tmp, _quiet_exporter():
        path = Path(tmp) / ONNX_FILE
        torch.onnx.export(
            wrapper,
            args,
            str(path),
            input_names=names,
            output_names=["outputs", "features"],
            dynamic_axes=dynamic,
            opset_version=opset,
            dynamo=dynamo,
            **({"external_data": False, "verbose": False} if dynamo else {}),
        )
        return path.read_bytes()


def _verify(
    data, wrapper, model, predictor, plan, batch_sizes, lengths, dynamic_length, rtol, atol
) -> list[dict[str, Any]]:
    import onnxruntime as ort

    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    length = plan["length"]
    lengths = verify_lengths(model, length, lengths) if dynamic_length else (length,)
    results = []
    cases = [(n, b) for n in lengths for b in batch_sizes]
    for n, b in progress(cases, len(cases), "verify ONNX", unit="case"):
        results += _compare(sess, wrapper, _inputs(model, predictor, b, n, plan), rtol, atol)
    return results


def _compare(sess, wrapper, feeds: dict[str, np.ndarray], rtol: float, atol: float) -> list:
    """Parity records of one input: the session's outputs against PyTorch's.

    Inputs the graph does not take (an axis folded into it as a constant) are not fed.

    Raises
    ------
    BundleError
        An output outside ``atol + rtol * |torch|``.
    """
    b, n = feeds["spectra"].shape[0], feeds["spectra"].shape[-1]
    with torch.no_grad():
        ref = [t.numpy() for t in wrapper(*(torch.from_numpy(v) for v in feeds.values()))]
    taken = {i.name for i in sess.get_inputs()}
    got = sess.run(None, {k: v for k, v in feeds.items() if k in taken})
    results = []
    for name, r, g in zip(("outputs", "features"), ref, got, strict=True):
        err = np.abs(g - r)
        ok = bool(np.all(err <= atol + rtol * np.abs(r)))
        results.append(
            {"batch": b, "length": n, "output": name, "max_abs_err": float(err.max()), "ok": ok}
        )
        if not ok:
            raise BundleError(
                "ONNX export does not match PyTorch",
                expected=f"|ort - torch| <= {atol} + {rtol} * |torch|",
                got=f"max error {err.max():.3g} for {name} at batch {b}, length {n}",
                fix="report this model family; use the PyTorch predictor meanwhile",
            )
    return results
