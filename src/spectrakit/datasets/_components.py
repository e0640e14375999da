"""Pure-component spectra as lists of peaks, and libraries of them (random or named)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from spectrakit.core.errors import ConfigError
from spectrakit.datasets._peaks import SHAPES, peak_profiles
from spectrakit.datasets._validate import check_choice, check_count, check_fraction, check_range

__all__ = ["RAMAN_COMPONENTS", "Component", "ComponentLibrary", "Peak"]


@dataclass(frozen=True)
class Peak:
    """One band of a pure component.

    Parameters
    ----------
    position : float
        Centre in axis units (e.g. cm-1).
    fwhm : float
        Full width at half maximum in axis units (> 0).
    height : float, default=1.0
        Maximum of the band for unit concentration.
    shape : str, default="voigt"
        ``"gaussian"``, ``"lorentzian"``, ``"pseudo_voigt"`` or ``"voigt"``.
    eta : float, default=0.5
        Lorentzian fraction (see :func:`~spectrakit.datasets.make_peaks`).
    """

    position: float
    fwhm: float
    height: float = 1.0
    shape: str = "voigt"
    eta: float = 0.5

    def __post_init__(self) -> None:
        check_choice("peak shape", self.shape, SHAPES)
        check_fraction("eta", self.eta)
        if not (np.isfinite(self.position) and np.isfinite(self.height)):
            raise ConfigError("peak position and height must be finite", got=repr(self))
        if not (np.isfinite(self.fwhm) and self.fwhm > 0):
            raise ConfigError("peak width must be positive", expected="fwhm > 0", got=repr(self))


@dataclass(frozen=True)
class Component:
    """A pure substance: a name and its peaks.

    Parameters
    ----------
    name : str
        Used in metadata column names (``c_<name>``).
    peaks : tuple of Peak
        The bands; heights are for unit concentration.
    """

    name: str
    peaks: tuple[Peak, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.name or not str(self.name).isidentifier():
            raise ConfigError(
                "invalid component name",
                expected="a short identifier such as 'glucose'",
                got=repr(self.name),
            )
        object.__setattr__(self, "peaks", tuple(self.peaks))
        if not self.peaks:
            raise ConfigError(f"component {self.name!r} has no peaks", expected=">= 1 peak")

    @property
    def positions(self) -> np.ndarray:
        """Peak centres, shape (n_peaks,)."""
        return np.array([p.position for p in self.peaks])

    @property
    def strongest(self) -> float:
        """Position of the highest peak."""
        return float(max(self.peaks, key=lambda p: p.height).position)

    def profile(self, x: np.ndarray) -> np.ndarray:
        """The component's spectrum for unit concentration, shape (n_points,), on ``x``."""
        return _peaks_matrix(self.peaks, np.asarray(x, dtype=np.float64)).sum(axis=0)

    def perturbed(
        self, rng: np.random.Generator, shift: float, width: float, height: float
    ) -> Component:
        """A copy whose peaks move by N(0, shift), widths and heights scale by 1 +- N(0, .)."""
        n = len(self.peaks)
        ds = rng.normal(0.0, shift, n)
        fw = np.clip(1.0 + rng.normal(0.0, width, n), 0.3, None)
        fh = np.clip(1.0 + rng.normal(0.0, height, n), 0.05, None)
        peaks = tuple(
            replace(p, position=p.position + d, fwhm=p.fwhm * a, height=p.height * b)
            for p, d, a, b in zip(self.peaks, ds, fw, fh, strict=True)
        )
        return Component(self.name, peaks)


def _peaks_matrix(peaks: Sequence[Peak], x: np.ndarray) -> np.ndarray:
    return peak_profiles(
        x,
        np.array([p.position for p in peaks]),
        np.array([p.fwhm for p in peaks]),
        np.array([p.height for p in peaks]),
        [p.shape for p in peaks],
        np.array([p.eta for p in peaks]),
    )


def _c(name: str, *bands: tuple[float, float, float]) -> Component:
    return Component(name, tuple(Peak(pos, fwhm, height) for pos, fwhm, height in bands))


#: Raman-like pure components with bands at literature positions (cm-1): position, FWHM,
#: relative height. Enough to tell them apart and to test peak recovery; not a reference
#: library for identification.
RAMAN_COMPONENTS: dict[str, Component] = {
    c.name: c
    for c in (
        _c("glucose", (423, 14, 0.35), (520, 16, 0.45), (850, 14, 0.3), (1060, 16, 0.55),
           (1125, 14, 1.0), (1365, 18, 0.4), (1460, 16, 0.35)),
        _c("acetate", (650, 12, 0.3), (928, 10, 1.0), (1350, 14, 0.45), (1415, 14, 0.7)),
        _c("sulfate", (452, 12, 0.25), (618, 12, 0.2), (981, 7, 1.0), (1105, 16, 0.15)),
        _c("ethanol", (434, 14, 0.3), (882, 10, 1.0), (1052, 12, 0.45), (1095, 12, 0.4),
           (1276, 14, 0.2), (1455, 14, 0.45)),
        _c("nitrate", (719, 8, 0.15), (1049, 6, 1.0), (1358, 16, 0.1), (1413, 16, 0.1)),
        _c("phenylalanine", (622, 8, 0.2), (1004, 6, 1.0), (1032, 8, 0.35), (1207, 10, 0.25),
           (1586, 10, 0.2), (1606, 10, 0.3)),
        _c("lactate", (540, 16, 0.2), (858, 12, 1.0), (1045, 14, 0.45), (1125, 14, 0.35),
           (1455, 16, 0.5)),
        _c("urea", (548, 14, 0.15), (1005, 8, 1.0), (1165, 14, 0.2), (1465, 18, 0.1),
           (1540, 20, 0.15), (1610, 20, 0.15)),
    )
}  # fmt: skip


class ComponentLibrary(Sequence[Component]):
    """An ordered set of pure components sharing one axis unit.

    Parameters
    ----------
    components : sequence of Component
        Names must be unique.

    Examples
    --------
    >>> lib = ComponentLibrary.named("glucose", "acetate")
    >>> lib.names
    ['glucose', 'acetate']
    >>> lib.matrix([900.0, 928.0, 960.0]).shape
    (2, 3)
    """

    def __init__(self, components: Sequence[Component]) -> None:
        comps = tuple(components)
        if not comps:
            raise ConfigError("a component library needs components", expected=">= 1", got="0")
        for c in comps:
            if not isinstance(c, Component):
                raise ConfigError("library entries must be Component objects", got=type(c).__name__)
        names = [c.name for c in comps]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ConfigError("component names must be unique", got=", ".join(dup))
        self._components = comps

    def __getitem__(self, i):  # type: ignore[override]
        return self._components[i]

    def __len__(self) -> int:
        return len(self._components)

    def __iter__(self) -> Iterator[Component]:
        return iter(self._components)

    def __repr__(self) -> str:
        return f"ComponentLibrary({', '.join(self.names)})"

    @property
    def names(self) -> list[str]:
        """Component names in order."""
        return [c.name for c in self._components]

    def matrix(self, x: np.ndarray | Sequence[float]) -> np.ndarray:
        """Pure spectra on ``x``: shape (n_components, n_points), float64."""
        x = np.asarray(x, dtype=np.float64)
        return np.stack([c.profile(x) for c in self._components])

    def perturbed(
        self,
        rng: np.random.Generator,
        shift: float = 2.0,
        width: float = 0.05,
        height: float = 0.1,
    ) -> ComponentLibrary:
        """A copy with every peak randomly moved/reshaped (see :meth:`Component.perturbed`)."""
        return ComponentLibrary([c.perturbed(rng, shift, width, height) for c in self])

    @classmethod
    def named(cls, *names: str) -> ComponentLibrary:
        """Library of built-in Raman-like components (all of them when no name is given).

        Available: glucose, acetate, sulfate, ethanol, nitrate, phenylalanine, lactate, urea.
        """
        chosen = names or tuple(RAMAN_COMPONENTS)
        for n in chosen:
            check_choice("component", n, tuple(RAMAN_COMPONENTS))
        return cls([RAMAN_COMPONENTS[n] for n in chosen])

    @classmethod
    def random(
        cls,
        n_components: int,
        axis_range: tuple[float, float],
        *,
        n_peaks: tuple[int, int] = (3, 8),
        fwhm: tuple[float, float] | None = None,
        shapes: Sequence[str] = SHAPES,
        seed: int | np.random.Generator | None = 0,
        prefix: str = "comp",
    ) -> ComponentLibrary:
        """Random pure components with peaks inside ``axis_range``.

        Parameters
        ----------
        n_components : int
            Number of components (named ``<prefix>0``, ``<prefix>1``, ...).
        axis_range : (float, float)
            Range where peaks may lie; peaks keep 3 % of the range away from both ends.
        n_peaks : (int, int), default=(3, 8)
            Inclusive range of the number of peaks per component.
        fwhm : (float, float), optional
            Range of peak widths; defaults to 0.4 %-2 % of the axis range.
        shapes : sequence of str
            Line shapes to draw from.
        seed : int or Generator, optional
            Random seed.
        prefix : str, default="comp"
            Name prefix.

        Returns
        -------
        ComponentLibrary
        """
        n = check_count("n_components", n_components)
        lo, hi = check_range("axis_range", axis_range, nonnegative=False)
        if hi <= lo:
            raise ConfigError("axis_range must have low < high", got=repr(axis_range))
        k_lo, k_hi = (check_count("n_peaks", int(v)) for v in n_peaks)
        if k_lo > k_hi:
            raise ConfigError("n_peaks must be (low, high)", got=repr(n_peaks))
        span = hi - lo
        w_lo, w_hi = check_range("fwhm", fwhm if fwhm is not None else (0.004 * span, 0.02 * span))
        if w_lo <= 0:
            raise ConfigError("peak widths must be positive", got=repr(fwhm))
        for s in shapes:
            check_choice("shape", s, SHAPES)
        rng = np.random.default_rng(seed)
        comps = []
        for i in range(n):
            peaks = _random_peaks(rng, (lo, hi), (k_lo, k_hi), (w_lo, w_hi), shapes)
            comps.append(Component(f"{prefix}{i}", peaks))
        return cls(comps)


def _random_peaks(
    rng: np.random.Generator,
    axis_range: tuple[float, float],
    n_peaks: tuple[int, int],
    fwhm: tuple[float, float],
    shapes: Sequence[str],
) -> tuple[Peak, ...]:
    """The peaks of one random component (checked ranges; this draw order fixes a seed's)."""
    lo, hi = axis_range
    span = hi - lo
    m = int(rng.integers(n_peaks[0], n_peaks[1] + 1))
    pos = rng.uniform(lo + 0.03 * span, hi - 0.03 * span, m)
    widths = np.exp(rng.uniform(np.log(fwhm[0]), np.log(fwhm[1]), m))  # log-uniform
    heights = rng.uniform(0.1, 1.0, m)
    heights[rng.integers(m)] = 1.0  # every component has one full-height band
    sh = rng.choice(np.asarray(shapes), m)
    eta = rng.uniform(0.1, 0.9, m)
    return tuple(
        Peak(float(p), float(w), float(h), str(s), float(e))
        for p, w, h, s, e in zip(pos, widths, heights, sh, eta, strict=True)
    )
