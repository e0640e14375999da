"""Mixing augmentations: additive combinations of spectra with matching targets, mixup.

Spectra of mixtures are (to first order) linear combinations of component spectra, and
concentrations combine with the same weights. So ``x = a * x1 + (1 - a) * x2`` with
``y = a * y1 + (1 - a) * y2`` creates new, physically plausible training pairs for
regression; :class:`Mixup` does the same with soft class labels (Zhang et al., "mixup:
Beyond empirical risk minimization", ICLR 2018). :class:`PairDifference` adds the difference
of two spectra: of one class, it is variation that does not tell the classes apart (matrix,
background, noise), so a network learns to ignore it without a new label.
"""

from __future__ import annotations

import torch

from spectrakit.augment._base import (
    Augmentation,
    numpy_rng,
    permutation,
    register_augmentation,
    uniform,
)
from spectrakit.core.errors import ConfigError, DataError

__all__ = ["AdditiveMix", "MixK", "Mixup", "PairDifference"]


def _float_targets(y: torch.Tensor | None, name: str) -> torch.Tensor | None:
    if y is None:
        return None
    if not y.is_floating_point():
        raise DataError(
            f"{name} mixes regression targets",
            expected="floating-point targets (concentrations)",
            got=f"{y.dtype} targets",
            fix="use Mixup for class labels",
        )
    return y


def _combine(t: torch.Tensor, perms: list[torch.Tensor], w: torch.Tensor) -> torch.Tensor:
    """``sum_j w[:, j] * t[perms[j]]`` with weights broadcast over trailing dimensions."""
    shape = (t.shape[0],) + (1,) * (t.ndim - 1)
    out = torch.zeros_like(t)
    for j, perm in enumerate(perms):
        out = out + w[:, j].reshape(shape).to(t.dtype) * t[perm]
    return out


@register_augmentation
class AdditiveMix(Augmentation):
    """Blend each spectrum with a random partner: ``a * x1 + (1 - a) * x2``, same for ``y``.

    Parameters
    ----------
    low, high : float, default=0.0, 1.0
        Range of the weight ``a``.
    """

    def __init__(self, low: float = 0.0, high: float = 1.0) -> None:
        self.low = low
        self.high = high

    def _apply(self, x, y, axis, generator):
        y = _float_targets(y, "AdditiveMix")
        b = x.shape[0]
        a = uniform((b,), float(self.low), float(self.high), generator, x)
        w = torch.stack([a, 1 - a], dim=1)
        perms = [torch.arange(b, device=x.device), permutation(b, generator, x)]
        return _combine(x, perms, w), None if y is None else _combine(y, perms, w)


@register_augmentation
class MixK(Augmentation):
    """Combine ``k`` spectra: ``x = sum_j w_j x_j`` and ``y = sum_j w_j y_j``.

    Parameters
    ----------
    k : int, default=3
        Spectra per mixture (the first is the spectrum itself, others random partners).
    convex : bool, default=True
        Weights from a flat Dirichlet (they sum to 1: a mixture of the same total amount);
        otherwise independent weights in ``[low, high]`` (sums of spectra, e.g. stacked
        acquisitions).
    low, high : float, default=0.0, 1.0
        Weight range when ``convex=False``.
    """

    def __init__(
        self, k: int = 3, convex: bool = True, low: float = 0.0, high: float = 1.0
    ) -> None:
        self.k = k
        self.convex = convex
        self.low = low
        self.high = high

    def _apply(self, x, y, axis, generator):
        y = _float_targets(y, "MixK")
        b, k = x.shape[0], int(self.k)
        if k < 1:
            raise ConfigError("MixK: k must be >= 1", got=f"k={self.k}")
        if self.convex:
            w = torch.as_tensor(numpy_rng(generator).dirichlet([1.0] * k, size=b))
            w = w.to(device=x.device, dtype=x.dtype)
        else:
            w = uniform((b, k), float(self.low), float(self.high), generator, x)
        perms = [torch.arange(b, device=x.device)]
        perms += [permutation(b, generator, x) for _ in range(k - 1)]
        return _combine(x, perms, w), None if y is None else _combine(y, perms, w)


@register_augmentation
class Mixup(Augmentation):
    """Mixup for classification: blend spectra and one-hot labels with ``Beta(alpha, alpha)``.

    Integer labels (B,) are one-hot encoded with ``n_classes``; soft labels (B, K) are
    mixed as they are. The result has soft labels (B, K) summing to 1.

    Parameters
    ----------
    alpha : float, default=0.2
    n_classes : int or None, default=None
        Needed for integer labels.
    """

    def __init__(self, alpha: float = 0.2, n_classes: int | None = None) -> None:
        self.alpha = alpha
        self.n_classes = n_classes

    def _apply(self, x, y, axis, generator):
        b = x.shape[0]
        a = float(self.alpha)
        if a <= 0:
            raise ConfigError("Mixup: alpha must be > 0", got=f"alpha={self.alpha}")
        lam = torch.as_tensor(numpy_rng(generator).beta(a, a, size=b)).to(x.device, x.dtype)
        w = torch.stack([lam, 1 - lam], dim=1)
        perms = [torch.arange(b, device=x.device), permutation(b, generator, x)]
        if y is None:
            return _combine(x, perms, w), None
        if not y.is_floating_point():
            if self.n_classes is None:
                raise ConfigError(
                    "Mixup needs n_classes for integer labels",
                    fix="pass n_classes=<number of classes>",
                )
            y = torch.nn.functional.one_hot(y.long(), int(self.n_classes)).to(x.dtype)
        return _combine(x, perms, w), _combine(y, perms, w)


def _class_codes(y: torch.Tensor) -> torch.Tensor:
    """Class of every row: integer labels (B,) as they are, soft labels (B, K) by argmax."""
    if y.ndim == 2:
        return y.argmax(dim=1)
    if y.ndim != 1 or y.is_floating_point():
        raise DataError(
            "PairDifference with classes needs class labels",
            expected="integer labels (B,) or one-hot / soft labels (B, K)",
            got=f"{y.dtype} targets of shape {tuple(y.shape)}",
        )
    return y


def _same_class_partner(codes: torch.Tensor, j: torch.Tensor, generator) -> torch.Tensor:
    """For every row ``j[i]``, a random row of the same class (possibly ``j[i]`` itself)."""
    same = (codes[None, :] == codes[j][:, None]).to(torch.float64)
    return torch.multinomial(same, 1, generator=generator)[:, 0].to(codes.device)


@register_augmentation
class PairDifference(Augmentation):
    """Add a scaled difference of two spectra of the batch: ``x_i + a (x_j - x_k)``.

    With ``classes=True`` the rows ``j`` and ``k`` share a class, so the difference holds
    only the variation within a class (matrix bands, background, shift, noise) and the label
    of ``i`` is kept: the network sees that variation at many more strengths and
    combinations than the few labelled spectra hold. With ``classes=False`` (regression)
    ``j`` and ``k`` are any rows and the targets move with the spectra,
    ``y_i + a (y_j - y_k)`` (exact when spectra are linear in the targets, Beer-Lambert).

    Parameters
    ----------
    low, high : float, default=0.0, 1.0
        Range of the weight ``a``.
    classes : bool, default=False
        ``y`` are class labels: integer (B,) or one-hot / soft (B, K).
    """

    def __init__(self, low: float = 0.0, high: float = 1.0, classes: bool = False) -> None:
        self.low = low
        self.high = high
        self.classes = classes

    def _apply(self, x, y, axis, generator):
        b = x.shape[0]
        a = uniform((b,), float(self.low), float(self.high), generator, x)
        j = permutation(b, generator, x)
        if self.classes:
            if y is None:
                raise ConfigError(
                    "PairDifference with classes needs the labels",
                    fix="call it with (x, y), or use classes=False",
                )
            k = _same_class_partner(_class_codes(y), j, generator)
        else:
            k = permutation(b, generator, x)
        shape = (b,) + (1,) * (x.ndim - 1)
        out = x + a.reshape(shape) * (x[j] - x[k])
        if y is None or self.classes:
            return out, y
        y = _float_targets(y, "PairDifference")
        ya = a.reshape((b,) + (1,) * (y.ndim - 1)).to(y.dtype)
        return out, y + ya * (y[j] - y[k])
