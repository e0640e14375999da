"""Rebuilding a bundle's model and preprocessing without trusting its config.

The model is first built on PyTorch's ``meta`` device (shapes only, no memory) and its
tensors compared with the weights file's checked header; only a model whose every tensor is
in that file, with the same shape, is then built for real. So hyper-parameters in a forged
``config.json`` (``n_outputs`` of a billion, say) cannot make loading allocate memory out of
proportion to the weights the bundle ships with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.bundle.config import BundleConfig, ModelSpec
from spectrakit.bundle.tensors import tensor_header
from spectrakit.core.errors import BundleError, SpectraError

__all__ = ["build_model", "build_preprocessor"]


def _error(spec: ModelSpec, exc: BaseException) -> BundleError:
    return BundleError(
        "the bundle's model cannot be built",
        expected="a model name and hyper-parameters known to this spectrakit",
        got=f"{spec.name}: {' '.join(str(exc).split())[:120]}",
        fix="upgrade spectrakit or re-save the bundle",
    )


def _create(spec: ModelSpec) -> Any:
    from spectrakit import models

    try:
        return models.create(spec.name, **spec.kwargs)
    except (SpectraError, TypeError, ValueError, OverflowError) as exc:
        raise _error(spec, exc) from None


def _mismatch(own: dict[str, tuple], stored: dict[str, tuple]) -> str:
    missing = sorted(set(own) - set(stored))
    unexpected = sorted(set(stored) - set(own))
    bad = [f"{k}: {stored[k]} vs {own[k]}" for k in own if k in stored and stored[k] != own[k]]
    parts = (
        f"missing {', '.join(missing[:3])}" if missing else "",
        f"unexpected {', '.join(unexpected[:3])}" if unexpected else "",
        f"wrong shapes (weights vs model) {', '.join(bad[:3])}" if bad else "",
    )
    return "; ".join(p for p in parts if p)


def _shell_shapes(spec: ModelSpec) -> dict[str, tuple] | None:
    """Tensor shapes of the model built on the meta device (None when it cannot be)."""
    import torch

    from spectrakit import models

    try:
        with torch.device("meta"):
            shell = models.create(spec.name, **spec.kwargs)
    except SpectraError as exc:
        raise _error(spec, exc) from None
    except Exception:
        return None
    return {k: tuple(v.shape) for k, v in shell.state_dict().items()}


def build_model(spec: ModelSpec, weights: Path) -> Any:
    """The model of ``spec`` with the weights of ``weights``, in eval mode on CPU.

    Raises
    ------
    BundleError
        The family or hyper-parameters are unknown, or the weights file (checked header
        first) does not hold exactly the model's tensors.
    """
    from safetensors.torch import load_file

    header = tensor_header(weights, weights.name)
    stored = {k: v["shape"] for k, v in header.items()}
    shapes = _shell_shapes(spec)
    if shapes is not None and (problem := _mismatch(shapes, stored)):
        raise _weights_error(spec, problem)
    if shapes is None:  # cannot be sized on meta: bound it by the weights file instead
        _check_size_bound(spec, weights)
    model = _create(spec)
    own = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if problem := _mismatch(own, stored):
        raise _weights_error(spec, problem)
    state = load_file(str(weights))
    for key, tensor in model.state_dict().items():
        if state[key].dtype != tensor.dtype and not state[key].dtype.is_floating_point:
            raise _weights_error(spec, f"{key} has dtype {state[key].dtype}, not {tensor.dtype}")
    model.load_state_dict(state)
    model.eval()
    return model


def _check_size_bound(spec: ModelSpec, weights: Path) -> None:
    """Refuse sizes in kwargs far beyond what the weights file could hold."""
    budget = weights.stat().st_size
    for key, value in spec.kwargs.items():
        if type(value) is int and value > max(budget, 1 << 16):
            raise BundleError(
                "config.json asks for a model larger than its weights",
                expected=f"{key} consistent with a {budget}-byte weights file",
                got=f"{key}={value}",
                fix="restore the original config.json",
            )


def _weights_error(spec: ModelSpec, problem: str) -> BundleError:
    return BundleError(
        "the weights do not fit the model described in config.json",
        expected=f"the tensors of {spec.name} with its recorded hyper-parameters",
        got=problem,
        fix="use the model.safetensors saved with this config.json",
    )


def build_preprocessor(config: BundleConfig, state: dict[str, np.ndarray] | None) -> Any:
    """The fitted channel preprocessor, tried once on a flat spectrum of the input axis.

    Raises
    ------
    BundleError
        When the description and arrays do not make a working preprocessing producing
        (1, C, L) finite values on the model axis.
    """
    from spectrakit.core.spectra import Spectra
    from spectrakit.preprocessing.channels import ChannelPreprocessor

    try:
        if config.channels:
            from spectrakit.preprocessing.measured_channels import MeasuredChannels

            pre = MeasuredChannels.from_layout(
                config.channel_layout, config.preprocessing, state, config.model_axis
            )
        else:
            pre = ChannelPreprocessor.from_config(
                config.preprocessing, state, config.axis, config.model_axis
            )
        ax = config.axis
        wave = 1.0 + 0.1 * np.sin(np.linspace(0.0, 3.0 * np.pi, ax.n_points))
        probe = Spectra(wave[None, :].astype(np.float32), ax)
        out = np.asarray(pre.transform(probe))
    except SpectraError as exc:
        raise BundleError(
            "the bundle's preprocessing cannot be rebuilt",
            got=" ".join(str(exc).split())[:160],
            fix="restore config.json and preprocessing.safetensors",
        ) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        detail = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise _state_error("the fitted arrays saved with this config.json", detail) from None
    _check_state_shapes(pre)
    expected = (1, len(config.preprocessing), config.model_axis.n_points)
    if out.shape != expected:
        raise _state_error(f"model input of shape {expected}", f"{out.shape}")
    return pre


def _state_error(expected: str, got: str) -> BundleError:
    return BundleError(
        "preprocessing.safetensors does not fit the bundle's preprocessing",
        expected=expected,
        got=got,
        fix="restore the bundle; the file is damaged or forged",
    )


def _check_state_shapes(pre: Any) -> None:
    """Every fitted array runs along its step's input points (no silent broadcasting)."""
    for pipe in pre.pipelines:
        for name, step in [] if pipe is None else pipe.steps:
            n = getattr(step, "n_features_in_", None)
            for attr in getattr(step, "_state_attrs", ()):
                arr = np.asarray(getattr(step, attr))
                if n is not None and (arr.ndim < 1 or arr.shape[-1] != n):
                    raise _state_error(f"{name}.{attr} of {n} points", f"shape {arr.shape}")
