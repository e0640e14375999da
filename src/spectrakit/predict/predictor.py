"""Inference with a loaded bundle: axis checks, preprocessing, predictions, OOD scores."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from spectrakit.bundle.config import BundleConfig
from spectrakit.bundle.format import Bundle
from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import DataError, ModelError
from spectrakit.core.spectra import Spectra
from spectrakit.models.input_crop import crop_unit
from spectrakit.predict.core import (
    ExtraFeatures,
    any_grid_inputs,
    conform_axis,
    coverage,
    measured_input,
    on_axis_values,
)
from spectrakit.predict.result import Predictions, assemble_predictions

__all__ = ["Predictor", "conform_axis"]


class Predictor:
    """A loaded model bundle, ready to predict.

    Build it with :func:`spectrakit.load`.

    Attributes
    ----------
    model : SpectralModel
        The network (eval mode).
    bundle : Bundle
        The verified bundle it was loaded from.
    config : BundleConfig
        The bundle configuration.
    axis : SpectralAxis
        Axis of the raw spectra the model expects.
    model_axis : SpectralAxis
        Axis of the model input after preprocessing.
    pipeline : Pipeline or list of Pipeline or None
        Fitted preprocessing (a list with several input channels).
    targets : list of str
    classes : list of str or None
    task : str
    """

    def __init__(self, model: torch.nn.Module, bundle: Bundle) -> None:
        from spectrakit.models.heads import OutputSpec

        self.model = model
        self.bundle = bundle
        self.config: BundleConfig = bundle.config
        self.bundle_dir = bundle.path
        self.axis = self.config.axis
        self.model_axis = self.config.model_axis
        self.preprocessor = bundle.preprocessor()
        self.channel_layout = self.config.channel_layout
        pipes = self.preprocessor.pipelines
        self.pipeline = pipes[0] if len(pipes) == 1 else pipes
        self.targets = list(self.config.targets)
        self.classes = self.config.classes
        self.task = self.config.task
        out = self.config.output
        self.output = OutputSpec(**out) if out else None
        self._extra = ExtraFeatures(self.config.extra_features)
        self.extra_features = self._extra.names
        self.ood = _load_ood(bundle)

    def __repr__(self) -> str:
        return (
            f"Predictor({self.config.family.name}, task={self.task}, "
            f"targets={self.targets or self.classes}, axis={self.axis.describe()})"
        )

    # ------------------------------------------------------------------ inputs
    @property
    def accepts_any_grid(self) -> bool:
        """Axis-aware model without fitted preprocessing: any grid in the model's unit works."""
        return bool(getattr(self.model, "axis_aware", False)) and all(
            p is None for p in self.preprocessor.pipelines
        )

    def prepare(self, spectra: Spectra) -> torch.Tensor:
        """Model input (n, C, L): resampled onto the model axis when safe, preprocessed.

        Raises
        ------
        AxisError
            When the spectra cannot be brought onto the model's axis safely.
        """
        return self._prepare(spectra)[0]

    def prepare_inputs(self, spectra: Spectra) -> tuple[torch.Tensor, SpectralAxis]:
        """Model input (n, C, L) and the axis (L,) it lies on.

        For an axis-aware model fed on another grid that axis is the input's own grid
        (centre-cropped to whole patches), not the training axis.
        """
        return self._prepare(spectra)

    def _prepare(self, spectra: Spectra) -> tuple[torch.Tensor, SpectralAxis]:
        spectra = measured_input(spectra, self.channel_layout)
        if not isinstance(spectra, Spectra):
            raise DataError(
                "predictions need Spectra",
                expected="a spectrakit.Spectra (use spectrakit.read)",
                got=type(spectra).__name__,
            )
        if self._on_own_grid(spectra):
            # the model reads positions from the axis itself: keep the instrument's grid
            values, axis = any_grid_inputs(spectra, crop_unit(self.model))
            coverage(axis, self.axis)
            x = torch.from_numpy(values)
        else:
            spectra = conform_axis(spectra, self.axis, self.preprocessor.read_range())
            x, axis = torch.from_numpy(self.preprocessor.transform(spectra)), self.model_axis
        if self.config.normalize:
            from spectrakit.models.inputs import normalize_spectra

            x = normalize_spectra(x)
        return x, axis

    def _on_own_grid(self, spectra: Spectra) -> bool:
        ax = spectra.axis
        return self.accepts_any_grid and (ax.unit, ax.kind) == (self.axis.unit, self.axis.kind)

    def coverage(self, spectra: Spectra) -> float | None:
        """Fraction of the input axis inside the trained range (axis-aware models), else None."""
        if self.channel_layout is not None or not self._on_own_grid(spectra):
            return None
        axis = any_grid_inputs(spectra[:1], crop_unit(self.model))[1]
        return coverage(axis, self.axis, warn=False)

    def _extra_tensor(self, spectra: Spectra) -> torch.Tensor | None:
        extra = self._extra.values(spectra)
        return None if extra is None else torch.from_numpy(extra)

    def _batches(self, spectra: Spectra, batch_size: int):
        spectra = measured_input(spectra, self.channel_layout)
        x, axis = self._prepare(spectra)
        extra = self._extra_tensor(spectra)
        ax = axis.to_torch() if getattr(self.model, "axis_aware", False) else None
        for start in range(0, x.shape[0], batch_size):
            sl = slice(start, start + batch_size)
            yield x[sl], ax, None if extra is None else extra[sl]

    @torch.no_grad()
    def embed(self, spectra: Spectra, batch_size: int = 256) -> np.ndarray:
        """Embeddings (n, D) from ``model.forward_features``."""
        self.model.eval()
        out = [
            self.model.forward_features(x, axis=a, extra=e).float()
            for x, a, e in self._batches(spectra, batch_size)
        ]
        return torch.cat(out).numpy()

    @torch.no_grad()
    def raw_outputs(self, spectra: Spectra, batch_size: int = 256) -> torch.Tensor:
        """Undecoded model outputs (n, n_outputs)."""
        self.model.eval()
        out = [
            self.model(x, axis=a, extra=e).float() for x, a, e in self._batches(spectra, batch_size)
        ]
        return torch.cat(out)

    def predict(self, spectra: Spectra, batch_size: int = 256) -> pd.DataFrame:
        """Predictions, one row per spectrum.

        Returns
        -------
        DataFrame
            regression: one column per target (and ``<target>_std`` with an uncertainty
            head); classification: ``predicted`` and ``proba_<class>``; multi-label:
            ``<label>`` (bool) and ``proba_<label>``; plus ``ood_score`` and ``is_ood`` when
            the bundle has an out-of-distribution detector.
        """
        return self.predict_arrays(spectra, batch_size).frame()

    def predict_arrays(self, spectra: Spectra, batch_size: int = 256) -> Predictions:
        """:meth:`predict` as NumPy columns, without building a DataFrame (the lean path)."""
        if self.task == "pretrained" or self.output is None:
            raise ModelError(
                "this bundle is a pretrained encoder without a prediction head",
                expected="a fine-tuned bundle",
                got=f"task={self.task!r}",
                fix="fine-tune it: spectrakit finetune --init BUNDLE ... (embed() works as is)",
            )
        spectra = measured_input(spectra, self.channel_layout)
        raw = self.raw_outputs(spectra, batch_size).numpy()

        def ood_inputs() -> np.ndarray:
            from spectrakit.ood import detector_inputs

            return detector_inputs(self, spectra, self.ood)

        covered = self.coverage(spectra)
        return assemble_predictions(self, raw, ood_inputs, covered, spectra.values)

    def predict_values(self, values: np.ndarray, batch_size: int = 256) -> Predictions:
        """Predictions for intensities on the bundle's own axis, shape (n, L) or (L,)."""
        spectra = Spectra(on_axis_values(values, self.axis), self.axis)
        return self.predict_arrays(spectra, batch_size)


def _load_ood(bundle: Bundle) -> Any:
    if not bundle.config.ood:
        return None
    from spectrakit.ood import load_detector

    return load_detector(bundle)
