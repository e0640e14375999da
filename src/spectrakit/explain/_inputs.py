"""Turn ``(model or predictor, spectra, target)`` into tensors a method can attribute."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import AxisError, DataError, ModelError, SpectraError
from spectrakit.core.spectra import Spectra

__all__ = ["Prepared", "prepare", "resolve_target"]


@dataclass
class Prepared:
    """Model inputs ready for attribution.

    Attributes
    ----------
    model : torch.nn.Module
        The model in eval mode.
    x : Tensor of shape (n, C, L)
        Model inputs (float32).
    axis : SpectralAxis
        The axis of the model inputs (length L).
    forward : callable
        ``forward(x) -> (n, n_outputs)`` with the axis bound for axis-aware models.
    classes : list of str or None
        Output names when known.
    meta : DataFrame
        Per-spectrum metadata.
    channels : tuple of str
        Separately measured channels (empty: one spectrum per sample); the model-input
        channels are theirs in channel-major order, P pipelines each.
    channel_axes : tuple of SpectralAxis
        Each measured channel's model-input axis (L points).
    """

    model: torch.nn.Module
    x: torch.Tensor
    axis: SpectralAxis
    forward: Callable[[torch.Tensor], torch.Tensor]
    classes: list[str] | None
    meta: pd.DataFrame
    channels: tuple[str, ...] = ()
    channel_axes: tuple[SpectralAxis, ...] = ()

    def reduce(self, attr: torch.Tensor) -> torch.Tensor:
        """Attributions (n, C_in, L) summed over input channels.

        Returns (n, L), or (n, C, L) with measured channels (each over its pipelines).
        """
        if not self.channels:
            return attr.sum(dim=1)
        n, c_in, length = attr.shape
        return attr.reshape(n, len(self.channels), c_in // len(self.channels), length).sum(2)

    @property
    def axis_tensor(self) -> torch.Tensor:
        """The axis as a float32 tensor of shape (L,)."""
        return self.axis.to_torch()


def _is_predictor(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("model", "prepare", "axis")) and not isinstance(
        obj, torch.nn.Module
    )


def _model_input_length(model: torch.nn.Module) -> int | None:
    if getattr(model, "variable_length", False):
        return None
    length = getattr(model, "input_length", None)
    if length is None:
        try:
            from spectrakit.models import model_config

            length = model_config(model)["kwargs"].get("input_length")
        except (ImportError, KeyError, AttributeError, TypeError, SpectraError):  # unregistered
            length = None
    return None if length is None else int(length)


def _map_axis(spectra: Spectra, model_axis: SpectralAxis | None) -> Spectra:
    """Bring ``spectra`` onto ``model_axis`` (resample inside its range only)."""
    if model_axis is None or spectra.axis.allclose(model_axis, rtol=1e-6, atol=1e-9):
        return spectra
    ax = spectra.axis
    unmappable = (
        ax.unit != model_axis.unit
        or ax.kind != model_axis.kind
        or model_axis.min < ax.min - 0.5 * abs(ax.spacing)
        or model_axis.max > ax.max + 0.5 * abs(ax.spacing)
    )
    if unmappable:
        raise AxisError(
            "the spectra's axis cannot be mapped onto the model's axis",
            expected=f"spectra covering {model_axis.describe()} ({model_axis.kind})",
            got=f"{ax.describe()} ({ax.kind})",
            fix="convert the unit (spectra.convert) or use spectra that cover the model's range",
        )
    return spectra.resample(model_axis, fill="edge")


def prepare(
    model_or_predictor: Any,
    spectra: Spectra | np.ndarray | torch.Tensor,
    *,
    axis: SpectralAxis | None = None,
    classes: Sequence[str] | None = None,
) -> Prepared:
    """Resolve a model or predictor and spectra into :class:`Prepared` inputs.

    Parameters
    ----------
    model_or_predictor : SpectralModel or Predictor
        A predictor applies its own preprocessing and axis; a raw model takes the spectra
        as they are (resampled onto ``axis`` when given).
    spectra : Spectra, or array/tensor of shape (n, L) or (n, C, L)
        Spectra to explain; arrays need ``axis``.
    axis : SpectralAxis, optional
        Axis the raw model expects (default: the spectra's own axis).
    classes : sequence of str, optional
        Output names for a raw model.
    """
    channels: tuple[tuple[str, ...], tuple[SpectralAxis, ...]] = ((), ())
    if _is_predictor(model_or_predictor):
        model = model_or_predictor.model
        x, model_axis, names, meta = _from_predictor(model_or_predictor, spectra)
        channels = _measured(model_or_predictor)
    elif isinstance(model_or_predictor, torch.nn.Module):
        model, names = model_or_predictor, None
        x, model_axis, meta = _from_model_inputs(spectra, axis)
    else:
        raise ModelError(
            "cannot explain this object",
            expected="a spectrakit model (torch.nn.Module) or a Predictor",
            got=type(model_or_predictor).__name__,
            fix="pass spectrakit.load(bundle_dir) or a model from spectrakit.models.create",
        )
    _check_inputs(model, x, model_axis)
    model.eval()
    axis_t = model_axis.to_torch() if getattr(model, "axis_aware", False) else None

    def forward(inp: torch.Tensor) -> torch.Tensor:
        out = model(inp) if axis_t is None else model(inp, axis=axis_t)
        return out if out.ndim == 2 else out.reshape(out.shape[0], -1)

    names = list(classes) if classes is not None else (list(names) if names else None)
    return Prepared(model, x, model_axis, forward, names, meta, *channels)


def _measured(pred: Any) -> tuple[tuple[str, ...], tuple[SpectralAxis, ...]]:
    """The measured channels of a predictor and their model-input axes (else empty)."""
    layout = getattr(pred, "channel_layout", None)
    if layout is None:
        return (), ()
    return tuple(layout.names), tuple(pred.preprocessor.channel_axes_)


def _from_predictor(pred: Any, spectra: Any) -> tuple[torch.Tensor, SpectralAxis, Any, Any]:
    """A predictor's model inputs (its preprocessing applied), axis, output names and meta."""
    from spectrakit.predict.core import measured_input

    # measured channels packed (each is explained on its own axis, see prepare); a channel
    # set for a one-spectrum model is refused
    spectra = measured_input(spectra, getattr(pred, "channel_layout", None))
    if not isinstance(spectra, Spectra):
        raise DataError(
            "a predictor explains Spectra",
            expected="a Spectra object",
            got=type(spectra).__name__,
            fix="wrap the array: Spectra(values, axis)",
        )
    if hasattr(pred, "prepare_inputs"):
        # the axis the inputs are on: an axis-aware model keeps the instrument's grid
        x, model_axis = pred.prepare_inputs(spectra)
    else:
        x, model_axis = pred.prepare(spectra), getattr(pred, "model_axis", None) or pred.axis
    names = getattr(pred, "classes", None) or getattr(pred, "targets", None)
    return torch.as_tensor(x, dtype=torch.float32), model_axis, names, spectra.meta


def _from_model_inputs(
    spectra: Spectra | np.ndarray | torch.Tensor, axis: SpectralAxis | None
) -> tuple[torch.Tensor, SpectralAxis, pd.DataFrame]:
    """Inputs (n, C, L) of a raw model, their axis and meta (resampled onto ``axis``)."""
    if isinstance(spectra, Spectra):
        mapped = _map_axis(spectra, axis)
        return mapped.to_torch(), mapped.axis, mapped.meta
    if axis is None:
        raise AxisError(
            "an array of spectra needs its axis",
            expected="axis=SpectralAxis(...)",
            got="no axis",
            fix="pass axis=, or a Spectra object",
        )
    x = torch.as_tensor(np.asarray(spectra), dtype=torch.float32)
    x = x.unsqueeze(1) if x.ndim == 2 else x
    return x, axis, pd.DataFrame(index=range(x.shape[0]))


def _check_inputs(model: Any, x: torch.Tensor, model_axis: SpectralAxis) -> None:
    """Refuse inputs the model cannot explain: shape, extra features, channels, length."""
    if x.ndim != 3 or x.shape[-1] != model_axis.n_points:
        raise DataError(
            "model inputs have the wrong shape",
            expected=f"(n, C, {model_axis.n_points})",
            got=f"{tuple(x.shape)}",
        )
    if getattr(model, "n_extra", 0):
        raise ModelError(
            "cannot explain a model that also takes tabular extra features",
            expected="a model whose output depends on the spectra only (n_extra=0)",
            got=f"n_extra={model.n_extra}",
            fix="explain a model trained without extra_features",
        )
    want_c = getattr(model, "in_channels", x.shape[1])
    if x.shape[1] != want_c:
        raise DataError(
            "spectra have the wrong number of channels for this model",
            expected=f"{want_c} channel(s)",
            got=f"{x.shape[1]}",
        )
    length = _model_input_length(model)
    if length is not None and length != x.shape[-1]:
        raise AxisError(
            "the spectra do not have the length the model was built for",
            expected=f"{length} points",
            got=f"{x.shape[-1]} points ({model_axis.describe()})",
            fix="pass axis= (the model's axis) so the spectra are resampled, or use a Predictor",
        )


def resolve_target(
    prep: Prepared, target: int | str | Sequence[int | str] | None
) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Output index per spectrum, and its name.

    ``None`` explains the predicted class (argmax) of a classifier, output 0 otherwise.
    """
    n = prep.x.shape[0]
    with torch.no_grad():
        out = prep.forward(prep.x)
    n_out = out.shape[1]
    names = prep.classes if prep.classes and len(prep.classes) == n_out else None
    if target is None:
        idx = out.argmax(dim=1) if n_out > 1 else torch.zeros(n, dtype=torch.long)
    else:
        items = [target] * n if isinstance(target, int | str | np.integer) else list(target)
        if len(items) != n:
            raise DataError(
                "one target per spectrum is needed",
                expected=f"a single class or {n} targets",
                got=f"{len(items)} targets",
            )
        idx = torch.as_tensor([_one_target(t, n_out, names) for t in items], dtype=torch.long)
    labels = tuple(names[i] if names else str(int(i)) for i in idx.tolist())
    return idx, labels


def _one_target(t: int | str, n_out: int, names: list[str] | None) -> int:
    valid = ", ".join(names) if names else f"0..{n_out - 1}"
    if isinstance(t, str) and names and t in names:
        return names.index(t)
    if isinstance(t, int | np.integer) and not isinstance(t, bool) and 0 <= int(t) < n_out:
        return int(t)
    if isinstance(t, str) and not names and t.strip().isdigit() and int(t) < n_out:
        return int(t)
    raise ModelError(
        f"the model has no output {t!r}",
        expected=f"a class name or index among {valid}",
        got=repr(t),
        fix="check the class names with predictor.classes",
    )
