"""What an instrument does to a spectrum: axis calibration, resolution, response, noise levels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.polynomial import legendre
from scipy.ndimage import gaussian_filter1d

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import ConfigError
from spectrakit.datasets._validate import check_count, check_nonnegative

__all__ = ["Instrument", "instrument_matrices", "resolve_axis"]

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))
_MAX_FINE_POINTS = 400_000


@dataclass(frozen=True)
class Instrument:
    """One (simulated) spectrometer.

    A band at true position ``t`` is reported at
    ``centre + (t - centre) * (1 + stretch) + shift`` where ``centre`` is the middle of the
    grid; it is broadened by a Gaussian instrument line shape of FWHM ``resolution``
    (axis units), multiplied by a smooth response curve and by ``gain``, and measured with
    shot, read and cosmic-ray noise.

    Parameters
    ----------
    name : str, default="default"
        Stored in the ``instrument`` metadata column.
    axis : SpectralAxis, array-like, (start, stop, n_points) or None
        The reported grid; ``None`` uses the generator's axis.
    shift : float, default=0.0
        Calibration offset in axis units (a band moves by exactly this much).
    stretch : float, default=0.0
        Relative axis scale error around the grid centre (``0.002`` = 0.2 %).
    resolution : float, default=0.0
        FWHM of the Gaussian instrument line shape in axis units (0 = ideal).
    response : sequence of float, default=()
        Legendre coefficients (orders 1, 2, ...) of the multiplicative response
        ``1 + sum_k a_k P_k(u)`` over the grid (``u`` in [-1, 1]); clipped at 0.05.
    gain : float, default=1.0
        Overall throughput (counts per unit signal).
    offset : float, default=0.0
        Constant dark offset in counts.
    read_noise, shot_noise, spike_rate : float, optional
        Noise levels; ``None`` uses the generator's setting (see
        :func:`~spectrakit.datasets.make_synthetic`).

    Examples
    --------
    >>> inst = Instrument("probe_b", axis=(300, 1900, 800), shift=2.5, resolution=6.0)
    >>> inst.grid(None).n_points
    800
    """

    name: str = "default"
    axis: SpectralAxis | Sequence[float] | np.ndarray | None = field(default=None, compare=False)
    shift: float = 0.0
    stretch: float = 0.0
    resolution: float = 0.0
    response: tuple[float, ...] = ()
    gain: float = 1.0
    offset: float = 0.0
    read_noise: float | None = None
    shot_noise: float | None = None
    spike_rate: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError("instrument name must be a non-empty string", got=repr(self.name))
        for name in ("shift", "stretch"):
            if not np.isfinite(getattr(self, name)):
                raise ConfigError(f"instrument {name} must be finite", got=repr(self))
        if not -0.5 < self.stretch < 0.5:
            raise ConfigError(
                "instrument stretch out of range",
                expected="|stretch| < 0.5",
                got=f"{self.stretch}",
                fix="give a relative error, e.g. 0.002",
            )
        check_nonnegative("resolution", self.resolution)
        check_nonnegative("offset", self.offset)
        if check_nonnegative("gain", self.gain) == 0:
            raise ConfigError("instrument gain must be positive", got="0")
        for name in ("read_noise", "shot_noise", "spike_rate"):
            if getattr(self, name) is not None:
                check_nonnegative(name, getattr(self, name))
        resp = tuple(float(a) for a in self.response)
        if not all(np.isfinite(resp)):
            raise ConfigError("response coefficients must be finite", got=repr(self.response))
        object.__setattr__(self, "response", resp)
        if self.axis is not None:
            object.__setattr__(self, "axis", resolve_axis(self.axis))

    def grid(self, default: SpectralAxis | None) -> SpectralAxis:
        """The reported axis (``default`` when the instrument has none)."""
        if self.axis is not None:
            return self.axis  # type: ignore[return-value]
        if default is None:
            raise ConfigError(f"instrument {self.name!r} has no axis", fix="pass axis=...")
        return default

    def true_positions(self, reported: np.ndarray, centre: float) -> np.ndarray:
        """Invert the calibration: the true positions seen at ``reported`` grid points."""
        return centre + (reported - self.shift - centre) / (1.0 + self.stretch)

    def response_curve(self, reported: np.ndarray) -> np.ndarray:
        """Multiplicative response times gain on the grid, shape (n_points,)."""
        lo, hi = reported[0], reported[-1]
        u = 2.0 * (reported - lo) / (hi - lo) - 1.0 if hi > lo else np.zeros_like(reported)
        curve = legendre.legval(u, (1.0, *self.response)) if self.response else np.ones_like(u)
        return np.clip(curve, 0.05, None) * self.gain

    @classmethod
    def random(
        cls,
        name: str,
        *,
        seed: int | np.random.Generator | None = 0,
        axis: SpectralAxis | Sequence[float] | np.ndarray | None = None,
        max_shift: float = 5.0,
        max_stretch: float = 0.003,
        resolution: tuple[float, float] = (2.0, 10.0),
        response_strength: float = 0.2,
    ) -> Instrument:
        """A plausible instrument with random calibration, resolution and response.

        Parameters
        ----------
        name : str
            Instrument name.
        seed : int or Generator, optional
            Random seed.
        axis : optional
            Its grid (see :class:`Instrument`).
        max_shift, max_stretch : float
            Uniform ranges (+-) of the calibration errors.
        resolution : (float, float)
            Range of the line-shape FWHM (axis units).
        response_strength : float
            Scale of the response-curve coefficients.

        Returns
        -------
        Instrument
        """
        rng = np.random.default_rng(seed)
        return cls(
            name,
            axis=axis,
            shift=float(rng.uniform(-max_shift, max_shift)),
            stretch=float(rng.uniform(-max_stretch, max_stretch)),
            resolution=float(rng.uniform(*resolution)),
            response=tuple(rng.normal(0.0, response_strength, 3) / np.arange(1, 4)),
            gain=float(rng.uniform(0.7, 1.3)),
        )


def resolve_axis(axis) -> SpectralAxis:
    """A SpectralAxis from an axis, an array of values or a ``(start, stop, n_points)`` tuple."""
    if isinstance(axis, SpectralAxis):
        return axis
    if isinstance(axis, tuple) and len(axis) == 3:
        start, stop, n = axis
        n = check_count("number of axis points", n, minimum=2)
        if not (np.isfinite(start) and np.isfinite(stop)) or start == stop:
            raise ConfigError("invalid axis range", expected="start != stop", got=repr(axis))
        lo, hi = sorted((float(start), float(stop)))
        return SpectralAxis(
            np.linspace(lo, hi, n), unit="cm-1", kind="raman_shift", laser_wavelength=785.0
        )
    values = np.asarray(axis, dtype=np.float64)
    if values.ndim != 1 or values.size < 2:
        raise ConfigError(
            "axis needs at least two points",
            expected="shape (n_points,)",
            got=f"shape {values.shape}",
        )
    ax, _ = SpectralAxis.from_values(
        values, unit="cm-1", kind="raman_shift", laser_wavelength=785.0
    )
    return ax


def instrument_matrices(
    profiles: Callable[[np.ndarray], np.ndarray],
    instrument: Instrument,
    grid: np.ndarray,
    *,
    centre: float,
    min_width: float,
    jitter: bool,
) -> list[np.ndarray]:
    """Rows of ``profiles`` as this instrument reports them, plus shift derivatives.

    Parameters
    ----------
    profiles : callable
        ``profiles(true_positions (m,)) -> (k, m)`` pure spectra at true positions.
    instrument : Instrument
    grid : ndarray of shape (n_points,)
        Reported axis.
    centre : float
        Stretch centre.
    min_width : float
        Narrowest band width (sets the fine grid used for broadening).
    jitter : bool
        Also return the first three derivatives with respect to a small extra shift, used
        for per-spectrum shifts by a third-order Taylor expansion.

    Returns
    -------
    list of ndarray of shape (k, n_points), float32
        ``[M0]`` or ``[M0, dM/ds, d2M/ds2, d3M/ds3]``, response and gain included.
    """
    response = instrument.response_curve(grid)

    def at(delta: float) -> np.ndarray:
        if instrument.resolution <= 0:
            return profiles(instrument.true_positions(grid - delta, centre))
        return _broadened(profiles, instrument, grid, delta, centre, min_width)

    m0 = at(0.0)
    mats = [m0]
    if jitter:  # fourth-order central differences of the first three shift derivatives
        h = 0.1 * min_width
        p1, m1, p2, m2 = at(h), at(-h), at(2 * h), at(-2 * h)
        mats += [
            (8 * (p1 - m1) - (p2 - m2)) / (12 * h),
            (16 * (p1 + m1) - (p2 + m2) - 30 * m0) / (12 * h**2),
            (p2 - m2 - 2 * (p1 - m1)) / (2 * h**3),
        ]
    return [np.ascontiguousarray(m * response, dtype=np.float32) for m in mats]


def _broadened(profiles, instrument, grid, delta, centre, min_width) -> np.ndarray:
    sigma = instrument.resolution * _FWHM_TO_SIGMA
    pad = 6.0 * sigma + abs(delta)
    lo, hi = grid[0] - pad, grid[-1] + pad
    step = min(np.min(np.diff(grid)) / 4.0, min_width / 20.0, instrument.resolution / 20.0)
    step = max(step, (hi - lo) / _MAX_FINE_POINTS)
    fine = np.arange(lo, hi + step, step)
    rows = profiles(instrument.true_positions(fine - delta, centre))
    rows = gaussian_filter1d(rows, sigma / step, axis=1, mode="nearest", truncate=6.0)
    return np.stack([np.interp(grid, fine, r) for r in rows])
