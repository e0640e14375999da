"""The model behind the service: one predictor per process, called from one thread.

With ``runtime="auto"`` a bundle that has an ONNX export is served by onnxruntime (no torch
in the request path); explanations need gradients and load the PyTorch predictor on first use.
The preprocessing is rebuilt once when the bundle loads and warmed up (compiled kernels, first
graph run) before the service reports ready.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.bundle.config import BundleConfig
from spectrakit.core.channel_set import ChannelSet
from spectrakit.core.spectra import Spectra
from spectrakit.serve.codec import Decoded
from spectrakit.serve.errors import BadRequest

__all__ = ["Engine", "check_bundle", "check_finite", "with_ids"]

log = logging.getLogger("spectrakit.serve")


def _has_export(model: str | Path) -> bool:
    from spectrakit.bundle import Bundle

    return Bundle.is_bundle(model) and Bundle(model).config.export


def _load(model: Any, runtime: str, threads: int, key: str | None = None) -> tuple[Any, str]:
    if not isinstance(model, str | Path):
        return model, "torch"
    signature = {"key": key, "require_signature": key is not None}
    if runtime == "onnx" or (runtime == "auto" and _has_export(model)):
        from spectrakit.predict.runtime import load_onnx

        return load_onnx(model, threads=threads, **signature), "onnx"
    import torch

    from spectrakit.predict.loader import load

    torch.set_num_threads(threads)
    return load(model, **signature), "torch"


def check_bundle(model: str | Path, key: str | None = None) -> None:
    """Verify a bundle (and its signature with ``key``) without loading its model.

    Raises
    ------
    BundleError
        When a file, checksum or the signature is bad.
    """
    from spectrakit.bundle import Bundle

    bundle = Bundle(model)
    bundle.verify()
    bundle.check_signature(key, required=key is not None)


class Engine:
    """A loaded bundle with the calls the routes need.

    Parameters
    ----------
    model : str, Path or Predictor
        Bundle folder/zip, or an already loaded predictor.
    runtime : {"auto", "onnx", "torch"}
    threads : int
        Intra-op threads of the inference engine.
    key : str, optional
        Key file that must verify the bundle's signature (``serve --require-signature``).
    """

    def __init__(
        self, model: Any, runtime: str = "auto", threads: int = 1, key: str | None = None
    ) -> None:
        self.source = model
        self.threads = threads
        self.key = key
        self.predictor, self.runtime = _load(model, runtime, threads, key)
        self._torch = self.predictor if self.runtime == "torch" else None
        self.axis = self.predictor.axis
        self.config: BundleConfig = self.predictor.config
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="spectrakit-predict")

    @property
    def name(self) -> str | None:
        """Model family name."""
        return self.config.family.name

    @property
    def card(self) -> str | None:
        """The bundle's model card (markdown), or None when it has none."""
        bundle = getattr(self.predictor, "bundle", None)
        return None if bundle is None else bundle.card_text()

    @property
    def accepts_any_grid(self) -> bool:
        """Whether the model keeps a request's own grid (axis-aware, no fitted preprocessing)."""
        return bool(getattr(self.predictor, "accepts_any_grid", False))

    def torch_predictor(self) -> Any:
        """The PyTorch predictor (loaded on first use when ONNX serves predictions)."""
        if self._torch is None:
            from spectrakit.predict.loader import load

            self._torch = load(self.source, key=self.key, require_signature=self.key is not None)
        return self._torch

    def warm_up(self) -> None:
        """One prediction on a smooth synthetic spectrum, so no request pays for first calls."""
        x = np.linspace(0.0, 3.0 * math.pi, self.axis.n_points)
        try:
            self.predict_values(1.0 + 0.1 * np.sin(x)[None, :])
        except Exception as exc:  # a bundle that cannot predict still answers /model
            log.warning("warm-up prediction failed: %s", exc)

    # ------------------------------------------------------------------ conversions
    def spectra(self, decoded: Decoded) -> Spectra:
        """The request's spectra (on their own axis when given, else the bundle's)."""
        meta: Any = None
        if decoded.meta_json is not None:
            import io

            import pandas as pd

            meta = pd.read_json(io.StringIO(decoded.meta_json), orient="split", dtype=False)
        elif decoded.ids is not None:
            meta = {"id": decoded.ids}
        if decoded.channels is not None:
            from spectrakit.serve.channels import channel_set

            return channel_set(decoded, getattr(self.predictor, "channel_layout", None), meta)
        ax = self.axis
        if decoded.axis is None:
            self.check_length(decoded.values)
            return Spectra(decoded.values, ax, meta)
        unit = decoded.unit or ax.unit
        same_unit = unit == ax.unit
        return Spectra(
            decoded.values,
            decoded.axis,
            meta,
            unit=unit,
            kind=decoded.kind or (ax.kind if same_unit else None),
            laser_wavelength=decoded.laser_wavelength or ax.laser_wavelength,
        )

    def check_length(self, values: np.ndarray) -> None:
        """Refuse (422) values that are not one per point of the bundle axis."""
        ax = self.axis
        if values.shape[1] != ax.n_points:
            raise BadRequest(
                422,
                f"expected {ax.n_points} values per spectrum (the model axis {ax.describe()}), "
                f"got {values.shape[1]}; send an 'axis' field to have the spectra resampled",
            )

    def on_model_axis(self, spectra: Spectra) -> np.ndarray | None:
        """Values (n, n_points) on the bundle axis for batching, or None (predict alone)."""
        if isinstance(spectra, Spectra) and spectra.axis == self.axis and not self.needs_meta:
            return spectra.values
        if self.needs_meta or self.accepts_any_grid:
            return None
        from spectrakit.predict.core import conform_axis, measured_input

        spectra = measured_input(spectra, getattr(self.predictor, "channel_layout", None))
        read_range = self.predictor.preprocessor.read_range()
        return conform_axis(spectra, self.axis, read_range).values

    @property
    def needs_meta(self) -> bool:
        """Whether the model reads tabular inputs from metadata columns (not in JSON bodies)."""
        return bool(getattr(self.predictor, "_extra", None) and self.predictor._extra.names)

    # ------------------------------------------------------------------ calls (one thread)
    def predict_values(self, values: np.ndarray) -> list[dict]:
        """Prediction records for spectra on the bundle axis (n, n_points).

        The lean path: the predictor's NumPy columns become the records directly, with no
        :class:`Spectra` where the graph holds the whole preprocessing and no DataFrame.
        """
        return self.predictor.predict_values(values).records()

    def predict_spectra(self, spectra: Spectra) -> list[dict]:
        """Prediction records, one per spectrum, with the caller's ids when given."""
        return with_ids(spectra, self.predictor.predict_arrays(spectra).records())

    def explain(self, spectra: Spectra, method: str, target: Any) -> dict:
        """Attributions as a JSON-able dict."""
        from spectrakit.explain import explain

        attr = explain(self.torch_predictor(), spectra, method=method, target=target)
        if isinstance(spectra, ChannelSet):  # one attribution per channel, on its own axis
            return {"method": method, "target": list(attr.target_names), "channels": {
                name: _attributions(one) for name, one in attr.items()}}  # fmt: skip
        return {"method": method, "target": list(attr.target_names), **_attributions(attr)}


def _attributions(attr: Any) -> dict:
    """``axis`` and ``attributions`` of one Attribution (422 when not finite)."""
    values = np.asarray(attr.values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise BadRequest(422, "the attributions are not finite for this input")
    return {"axis": np.asarray(attr.axis.values).tolist(), "attributions": values.tolist()}


def with_ids(source: Spectra | list[str] | None, records: list[dict]) -> list[dict]:
    """``records`` led by the caller's ``id`` (a list, or the spectra's ``id`` column)."""
    if isinstance(source, Spectra | ChannelSet):
        meta = source.meta
        source = meta["id"].astype(str).tolist() if "id" in meta.columns else None
    if source is None:
        return records
    return [{"id": i, **r} for i, r in zip(source, records, strict=True)]


def check_finite(records: list[dict]) -> list[dict]:
    """Refuse predictions that are not finite numbers (the input was beyond the model)."""
    for i, rec in enumerate(records):
        for key, value in rec.items():
            if type(value) is float and not math.isfinite(value):
                raise BadRequest(
                    422,
                    f"the model gave a non-finite {key!r} for spectrum {i}: the input is outside "
                    "what its preprocessing can handle; check the intensities' scale",
                )
    return records
