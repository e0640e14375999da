"""Base class, registry, composition and configuration of batched augmentations.

Every augmentation takes a batch ``x`` of shape (B, C, L) and, optionally, targets ``y``
of shape (B,) or (B, T), the axis (L,) and a :class:`torch.Generator`. Called with ``x``
only it returns the augmented ``x`` (so it fits a dataset's ``augment`` hook); called with
``y`` it returns ``(x, y)`` (mixing augmentations change targets too).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.registry import Registry

__all__ = [
    "AUGMENTATIONS",
    "Augmentation",
    "Compose",
    "RandomApply",
    "augmentation_from_config",
    "list_augmentations",
    "register_augmentation",
]

A = TypeVar("A", bound="type[Augmentation]")
#: every augmentation a configuration can name: class name -> class.
AUGMENTATIONS: Registry[type[Augmentation]] = Registry(
    "augmentation", modules=("spectrakit.augment",)
)


def register_augmentation(cls: A) -> A:
    """Class decorator: make an augmentation available to configurations by class name."""
    return AUGMENTATIONS.register(cls)


def list_augmentations() -> list[str]:
    """Sorted names of the registered augmentations."""
    return AUGMENTATIONS.names()


# ---------------------------------------------------------------------- random draws
def uniform(
    shape: Sequence[int],
    low: float,
    high: float,
    generator: torch.Generator | None,
    like: torch.Tensor,
) -> torch.Tensor:
    """Uniform draws in [low, high) on ``like``'s device/dtype, from ``generator``."""
    dev = generator.device if generator is not None else like.device
    u = torch.rand(tuple(shape), generator=generator, device=dev)
    return (low + (high - low) * u).to(device=like.device, dtype=like.dtype)


def normal(
    shape: Sequence[int], generator: torch.Generator | None, like: torch.Tensor
) -> torch.Tensor:
    """Standard normal draws on ``like``'s device/dtype, from ``generator``."""
    dev = generator.device if generator is not None else like.device
    return torch.randn(tuple(shape), generator=generator, device=dev).to(like.device, like.dtype)


def permutation(n: int, generator: torch.Generator | None, like: torch.Tensor) -> torch.Tensor:
    """A random permutation of ``0..n-1`` on ``like``'s device."""
    dev = generator.device if generator is not None else like.device
    return torch.randperm(n, generator=generator, device=dev).to(like.device)


def numpy_rng(generator: torch.Generator | None) -> np.random.Generator:
    """A NumPy generator seeded from ``generator`` (for Beta/Dirichlet draws)."""
    dev = generator.device if generator is not None else "cpu"
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=dev).item())
    return np.random.default_rng(seed)


def check_batch(x: Any) -> torch.Tensor:
    """Validate a (B, C, L) floating tensor."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or not x.is_floating_point():
        raise DataError(
            "augmentations work on batches of spectra",
            expected="a floating torch.Tensor of shape (batch, channels, points)",
            got=f"{type(x).__name__} of shape {tuple(getattr(x, 'shape', ()))}",
            fix="add the channel dimension with x.unsqueeze(1)",
        )
    return x


class Augmentation:
    """Base class: subclasses store their parameters in ``__init__`` and implement ``_apply``.

    ``_apply(x, y, axis, generator) -> (x, y)`` sees a validated (B, C, L) tensor and must
    not modify it in place.
    """

    def _apply(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None,
        axis: torch.Tensor | None,
        generator: torch.Generator | None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def __call__(
        self,
        x: torch.Tensor,
        y: torch.Tensor | None = None,
        *,
        axis: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> Any:
        """Augment a batch.

        Parameters
        ----------
        x : Tensor of shape (B, C, L)
        y : Tensor of shape (B,) or (B, T), optional
            Targets; returned transformed alongside ``x`` when given.
        axis : Tensor of shape (L,), optional
            Axis positions (needed by augmentations given in axis units).
        generator : torch.Generator, optional
            Source of randomness (seeded for reproducible augmentation).

        Returns
        -------
        Tensor of shape (B, C, L), or ``(x, y)`` when ``y`` is given
        """
        x = check_batch(x)
        if y is not None and len(y) != x.shape[0]:
            raise DataError(
                "targets do not match the batch", expected=f"{x.shape[0]} rows", got=f"{len(y)}"
            )
        out, y_out = self._apply(x, y, axis, generator)
        return out if y is None else (out, y_out)

    # ------------------------------------------------------------------ configuration
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters by name."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def to_config(self) -> dict[str, Any]:
        """JSON-able ``{"name": class name, "params": {...}}``."""
        params = {}
        for key, value in self.get_params().items():
            if isinstance(value, Augmentation):
                value = value.to_config()
            elif isinstance(value, (list, tuple)):
                value = [v.to_config() if isinstance(v, Augmentation) else v for v in value]
            params[key] = value
        return {"name": type(self).__name__, "params": params}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def augmentation_from_config(cfg: Mapping[str, Any] | Sequence[Any]) -> Augmentation:
    """Rebuild an augmentation from :meth:`Augmentation.to_config` (a list means Compose).

    Examples
    --------
    >>> aug = augmentation_from_config({"name": "GaussianNoise", "params": {"std": 0.01}})
    >>> aug.std
    0.01
    """
    if isinstance(cfg, Sequence) and not isinstance(cfg, str):
        return Compose([augmentation_from_config(c) for c in cfg])
    if not isinstance(cfg, Mapping) or "name" not in cfg:
        raise ConfigError(
            "invalid augmentation configuration",
            expected="a mapping {name: ..., params: {...}} or a list of them",
            got=repr(cfg)[:200],
        )
    cls = AUGMENTATIONS.lookup(str(cfg["name"]))
    params = dict(cfg.get("params") or {})
    for key, value in params.items():
        if isinstance(value, Mapping) and "name" in value:
            params[key] = augmentation_from_config(value)
        elif (
            isinstance(value, list)
            and value
            and all(isinstance(v, Mapping) and "name" in v for v in value)
        ):
            params[key] = [augmentation_from_config(v) for v in value]
    try:
        return cls(**params)
    except TypeError as exc:
        raise ConfigError(
            f"invalid parameters for augmentation {cls.__name__}",
            got=", ".join(params),
            fix=str(exc),
        ) from exc


@register_augmentation
class Compose(Augmentation):
    """Apply augmentations in order, with an optional seed for reproducibility.

    Parameters
    ----------
    transforms : list of Augmentation
    seed : int or None, default=None
        Seeds an internal generator (used when no ``generator`` is passed); two Compose
        objects with the same seed produce the same sequence of augmented batches.

    Examples
    --------
    >>> import torch
    >>> from spectrakit.augment import Compose, GaussianNoise, IntensityScale
    >>> aug = Compose([IntensityScale(0.9, 1.1), GaussianNoise(0.01)], seed=0)
    >>> aug(torch.ones(4, 1, 32)).shape
    torch.Size([4, 1, 32])
    """

    def __init__(self, transforms: Sequence[Augmentation], seed: int | None = None) -> None:
        self.transforms = list(transforms)
        self.seed = seed
        self._generator: torch.Generator | None = None
        if seed is not None:
            self._generator = torch.Generator().manual_seed(int(seed))

    def _apply(self, x, y, axis, generator):
        gen = generator if generator is not None else self._generator
        for aug in self.transforms:
            x, y = aug._apply(x, y, axis, gen)
        return x, y


@register_augmentation
class RandomApply(Augmentation):
    """Apply ``transform`` to each spectrum of the batch with probability ``p``.

    Parameters
    ----------
    transform : Augmentation
    p : float, default=0.5
    """

    def __init__(self, transform: Augmentation, p: float = 0.5) -> None:
        self.transform = transform
        self.p = p

    def _apply(self, x, y, axis, generator):
        chosen = uniform((x.shape[0],), 0.0, 1.0, generator, x) < float(self.p)
        new_x, new_y = self.transform._apply(x, y, axis, generator)
        out_x = torch.where(chosen[:, None, None], new_x, x)
        if y is None or new_y is None:
            return out_x, new_y
        if new_y.shape != y.shape or new_y.dtype != y.dtype:
            raise ConfigError(
                f"RandomApply cannot wrap {type(self.transform).__name__}",
                expected="an augmentation that keeps the target shape",
                got=f"targets {tuple(y.shape)} -> {tuple(new_y.shape)}",
                fix="apply label-changing mixing (Mixup) outside RandomApply",
            )
        mask = chosen.reshape((-1,) + (1,) * (y.ndim - 1))
        return out_x, torch.where(mask, new_y, y)
