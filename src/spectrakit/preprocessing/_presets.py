"""Named starting points: the standard pipelines for Raman, NIR and FTIR spectra."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectrakit.core.errors import ConfigError

if TYPE_CHECKING:  # the pipeline (scikit-learn) loads when a pipeline is built
    from spectrakit.preprocessing._pipeline import Pipeline

__all__ = ["get_pipeline", "list_presets", "preset"]


def _raman_default(normalize: bool = False, crop: tuple[float, float] = (300.0, 1942.0)) -> dict:
    """Crop fingerprint, Whitaker-Hayes despiking, Savitzky-Golay 9/3, AsPLS, optional MinMax.

    The crop keeps the part of 300-1942 cm-1 the spectra cover. ``normalize=True`` (for
    classification) adds MinMax; regression keeps absolute intensities, which carry
    concentration.
    """
    steps: list[dict[str, Any]] = [
        {
            "name": "crop",
            "step": "Crop",
            "params": {"low": crop[0], "high": crop[1], "unit": "cm-1"},
        },
        {"name": "despike", "step": "WhitakerHayes", "params": {}},
        {"name": "smooth", "step": "SavitzkyGolay", "params": {"window": 9, "polyorder": 3}},
        {"name": "baseline", "step": "AsPLS", "params": {}},
    ]
    if normalize:
        steps.append({"name": "normalize", "step": "MinMax", "params": {}})
    return {"steps": steps}


def _nir_default() -> dict:
    """SNV scatter correction, then Savitzky-Golay first derivative (window 15, order 2)."""
    return {
        "steps": [
            {"name": "snv", "step": "SNV", "params": {}},
            {
                "name": "derivative",
                "step": "SavitzkyGolay",
                "params": {"window": 15, "polyorder": 2, "deriv": 1},
            },
        ]
    }


def _ftir_default(crop: tuple[float, float] = (600.0, 1800.0)) -> dict:
    """Fingerprint crop (600-1800 cm-1), rubberband baseline, L2 vector normalisation.

    Rubberband (convex hull) is the usual FTIR baseline: it needs no smoothness parameter
    to tune for broad absorbance backgrounds, and absorbance spectra lie above their hull.
    """
    return {
        "steps": [
            {
                "name": "crop",
                "step": "Crop",
                "params": {"low": crop[0], "high": crop[1], "unit": "cm-1"},
            },
            {"name": "baseline", "step": "Rubberband", "params": {}},
            {"name": "normalize", "step": "VectorNorm", "params": {}},
        ]
    }


_PRESETS: dict[str, Callable[..., dict]] = {
    "raman-default": _raman_default,
    "nir-default": _nir_default,
    "ftir-default": _ftir_default,
}


def list_presets() -> list[str]:
    """Names of the built-in pipelines."""
    return sorted(_PRESETS)


def preset(name: str, **options: Any) -> Pipeline:
    """Build the built-in pipeline ``name`` (options such as ``normalize=True``).

    Examples
    --------
    >>> [n for n, _ in preset("nir-default").steps]
    ['snv', 'derivative']
    """
    factory = _PRESETS.get(name)
    if factory is None:
        raise ConfigError(
            f"unknown pipeline preset {name!r}",
            expected="one of " + ", ".join(list_presets()) + ", or a .yaml/.json file",
            got=repr(name),
        )
    try:
        cfg = factory(**options)
    except TypeError as exc:
        raise ConfigError(f"invalid options for preset {name!r}", got=str(options)) from exc
    from spectrakit.preprocessing._pipeline import Pipeline
    from spectrakit.preprocessing._registry import build_step

    for entry in cfg["steps"]:
        build_step(entry["step"])  # fail early and clearly if a step is unavailable
    return Pipeline.from_config(cfg)


def get_pipeline(spec: Any, **options: Any) -> Pipeline:
    """A pipeline from a preset name, a YAML/JSON path, a config dict or a Pipeline.

    Parameters
    ----------
    spec : str, PathLike, mapping or Pipeline
        ``"raman-default"``, ``"nir-default"``, ``"ftir-default"``; a path to a file
        written by :meth:`Pipeline.save`; the dict of :meth:`Pipeline.to_config`; or a
        Pipeline, returned as is.
    **options
        Preset options (e.g. ``normalize=True`` for ``raman-default``).

    Returns
    -------
    Pipeline
    """
    if options and not (isinstance(spec, str) and spec in _PRESETS):
        raise ConfigError(
            "pipeline options apply to presets only",
            got=", ".join(options),
            fix="set the parameters in the pipeline file or dict instead",
        )
    from spectrakit.preprocessing._pipeline import Pipeline

    if isinstance(spec, Pipeline):
        return spec
    if isinstance(spec, Mapping):
        return Pipeline.from_config(spec, state=spec.get("state"))
    if isinstance(spec, str) and spec in _PRESETS:
        return preset(spec, **options)
    if isinstance(spec, (str, os.PathLike)):
        path = Path(spec)
        if path.is_file():
            return Pipeline.load(path)
        if path.suffix.lower() in (".yaml", ".yml", ".json"):
            raise ConfigError(
                "pipeline file not found", got=str(spec), fix="check the path of the pipeline file"
            )
    raise ConfigError(
        f"unknown pipeline {spec!r}",
        expected="a preset (" + ", ".join(list_presets()) + "), a .yaml/.json file, or a dict",
        got=repr(spec),
    )
