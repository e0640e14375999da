"""A preprocessing pipeline that keeps the axis and serialises to plain JSON/YAML.

The configuration (``to_config``) names every step by its registered class name with its
parameters; the fitted state (``state_arrays``) is a flat dict of arrays (``"2.reference_"``)
suited to safetensors. Together they rebuild a pipeline that transforms exactly as the
fitted one, without pickle.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import AxisError, ConfigError, SpectraError
from spectrakit.core.spectra import Spectra
from spectrakit.io import atomic_path
from spectrakit.preprocessing._base import SpectralTransformer, as_block, check_same_axis
from spectrakit.preprocessing._estimator import check_fitted
from spectrakit.preprocessing._registry import build_step
from spectrakit.preprocessing._steps import StepsProtocol

__all__ = ["Pipeline"]

CONFIG_FORMAT = "spectrakit.preprocessing.Pipeline"
CONFIG_VERSION = 1
_AXIS_KEY = "input_axis"
log = logging.getLogger("spectrakit.preprocessing")


def uniform_grid(axis: SpectralAxis) -> Any:
    """A ``Resample`` onto the finest uniform grid covering ``axis`` (its smallest spacing).

    The step is never finer than a quarter of the mean spacing, so a few near-duplicate
    positions cannot blow the spectrum up.
    """
    from spectrakit.preprocessing._axis import Resample

    lo, hi = axis.min, axis.max
    step = max(float(np.diff(axis.values).min()), (hi - lo) / (4.0 * axis.n_points))
    step = float(f"{step:.6g}")
    return Resample(start=lo, stop=hi, step=step)


def _needs_uniform(step: Any, axis: SpectralAxis) -> Any:
    """A ``Resample`` to insert before ``step`` when it refuses ``axis`` only for spacing."""
    if axis.is_uniform or not isinstance(step, SpectralTransformer):
        return None
    try:
        step._check_axis(axis)
        return None
    except AxisError:
        resample = uniform_grid(axis)
        try:
            step._check_axis(axis.with_values(resample.target()))
        except SpectraError:
            return None  # refused for another reason: the step reports it itself
        return resample


def _jsonable(value: Any, where: str) -> Any:
    """Plain JSON types for a parameter value (tuples become lists, numpy scalars floats)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            raise ConfigError(f"{where}: non-finite value cannot be saved", got=repr(value))
        return v
    if isinstance(value, (list, tuple, np.ndarray)):
        return [
            _jsonable(v, where)
            for v in (value.tolist() if isinstance(value, np.ndarray) else value)
        ]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    raise ConfigError(
        f"{where}: parameter value cannot be written to JSON/YAML",
        expected="numbers, strings, booleans, lists or mappings",
        got=type(value).__name__,
    )


def _parse_step(entry: Any, index: int) -> tuple[str, SpectralTransformer]:
    if isinstance(entry, str):
        return entry.lower(), build_step(entry)
    if not isinstance(entry, Mapping) or "step" not in entry:
        raise ConfigError(
            f"pipeline step {index} is malformed",
            expected="a step name or a mapping {step: NAME, params: {...}, name: LABEL}",
            got=repr(entry)[:200],
        )
    extra = sorted(set(entry) - {"step", "params", "name"})
    if extra:
        raise ConfigError(
            f"pipeline step {index} has unknown keys " + ", ".join(extra),
            expected="keys step, params, name",
        )
    params = entry.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"pipeline step {index}: params must be a mapping", got=repr(params))
    step = build_step(str(entry["step"]), params)
    return str(entry.get("name") or type(step).__name__.lower()), step


class Pipeline(StepsProtocol):
    """Chain of preprocessing steps that keeps the spectral axis from step to step.

    Spectra in gives Spectra out (metadata kept); an array in (with ``axis=`` given to
    ``fit``) gives an array out. Intermediate blocks stay float64.

    Parameters
    ----------
    steps : list of (str, SpectralTransformer)
        Named steps, applied in order.

    Examples
    --------
    >>> from spectrakit.preprocessing import Pipeline, SNV, SavitzkyGolay
    >>> pipe = Pipeline([("sg", SavitzkyGolay(9, 3)), ("snv", SNV())])
    >>> pipe.to_config()["steps"][1]
    {'name': 'snv', 'step': 'SNV', 'params': {'on_zero': 'raise'}}
    """

    # ------------------------------------------------------------------ helpers
    def _active(self) -> Iterator[tuple[int, str, Any]]:
        for i, (name, step) in enumerate(self.steps):
            if step is not None and step != "passthrough":
                yield i, name, step

    def _run(self, arr: np.ndarray, axis: SpectralAxis, y: Any, fit: bool):
        i = 0
        while i < len(self.steps):
            name, step = self.steps[i]
            if step is None or step == "passthrough":
                i += 1
                continue
            if fit and self._resampled_before(i, name, step, axis):
                continue  # the inserted Resample runs now, then this step
            if fit:
                if isinstance(step, SpectralTransformer):
                    arr = step.fit(arr, y, axis=axis).transform(arr)
                else:
                    arr = np.asarray(step.fit(arr, y).transform(arr), dtype=np.float64)
            else:
                arr = np.asarray(step.transform(arr), dtype=np.float64)
            axis = self._step_axis(step, axis, arr.shape[1])
            i += 1
        return arr, axis

    def _resampled_before(self, i: int, name: str, step: Any, axis: SpectralAxis) -> bool:
        """Insert a Resample before step ``i`` when it needs a uniform grid (logged, kept)."""
        resample = _needs_uniform(step, axis)
        if resample is None:
            return False
        self.steps = [*self.steps[:i], (f"resample_for_{name}", resample), *self.steps[i:]]
        log.warning(
            "resampled %d -> %d points at step %g %s for %s",
            axis.n_points, resample.target().size, resample.step, axis.unit, type(step).__name__,
        )  # fmt: skip
        return True

    @staticmethod
    def _step_axis(step: Any, axis: SpectralAxis, n_out: int) -> SpectralAxis:
        if isinstance(step, SpectralTransformer):
            return step.output_axis(axis)
        if n_out == axis.n_points:
            return axis
        return SpectralAxis(np.arange(n_out, dtype=float), "channel")

    @staticmethod
    def _wrap(out: np.ndarray, axis: SpectralAxis, spectra: Spectra | None):
        if spectra is None:
            return out
        return Spectra(out.astype(np.float32), axis, spectra.meta)

    # ------------------------------------------------------------------ sklearn API
    def fit(self, X: Any, y: Any = None, axis: Any = None, **params: Any) -> Pipeline:
        """Fit every step in turn on the output of the previous one.

        Parameters
        ----------
        X : Spectra or array-like of shape (n_spectra, n_points)
        y : array-like, optional
            Targets, passed to every step's ``fit``.
        axis : array-like of shape (n_points,) or SpectralAxis, optional
            Axis of a plain array (default: point index).

        Returns
        -------
        self
        """
        self._fit_run(X, y, axis)
        return self

    def _fit_run(self, X: Any, y: Any, axis: Any) -> np.ndarray:
        self._validate_steps()
        arr, ax, spectra = as_block(X, axis)
        ax = ax if ax is not None else SpectralAxis(np.arange(arr.shape[1], dtype=float), "channel")
        out, out_axis = self._run(arr, ax, y, fit=True)
        self.axis_in_ = ax
        self.axis_out_ = out_axis
        return self._wrap(out, out_axis, spectra)

    def fit_transform(self, X: Any, y: Any = None, axis: Any = None, **params: Any) -> Any:
        """Fit on ``X`` and return it transformed (same type as ``X``)."""
        return self._fit_run(X, y, axis)

    def transform(self, X: Any, **params: Any) -> Any:
        """Apply the fitted steps.

        Parameters
        ----------
        X : Spectra or array-like of shape (n_spectra, n_points)

        Returns
        -------
        Spectra or ndarray of shape (n_spectra, n_points_out)
        """
        check_fitted(self, "axis_in_")
        arr, ax, spectra = as_block(X)
        if ax is not None:
            check_same_axis("Pipeline", self.axis_in_, ax)
        out, _ = self._run(arr, ax or self.axis_in_, None, fit=False)
        out_axis = self.axis_out_ if ax is None else self.output_axis(ax)
        return self._wrap(out, out_axis, spectra)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "axis_in_")

    def output_axis(self, axis: SpectralAxis) -> SpectralAxis:
        """The axis produced from input ``axis`` by all steps (e.g. after crops)."""
        for _, _, step in self._active():
            axis = self._step_axis(step, axis, axis.n_points)
        return axis

    def read_range(self, axis: SpectralAxis) -> tuple[float, float]:
        """The part of input ``axis`` (min, max) whose values can affect the output.

        The leading steps that only keep points (crops, region selection) decide it: the
        steps after them never see what they drop. Without such steps, the whole axis.
        """
        for _, _, step in self._active():
            if not getattr(step, "_selects_points", False):
                break
            axis = self._step_axis(step, axis, axis.n_points)
        return float(axis.min), float(axis.max)

    # ------------------------------------------------------------------ serialisation
    def to_config(self) -> dict:
        """Plain JSON-able description: step names, classes and parameters.

        Returns
        -------
        dict
            ``{"format", "version", "steps": [{"name", "step", "params"}], "input_axis"}``;
            ``input_axis`` (unit, kind, laser wavelength, length) only once fitted.
        """
        steps = []
        for i, name, step in self._active():
            if not isinstance(step, SpectralTransformer):
                raise ConfigError(
                    f"pipeline step {i} ({name!r}) cannot be serialised",
                    expected="a registered spectrakit preprocessing step",
                    got=type(step).__name__,
                )
            params = _jsonable(step.get_params(deep=False), f"step {name!r}")
            steps.append({"name": name, "step": type(step).__name__, "params": params})
        cfg: dict[str, Any] = {"format": CONFIG_FORMAT, "version": CONFIG_VERSION, "steps": steps}
        if hasattr(self, "axis_in_"):
            ax = self.axis_in_
            cfg[_AXIS_KEY] = {
                "unit": ax.unit,
                "kind": ax.kind,
                "laser_wavelength": ax.laser_wavelength,
                "n_points": ax.n_points,
            }
        return cfg

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Fitted state as flat ``{"<step index>.<attribute>": array}`` plus the input axis.

        Returns
        -------
        dict of str to ndarray
            E.g. ``{"input_axis": (p,), "3.reference_": (p',)}``; ready for safetensors.
        """
        check_fitted(self, "axis_in_")
        state = {_AXIS_KEY: np.asarray(self.axis_in_.values, dtype=np.float64)}
        for i, _, step in self._active():
            for attr, arr in step._get_state().items():
                state[f"{i}.{attr}"] = np.ascontiguousarray(arr, dtype=np.float64)
        return state

    @classmethod
    def from_config(
        cls, cfg: Mapping[str, Any], state: Mapping[str, Any] | None = None
    ) -> Pipeline:
        """Rebuild a pipeline from :meth:`to_config` (and fitted ``state``, when given).

        Parameters
        ----------
        cfg : mapping
            Output of :meth:`to_config`, or a hand-written ``{"steps": [...]}`` where a step
            is a name (``"SNV"``) or ``{"step": "SavitzkyGolay", "params": {...}}``.
        state : mapping of str to array-like, optional
            Output of :meth:`state_arrays`; restores a fitted pipeline without data.

        Returns
        -------
        Pipeline
        """
        if not isinstance(cfg, Mapping) or not isinstance(cfg.get("steps"), list):
            raise ConfigError(
                "invalid pipeline configuration",
                expected="a mapping with a list under 'steps'",
                got=repr(cfg)[:200],
            )
        version = cfg.get("version", CONFIG_VERSION)
        if version != CONFIG_VERSION:
            raise ConfigError(
                "unsupported pipeline configuration version",
                expected=str(CONFIG_VERSION),
                got=repr(version),
                fix="upgrade spectrakit",
            )
        if not cfg["steps"]:
            raise ConfigError("pipeline configuration has no steps", expected="at least one step")
        steps = [_parse_step(entry, i) for i, entry in enumerate(cfg["steps"])]
        names = [n for n, _ in steps]
        if len(set(names)) != len(names):
            steps = [(f"{n}{i}", s) for i, (n, s) in enumerate(steps)]
        pipe = cls(steps)
        if state is not None:
            pipe._restore(cfg, state)
        return pipe

    def _restore(self, cfg: Mapping[str, Any], state: Mapping[str, Any]) -> None:
        info = cfg.get(_AXIS_KEY)
        if not isinstance(info, Mapping) or _AXIS_KEY not in state:
            raise ConfigError(
                "fitted pipeline state without its input axis",
                expected=f"'{_AXIS_KEY}' in both the configuration and the state",
                fix="save both to_config() and state_arrays() of a fitted pipeline",
            )
        try:
            axis = SpectralAxis(
                np.asarray(state[_AXIS_KEY], dtype=np.float64),
                unit=info.get("unit", "channel"),
                kind=info.get("kind"),
                laser_wavelength=info.get("laser_wavelength"),
            )
        except SpectraError as exc:
            raise ConfigError("invalid input axis in the pipeline state", fix=str(exc)) from exc
        self.axis_in_ = axis
        for i, _, step in self._active():
            prefix = f"{i}."
            sub = {
                k[len(prefix) :]: np.asarray(v) for k, v in state.items() if k.startswith(prefix)
            }
            step._restore(axis, sub)
            axis = step.output_axis(axis)
        self.axis_out_ = axis

    def save(self, path: str | os.PathLike, *, include_state: bool = True) -> Path:
        """Write the configuration (YAML for .yaml/.yml, else JSON) atomically.

        Parameters
        ----------
        path : str or PathLike
        include_state : bool, default=True
            For a fitted pipeline, also embed the fitted arrays (as lists) under ``state``,
            so :meth:`load` restores it fitted.

        Returns
        -------
        Path
        """
        cfg = self.to_config()
        if include_state and hasattr(self, "axis_in_"):
            cfg["state"] = {k: v.tolist() for k, v in self.state_arrays().items()}
        path = Path(path)
        with atomic_path(path) as tmp:
            if path.suffix.lower() in (".yaml", ".yml"):
                tmp.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
            else:
                tmp.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Pipeline:
        """Read a pipeline written by :meth:`save` (or a hand-written YAML/JSON file)."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                cfg = yaml.safe_load(text)
            else:
                cfg = json.loads(text)
        except (yaml.YAMLError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"cannot parse pipeline file {path.name}",
                expected="valid YAML (.yaml/.yml) or JSON",
                got=" ".join(str(exc).split())[:200],
            ) from exc
        if not isinstance(cfg, Mapping):
            raise ConfigError(
                f"pipeline file {path.name} does not hold a mapping", got=type(cfg).__name__
            )
        return cls.from_config(cfg, state=cfg.get("state"))
