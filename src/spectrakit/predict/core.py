"""Inference pieces that need only NumPy: axis conformance and output decoding.

Both the PyTorch :class:`~spectrakit.predict.predictor.Predictor` and the ONNX runtime predictor
(:mod:`spectrakit.predict.runtime`) use these, so a prediction means the same thing whichever
engine computed the raw outputs.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.channel_set import ChannelLayout, ChannelSet
from spectrakit.core.errors import AxisError, DataError
from spectrakit.core.numeric import central_span
from spectrakit.core.spectra import Spectra
from spectrakit.core.spectra_inputs import as_values, check_finite
from spectrakit.predict.bounds import apply_bounds

__all__ = [
    "COVERAGE_OOD",
    "LOGVAR_RANGE",
    "NONE_COLUMN",
    "ExtraFeatures",
    "add_coverage",
    "any_grid_inputs",
    "conform_axis",
    "coverage",
    "coverage_columns",
    "decode_outputs_np",
    "measured_input",
    "on_axis_values",
    "prediction_columns",
    "predictions_frame",
]

#: below this fraction of input points inside the trained range, a prediction is flagged OOD
COVERAGE_OOD = 0.95
#: one-vs-rest predictions: true where no class score reaches its threshold
NONE_COLUMN = "none_of_classes"
#: log-variance is clamped to this range to keep exp() finite in low precision
LOGVAR_RANGE = (-12.0, 12.0)


def conform_axis(
    spectra: Spectra, axis: SpectralAxis, read_range: tuple[float, float] | None = None
) -> Spectra:
    """Bring ``spectra`` onto ``axis`` when that is safe, else raise :class:`AxisError`.

    Safe means: the same kind of axis (after a physical unit conversion, e.g. nm -> cm-1 or
    a Raman shift given the laser line) and the data covering the target range (up to half
    a point spacing); the spectra are then linearly resampled. Nothing that is used is
    extrapolated: with ``read_range`` (the part of ``axis`` the preprocessing reads, see
    :meth:`spectrakit.data.ChannelPreprocessor.read_range`), only that part must be
    covered, and the rest of ``axis``, which a leading crop drops, is filled with the
    edge values.

    Parameters
    ----------
    spectra : Spectra
        Input spectra.
    axis : SpectralAxis
        Axis the model expects.
    read_range : (float, float), optional
        Range of ``axis`` that must be covered (default: all of it).

    Returns
    -------
    Spectra
        Spectra on exactly ``axis``.
    """
    src = spectra.axis
    if src.n_points == axis.n_points and src.allclose(axis, rtol=1e-7, atol=1e-9):
        return spectra if src == axis else Spectra(spectra.values, axis, spectra.meta)
    tol = 0.5 * abs(axis.spacing) if axis.n_points > 1 else 1e-9
    lo, hi = (axis.min, axis.max) if read_range is None else read_range
    spectra = _same_numbers(spectra, axis, (lo + tol, hi - tol))
    spectra = _to_axis_unit(spectra, axis)
    _check_covers(spectra.axis, axis, (lo, hi), tol)
    return spectra.resample(axis, fill="edge")


def _to_axis_unit(spectra: Spectra, axis: SpectralAxis) -> Spectra:
    """``spectra`` converted to ``axis``'s unit and kind (unchanged when they already match).

    Raises
    ------
    AxisError
        An index or unknown axis on either side, or a conversion that is not possible.
    """
    src = spectra.axis
    if (src.unit, src.kind) == (axis.unit, axis.kind):
        return spectra
    if "index" in (src.kind, axis.kind) or "unknown" in (src.kind, axis.kind):
        raise AxisError(
            "input axis is incompatible with the model",
            expected=f"{axis.describe()} ({axis.kind})",
            got=f"{src.describe()} ({src.kind})",
            fix="read the file with its physical unit (--unit) or use a matching model",
        )
    try:
        return spectra.convert(
            axis.unit,
            kind=axis.kind,
            laser_wavelength=src.laser_wavelength or axis.laser_wavelength,
        )
    except AxisError as exc:
        raise AxisError(
            "input axis cannot be converted to the model's axis",
            expected=f"{axis.describe()} ({axis.kind})",
            got=f"{src.describe()} ({src.kind}): {exc.message}",
            fix=exc.fix or "convert the spectra to the model's unit first",
        ) from exc


def _check_covers(
    src: SpectralAxis, axis: SpectralAxis, span: tuple[float, float], tol: float
) -> None:
    """Refuse an input axis ``src`` that does not cover ``span`` (up to ``tol``) or has 1 point.

    Raises
    ------
    AxisError
        The data end inside the range that must be read, or there is one point only.
    """
    lo, hi = span
    if src.min > lo + tol or src.max < hi - tol:
        raise AxisError(
            "input spectra do not cover the model's axis range",
            expected=f"data covering {lo:g}-{hi:g} {axis.unit}",
            got=f"{src.min:g}-{src.max:g} {src.unit}",
            fix="measure the full range, or fine-tune a model on your range",
        )
    if src.n_points < 2:
        raise AxisError("cannot resample a single point", got=src.describe())


def measured_input(spectra: Any, layout: ChannelLayout | None) -> Any:
    """Input of a bundle with measured channels ``layout``: the packed channels.

    Every channel of a :class:`ChannelSet` is brought onto its own recorded axis
    (:func:`conform_axis`) and the channels are packed; already packed spectra pass. A
    bundle without measured channels (``layout`` None) gets ``spectra`` back unchanged and
    refuses a channel set.

    Raises
    ------
    DataError
        A missing channel, or one table of spectra for a multi-channel model (and back).
    """
    if layout is None:
        if isinstance(spectra, ChannelSet):
            raise DataError(
                "this model takes one spectrum per sample, not measured channels",
                expected="one table of spectra (--data)",
                got="channels " + ", ".join(spectra.names),
                fix="use a model trained on these channels (finetune --channel-files)",
            )
        return spectra
    if isinstance(spectra, ChannelSet):
        return layout.pack(spectra, conform=conform_axis)
    packed = layout.packed_axis
    if _is_packed(spectra, packed):
        return spectra
    got = spectra.axis.describe() if isinstance(spectra, Spectra) else type(spectra).__name__
    raise DataError(
        "this model takes separately measured channels " + ", ".join(layout.names),
        expected="one table per channel: " + ", ".join(layout.names),
        got=f"one table of spectra ({got})",
        fix="give --channel-files "
        + ",".join(f"{n}=FILE" for n in layout.names)
        + " (Python: spectrakit.io.read_channels)",
    )


def _is_packed(spectra: Any, packed: SpectralAxis) -> bool:
    """Whether ``spectra`` are measured channels packed already (on ``packed``)."""
    if not isinstance(spectra, Spectra) or spectra.axis.kind != "index":
        return False
    return spectra.n_points == packed.n_points and spectra.axis.allclose(packed)


def on_axis_values(values: Any, axis: SpectralAxis) -> np.ndarray:
    """Intensities given on ``axis`` as float32 (n, L), checked as :class:`Spectra` checks them.

    Parameters
    ----------
    values : array-like of shape (n, L) or (L,)
    axis : SpectralAxis
        The axis they lie on (L points).

    Raises
    ------
    DataError
        Not numbers, not one per axis point, or not finite.
    """
    vals = as_values(values)
    if vals.shape[1] != axis.n_points:
        raise DataError(
            "spectra and the model axis differ in length",
            expected=f"{axis.n_points} values per spectrum (the model axis {axis.describe()})",
            got=f"{vals.shape[1]}",
            fix="predict Spectra with their own axis to have them resampled",
        )
    check_finite(vals, allow_nan=False)
    return vals


_CM1_KINDS = {"wavenumber", "raman_shift"}


def _same_numbers(spectra: Spectra, axis: SpectralAxis, span: tuple[float, float]) -> Spectra:
    """A cm-1 axis read as the other cm-1 kind (``wavenumber`` vs ``raman_shift``), relabelled.

    A plain table read with ``--unit cm-1`` states kind ``wavenumber``, while a Raman
    reader states ``raman_shift`` for the very same numbers. When the numbers, taken as
    they are, cover the model's range and the physical conversion (shift = laser line -
    absolute wavenumber) would not, they are the model's kind mislabelled: they are read
    as such, with a warning that says how to state the kind. Anything else is left to the
    physical conversion (or its refusal).
    """
    src = spectra.axis
    if src.unit != "cm-1" or axis.unit != "cm-1" or {src.kind, axis.kind} != _CM1_KINDS:
        return spectra
    if src.min > span[0] or src.max < span[1]:
        return spectra
    laser = src.laser_wavelength or axis.laser_wavelength
    if laser is not None:
        try:
            converted = src.convert("cm-1", kind=axis.kind, laser_wavelength=laser)[0]
        except AxisError:
            converted = None
        if converted is not None and converted.min <= span[0] and converted.max >= span[1]:
            return spectra  # genuinely the other kind: convert physically
    warnings.warn(
        f"input axis {src.describe()} is labelled {src.kind!r} but its values are the "
        f"model's {axis.kind!r} range; read as {axis.kind} (state it with --kind {axis.kind})",
        UserWarning,
        stacklevel=3,
    )
    relabelled = replace(src, kind=axis.kind, laser_wavelength=src.laser_wavelength)
    if axis.kind == "wavenumber":
        relabelled = replace(relabelled, laser_wavelength=None)
    return Spectra(spectra.values, relabelled, spectra.meta, allow_nan=True)


def any_grid_inputs(spectra: Spectra, patch: int) -> tuple[np.ndarray, SpectralAxis]:
    """Inputs of an axis-aware model on the instrument's own grid: (n, 1, L) and its axis.

    The grid is centre-cropped to whole patches (``L = n_points // patch * patch``), the
    same for the PyTorch and the ONNX predictor.
    """
    ax = spectra.axis
    start, stop = central_span(ax.n_points, patch)
    if start == stop:
        raise AxisError(
            "spectra are shorter than one model patch",
            expected=f"at least {patch} points",
            got=f"{ax.n_points}",
        )
    values = np.array(spectra.values[:, None, start:stop], dtype=np.float32)
    return values, ax.with_values(ax.values[start:stop])


def coverage(axis: SpectralAxis, trained: SpectralAxis, warn: bool = True) -> float:
    """Fraction of ``axis``'s points inside the range the model was trained on.

    An axis-aware model accepts any grid, but positions it never saw are extrapolation:
    below 1 a warning states the covered fraction (predictions also carry it, and below
    :data:`COVERAGE_OOD` they are flagged out of distribution).
    """
    tol = 0.5 * abs(trained.spacing) if trained.n_points > 1 else 0.0
    v = axis.values
    inside = float(np.mean((v >= trained.min - tol) & (v <= trained.max + tol)))
    if warn and inside < 1.0:
        warnings.warn(
            f"only {inside:.0%} of the input axis {axis.describe()} lies inside the trained "
            f"range {trained.min:g}-{trained.max:g} {trained.unit}; predictions outside it "
            "are extrapolation (see the 'coverage' column)",
            UserWarning,
            stacklevel=3,
        )
    return inside


def coverage_columns(covered: float, n: int, is_ood: np.ndarray | None) -> dict[str, np.ndarray]:
    """``coverage`` for ``n`` spectra, and ``is_ood`` raised below :data:`COVERAGE_OOD`.

    Parameters
    ----------
    covered : float
        Fraction of the input axis inside the trained range.
    n : int
        Number of spectra.
    is_ood : ndarray of shape (n,), optional
        The detector's flags (none: no ``is_ood`` column).
    """
    cols = {"coverage": np.full(n, covered, dtype=float)}
    if is_ood is not None:
        cols["is_ood"] = np.asarray(is_ood, dtype=bool) | (covered < COVERAGE_OOD)
    return cols


def add_coverage(frame: pd.DataFrame, covered: float | None) -> pd.DataFrame:
    """Prediction table with ``coverage`` (and ``is_ood`` raised below :data:`COVERAGE_OOD`)."""
    if covered is None:
        return frame
    flags = frame["is_ood"].to_numpy(dtype=bool) if "is_ood" in frame.columns else None
    for name, column in coverage_columns(covered, len(frame), flags).items():
        frame[name] = column
    return frame


class ExtraFeatures:
    """Tabular model inputs read from metadata columns, standardized as in training.

    Parameters
    ----------
    config : dict or None
        The bundle's ``extra_features``: ``{"names", "mean", "std"}``.
    """

    def __init__(self, config: dict[str, Any] | None) -> None:
        config = config or {}
        self.names = list(config.get("names") or [])
        self.mean = np.asarray(config.get("mean") or [], dtype=np.float32)
        self.std = np.asarray(config.get("std") or [], dtype=np.float32)

    def values(self, spectra: Spectra) -> np.ndarray | None:
        """Standardized features (n, n_extra) float32, or ``None`` when the model has none."""
        if not self.names:
            return None
        return (spectra.targets(self.names).astype(np.float32) - self.mean) / self.std


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free logistic


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def decode_outputs_np(raw: np.ndarray, output: dict[str, Any]) -> dict[str, np.ndarray]:
    """Predictions from raw model outputs (n, n_model_outputs).

    Parameters
    ----------
    raw : ndarray of shape (n, n_model_outputs)
    output : dict
        The bundle's ``output`` description: ``task``, ``n_targets``, ``target_mean``,
        ``target_std``, ``uncertainty``, ``one_vs_rest``, ``thresholds`` and the declared
        ``target_min`` / ``target_max`` (:func:`spectrakit.predict.bounds.apply_bounds`).

    Returns
    -------
    dict
        regression: ``mean`` (n, T) in target units (and ``std`` with an uncertainty head);
        classification: ``proba`` (n, K), ``label`` (n,) and, one-vs-rest, ``none`` (n,)
        bool (no score reaches its threshold, default 0.5: none of the classes; the scores
        are independent sigmoids and do not sum to 1); multilabel: ``proba``, ``label``
        (n, K) bool.
    """
    raw = np.asarray(raw, dtype=np.float64)
    task, t = output["task"], int(output["n_targets"])
    if task == "regression":
        mu = np.asarray(output.get("target_mean") or [0.0] * t)
        sd = np.asarray(output.get("target_std") or [1.0] * t)
        if output.get("uncertainty"):
            logvar = np.clip(raw[:, t : 2 * t], *LOGVAR_RANGE)
            mean = apply_bounds(raw[:, :t] * sd + mu, output)
            return {"mean": mean, "std": np.exp(0.5 * logvar) * sd}
        return {"mean": apply_bounds(raw * sd + mu, output)}
    if task == "multilabel":
        proba = _sigmoid(raw)
        thr = np.asarray(output.get("thresholds") or [0.5] * t)
        return {"proba": proba, "label": proba >= thr}
    if output.get("one_vs_rest"):
        # independent per-class scores, never renormalised: "none of the classes" shows
        # as every score below its threshold
        scores = _sigmoid(raw)
        thr = np.asarray(output.get("thresholds") or [0.5] * scores.shape[1])
        return {"proba": scores, "label": scores.argmax(axis=1), "none": ~(scores >= thr).any(1)}
    proba = _softmax(raw)
    return {"proba": proba, "label": proba.argmax(axis=1)}


def predictions_frame(
    decoded: dict[str, np.ndarray],
    task: str,
    targets: list[str],
    classes: list[str] | None,
) -> pd.DataFrame:
    """The prediction table: one row per spectrum, the columns of :func:`prediction_columns`."""
    return pd.DataFrame(prediction_columns(decoded, task, targets, classes))


def prediction_columns(
    decoded: dict[str, np.ndarray],
    task: str,
    targets: list[str],
    classes: list[str] | None,
) -> dict[str, np.ndarray]:
    """The prediction columns, each of shape (n,), from :func:`decode_outputs_np`'s output.

    Returns
    -------
    dict of str to ndarray
        regression: one column per target (and ``<target>_std``); classification:
        ``predicted`` and ``proba_<class>`` (one-vs-rest: also ``none_of_classes``, true
        where no class score reaches its threshold); multi-label: ``<label>`` (bool) and
        ``proba_<label>``.
    """
    cols: dict[str, Any] = {}
    if task == "regression":
        for j, name in enumerate(targets):
            cols[name] = decoded["mean"][:, j]
            if "std" in decoded:
                cols[f"{name}_std"] = decoded["std"][:, j]
    elif task == "classification":
        names = np.asarray(classes, dtype=object)
        cols["predicted"] = names[decoded["label"]]
        for j, c in enumerate(classes or []):
            cols[f"proba_{c}"] = decoded["proba"][:, j]
        if "none" in decoded:
            cols[NONE_COLUMN] = decoded["none"]
    else:
        for j, c in enumerate(classes or []):
            cols[c] = decoded["label"][:, j]
            cols[f"proba_{c}"] = decoded["proba"][:, j]
    return cols
