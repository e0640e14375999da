"""Preprocessing as the model sees it: one fitted pipeline per input channel.

A model input of C channels is built from the same spectra by C preprocessing pipelines
(for example the spectrum and its first derivative). With a single pipeline, or none, this
is the ordinary one-channel case. The object fits on training spectra only, transforms any
spectra on the fitted axis into an array (n, C, L), and serializes to plain JSON plus named
arrays, so a bundle can rebuild it without executing code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import ConfigError, PreprocessingError
from spectrakit.core.numeric import central_span
from spectrakit.core.spectra import Spectra

__all__ = ["ChannelPreprocessor", "normalize_spectra"]


def _get_pipeline(spec: Any):
    from spectrakit.preprocessing import get_pipeline

    return get_pipeline(spec)


class ChannelPreprocessor:
    """Fit/transform spectra into model input of shape (n, C, L).

    Parameters
    ----------
    pipelines : list of (pipeline spec or None)
        One entry per channel: a preset name, dict, path, ``Pipeline`` or ``None`` (values
        used as they are). An empty list means a single untouched channel.

    Attributes
    ----------
    input_axis_ : SpectralAxis
        Axis seen in :meth:`fit` (the axis every input must be resampled onto).
    output_axis_ : SpectralAxis
        Axis of the model input (shared by all channels).
    """

    def __init__(self, pipelines: list[Any] | None = None) -> None:
        specs = list(pipelines) if pipelines else [None]
        self.pipelines = [None if s is None else _get_pipeline(s) for s in specs]

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`from_config` with state) has run."""
        return hasattr(self, "output_axis_")

    @property
    def n_channels(self) -> int:
        """Number of model input channels C."""
        return len(self.pipelines)

    def fit(
        self, spectra: Spectra, y: Any = None, length_multiple: int | None = None
    ) -> ChannelPreprocessor:
        """Fit every channel's pipeline on ``spectra`` (training data only).

        Parameters
        ----------
        spectra : Spectra
            Training spectra.
        y : array-like, optional
            Targets passed to supervised steps.
        length_multiple : int, optional
            Keep the central ``k * length_multiple`` points of the output (patch models).
        """
        axes = []
        for p in self.pipelines:
            if p is None:
                axes.append(spectra.axis)
            else:
                p.fit(spectra, y) if y is not None else p.fit(spectra)
                axes.append(p.output_axis(spectra.axis))
        self._check_axes(axes)
        self.input_axis_ = spectra.axis
        full = axes[0]
        self.window_ = start, stop = central_window(full.n_points, length_multiple)
        self.output_axis_ = full.with_values(full.values[start:stop])
        return self

    def _check_axes(self, axes: list[SpectralAxis]) -> None:
        first = axes[0]
        for i, ax in enumerate(axes[1:], start=1):
            if not ax.allclose(first, rtol=1e-7, atol=1e-9):
                raise PreprocessingError(
                    f"channel {i} ends on another axis than channel 0",
                    expected=first.describe(),
                    got=ax.describe(),
                    fix="give every channel pipeline the same crop/resample steps",
                )

    def read_range(self) -> tuple[float, float]:
        """The part of :attr:`input_axis_` (min, max) that the model input depends on.

        Leading crops in every channel's pipeline narrow it: input outside this range is
        dropped before anything else sees it, so spectra need to cover only this range.
        """
        axis = self.input_axis_
        ranges = [(axis.min, axis.max) if p is None else p.read_range(axis) for p in self.pipelines]
        return min(r[0] for r in ranges), max(r[1] for r in ranges)

    def transform(self, spectra: Spectra) -> np.ndarray:
        """Model input of shape (n, C, L), float32."""
        if not hasattr(self, "output_axis_"):
            raise PreprocessingError(
                "preprocessing is not fitted", fix="call fit on the training spectra first"
            )
        out = []
        for p in self.pipelines:
            vals = spectra.values if p is None else p.transform(spectra).values
            out.append(np.asarray(vals, dtype=np.float32))
        start, stop = self.window_
        return np.stack(out, axis=1)[:, :, start:stop]

    def fit_transform(
        self, spectra: Spectra, y: Any = None, length_multiple: int | None = None
    ) -> np.ndarray:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(spectra, y, length_multiple).transform(spectra)

    # ------------------------------------------------------------------ serialization
    def to_config(self) -> list[dict | None]:
        """JSON-able description: one pipeline config (or ``None``) per channel."""
        return [None if p is None else p.to_config() for p in self.pipelines]

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Fitted state as flat named arrays, ``"<channel>/<step>.<attribute>"``."""
        state: dict[str, np.ndarray] = {}
        for c, p in enumerate(self.pipelines):
            if p is None:
                continue
            for name, arr in p.state_arrays().items():
                state[f"{c}/{name}"] = np.asarray(arr)
        return state

    @classmethod
    def from_config(
        cls,
        config: list[dict | None],
        state: dict[str, np.ndarray] | None,
        input_axis: SpectralAxis,
        output_axis: SpectralAxis,
    ) -> ChannelPreprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_config` and :meth:`state_arrays`."""
        from spectrakit.preprocessing import Pipeline

        if not isinstance(config, list) or not config:
            raise ConfigError(
                "invalid preprocessing description",
                expected="a non-empty list of pipeline configs (or null)",
                got=type(config).__name__,
            )
        self = cls.__new__(cls)
        self.pipelines = []
        state = state or {}
        for c, cfg in enumerate(config):
            if cfg is None:
                self.pipelines.append(None)
                continue
            prefix = f"{c}/"
            sub = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            self.pipelines.append(Pipeline.from_config(cfg, state=sub or None))
        self.input_axis_ = input_axis
        self.output_axis_ = output_axis
        first = self.pipelines[0]
        full = input_axis if first is None else first.output_axis(input_axis)
        start = int(np.argmin(np.abs(full.values - output_axis.values[0])))
        stop = start + output_axis.n_points
        if stop > full.n_points or not np.allclose(
            full.values[start:stop], output_axis.values, rtol=1e-7, atol=1e-9
        ):
            raise ConfigError(
                "preprocessing does not produce the recorded model axis",
                expected=output_axis.describe(),
                got=full.describe(),
                fix="restore the bundle's config.json",
            )
        self.window_ = (start, stop)
        return self


def central_window(n: int, length_multiple: int | None) -> tuple[int, int]:
    """(start, stop) of the central ``k * length_multiple`` of ``n`` points (all without one).

    Raises
    ------
    PreprocessingError
        When ``n`` is shorter than one multiple (one model patch).
    """
    if not length_multiple:
        return 0, n
    start, stop = central_span(n, length_multiple)
    if start == stop:
        raise PreprocessingError(
            "preprocessed spectra are shorter than one model patch",
            expected=f"at least {length_multiple} points",
            got=f"{n} points",
            fix="crop less or use a model with smaller patches",
        )
    return start, stop


def normalize_spectra(x: Any, eps: float = 1e-6) -> Any:
    """Standardize each spectrum (over channels and points) to zero mean, unit variance.

    Shared by training, inference and export (``spectrakit.models.inputs`` re-exports it).

    Parameters
    ----------
    x : Tensor (B, C, L)
        A torch tensor (the function uses tensor methods only, so this module needs no torch).
    eps : float, default=1e-6
        Added to the standard deviation (flat spectra stay finite).

    Returns
    -------
    Tensor (B, C, L)
        The standardized batch.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[[1.0, 3.0]]], dtype=torch.float64)
    >>> normalize_spectra(x).round(decimals=3).tolist()
    [[[-0.707, 0.707]]]
    """
    mean = x.mean(dim=(1, 2), keepdim=True)
    std = x.std(dim=(1, 2), keepdim=True)
    return (x - mean) / (std + eps)
