"""Seeded NIR-like absorbance spectra: broad overlapping bands, a weak analyte, scatter.

A sample is a mixture of ``n_constituents`` matrix constituents and one analyte, each a sum of
broad Gaussian overtone/combination bands (FWHM 40-160 nm) on 1100-2500 nm. The analyte's
absorbance is about ``analyte_fraction`` (default 1 %) of the total. Every spectrum then gets
what makes NIR calibration hard:

- multiplicative scatter (path length) and an additive offset + slope baseline per spectrum;
- a sample temperature that shifts and broadens the water-like band (a non-linear effect
  that a linear model can only approximate);
- stray light (``A = -log10((10^-A + s) / (1 + s))``), which bends high absorbances;
- noise.

An :class:`NIRInstrument` reports the spectra on its own grid after its wavelength shift,
extra band broadening (a Gaussian instrument line shape) and response curve (a smooth
additive absorbance curve, ``-log10`` of the detector response). Two instruments measuring the
same kind of samples give the classic calibration-transfer problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from spectrakit.core.axis import SpectralAxis
from spectrakit.core.errors import ConfigError
from spectrakit.core.spectra import Spectra
from spectrakit.datasets._validate import check_count

__all__ = ["NIRInstrument", "make_nir", "nir_instrument_pair"]

_LOW, _HIGH = 1100.0, 2500.0


@dataclass(frozen=True)
class NIRInstrument:
    """How one NIR spectrometer reports a sample.

    Parameters
    ----------
    name : str
    start, stop, step : float
        Reported grid in nm.
    shift : float
        Wavelength calibration error in nm (bands appear ``shift`` nm higher).
    broadening : float
        FWHM in nm of the instrument line shape convolved with every band.
    response : tuple of float
        Coefficients of the additive response curve in absorbance, a polynomial in the
        wavelength scaled to [-1, 1] (constant term first).
    noise : float
        Standard deviation of the absorbance noise.
    """

    name: str = "A"
    start: float = _LOW
    stop: float = _HIGH
    step: float = 2.0
    shift: float = 0.0
    broadening: float = 0.0
    response: tuple[float, ...] = ()
    noise: float = 2e-4

    def __post_init__(self) -> None:
        if not (_LOW - 50 <= self.start < self.stop <= _HIGH + 50) or self.step <= 0:
            raise ConfigError(
                "NIR instrument grid outside the simulated range",
                expected=f"{_LOW - 50:g} <= start < stop <= {_HIGH + 50:g} nm, step > 0",
                got=f"start={self.start}, stop={self.stop}, step={self.step}",
            )
        if self.broadening < 0 or self.noise < 0:
            raise ConfigError(
                "broadening and noise must be >= 0",
                got=f"broadening={self.broadening}, noise={self.noise}",
            )

    def axis(self) -> SpectralAxis:
        """The reported wavelength grid."""
        n = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return SpectralAxis(self.start + self.step * np.arange(n), unit="nm")


def nir_instrument_pair() -> tuple[NIRInstrument, NIRInstrument]:
    """A master and a slave instrument that differ the way two real NIR spectrometers do.

    The slave reads 1.5 nm high, has a 12 nm wider line shape, a tilted and curved response
    and a coarser grid (3 nm instead of 2 nm over a slightly shorter range).
    """
    master = NIRInstrument("A", _LOW, _HIGH, 2.0, 0.0, 0.0, (), 2e-4)
    slave = NIRInstrument("B", 1104.0, 2494.0, 3.0, 1.5, 12.0, (0.03, 0.02, -0.015), 3e-4)
    return master, slave


def _bands(rng: np.random.Generator, n_species: int) -> list[np.ndarray]:
    """Per species an array (m, 3) of band centre (nm), FWHM (nm) and height."""
    out = []
    for _ in range(n_species):
        m = int(rng.integers(3, 6))
        centre = rng.uniform(_LOW + 60, _HIGH - 60, m)
        fwhm = rng.uniform(40.0, 160.0, m)
        height = rng.uniform(0.3, 1.0, m)
        out.append(np.stack([centre, fwhm, height], axis=1))
    return out


def _profile(bands: np.ndarray, grid: np.ndarray, shift, widen, extra: float) -> np.ndarray:
    """Absorbance of one species per sample, shape (n, p).

    ``shift`` and ``widen`` (nm, shape (n,)) move and widen every band of a sample; the
    instrument line shape of FWHM ``extra`` widens them in quadrature, keeping band areas.
    """
    shift = np.asarray(shift, dtype=np.float64)
    widen = np.broadcast_to(np.asarray(widen, dtype=np.float64), shift.shape)
    out = np.zeros((shift.size, grid.size))
    for centre, fwhm, height in bands:
        natural = np.maximum(fwhm + widen, 5.0)[:, None]
        width = np.sqrt(natural**2 + extra**2)
        z = (grid[None, :] - centre - shift[:, None]) / (width / 2.3548)
        out += height * (natural / width) * np.exp(-0.5 * z**2)
    return out


def _apply_stray(a: np.ndarray, stray: float) -> np.ndarray:
    return -np.log10((10.0 ** (-a) + stray) / (1.0 + stray))


@dataclass(frozen=True)
class _Chemistry:
    matrix: list[np.ndarray]
    analyte: np.ndarray  # heights scaled so the analyte is ``fraction`` of the absorbance
    water: np.ndarray


def _chemistry(seed: int, n_constituents: int, fraction: float) -> _Chemistry:
    rng = np.random.default_rng([seed, 7])
    bands = _bands(rng, n_constituents + 1)
    water = np.array([[1450.0, 110.0, 1.0], [1940.0, 140.0, 1.6], [1190.0, 90.0, 0.25]])
    grid = np.arange(_LOW, _HIGH + 1, 2.0)
    zero = np.zeros(1)
    typical = sum(_profile(b, grid, zero, 0.0, 0.0) for b in bands[:-1]) / n_constituents
    typical = typical + _profile(water, grid, zero, 0.0, 0.0)
    unit = _profile(bands[-1], grid, zero, 0.0, 0.0)
    scale = fraction * float(typical.mean()) / (0.5 * float(unit.mean()))
    return _Chemistry(bands[:-1], bands[-1] * np.array([1.0, 1.0, scale]), water)


def make_nir(
    n_samples: int,
    *,
    instruments: tuple[NIRInstrument, ...] | NIRInstrument | None = None,
    n_constituents: int = 5,
    analyte_fraction: float = 0.01,
    scatter: float = 0.08,
    temperature_sd: float = 3.0,
    stray_light: float = 0.002,
    chemistry_seed: int = 0,
    seed: int = 0,
) -> dict[str, Spectra]:
    """NIR-like absorbance spectra of the same samples on one or several instruments.

    Parameters
    ----------
    n_samples : int
        Samples drawn; every instrument measures all of them (split them yourself to
        simulate different populations).
    instruments : NIRInstrument or tuple of them, optional
        Default: the master of :func:`nir_instrument_pair`.
    n_constituents : int, default=5
        Matrix constituents besides the analyte and water.
    analyte_fraction : float, default=0.01
        Mean share of the analyte in the total absorbance.
    scatter : float, default=0.08
        Log-normal SD of the multiplicative scatter; offsets and slopes scale with it.
    temperature_sd : float, default=3.0
        SD in K of the sample temperature (water band: +0.6 nm/K shift, +1 nm/K wider).
    stray_light : float, default=0.002
        Stray-light fraction.
    chemistry_seed : int, default=0
        Seed of the pure-component bands (keep it fixed to get the same chemistry).
    seed : int, default=0
        Seed of the samples and the measurement effects.

    Returns
    -------
    dict of str to Spectra
        One Spectra per instrument name, meta ``sample_id``, ``analyte`` (concentration in
        [0, 1]), ``temperature`` and the matrix concentrations ``c0..``.

    Examples
    --------
    >>> a = make_nir(50, seed=1)["A"]
    >>> a.shape, round(float(a.meta["analyte"].between(0, 1).mean()), 1)
    ((50, 701), 1.0)
    """
    n = check_count("n_samples", n_samples)
    if not 0 < analyte_fraction < 0.5:
        raise ConfigError("analyte_fraction must be in (0, 0.5)", got=str(analyte_fraction))
    insts = _instrument_tuple(instruments)
    chem = _chemistry(chemistry_seed, n_constituents, analyte_fraction)
    samples = _draw_samples([seed, 11], n, n_constituents, temperature_sd, scatter)
    meta = _sample_meta(samples)
    out = {}
    for k, inst in enumerate(insts):
        values = _nir_block(chem, inst, samples, stray_light, np.random.default_rng([seed, 13, k]))
        out[inst.name] = Spectra(values.astype(np.float32), inst.axis(), pd.DataFrame(meta))
    return out


def _instrument_tuple(
    instruments: tuple[NIRInstrument, ...] | NIRInstrument | None,
) -> tuple[NIRInstrument, ...]:
    """``instruments`` as a tuple; ``None``: the first of :func:`nir_instrument_pair`."""
    if instruments is None:
        return (nir_instrument_pair()[0],)
    return (instruments,) if isinstance(instruments, NIRInstrument) else tuple(instruments)


@dataclass(frozen=True)
class _Samples:
    """Per-sample state shared by every instrument: chemistry, temperature and scatter."""

    conc: np.ndarray  # (n, n_constituents)
    analyte: np.ndarray  # (n,)
    temp: np.ndarray  # (n,)
    path: np.ndarray  # (n,) multiplicative path length
    offset: np.ndarray  # (n,) additive scatter
    slope: np.ndarray  # (n,) linear scatter tilt


def _draw_samples(
    seed: list[int], n: int, n_constituents: int, temperature_sd: float, scatter: float
) -> _Samples:
    """Draw ``n`` samples (this order of draws fixes the data set for a seed)."""
    rng = np.random.default_rng(seed)
    conc = rng.dirichlet(np.full(n_constituents, 2.0), n) * rng.uniform(0.6, 1.4, (n, 1))
    analyte = rng.uniform(0.0, 1.0, n)
    temp = rng.normal(0.0, temperature_sd, n)
    path = np.exp(rng.normal(0.0, scatter, n))
    offset = rng.normal(0.0, 0.5 * scatter, n)
    slope = rng.normal(0.0, 0.3 * scatter, n)
    return _Samples(conc, analyte, temp, path, offset, slope)


def _sample_meta(samples: _Samples) -> dict[str, np.ndarray]:
    """Metadata columns: ``sample_id``, ``analyte``, ``temperature``, ``c0``, ``c1``, ..."""
    n, n_constituents = samples.conc.shape
    meta = {"sample_id": np.arange(n), "analyte": samples.analyte, "temperature": samples.temp}
    meta.update({f"c{j}": samples.conc[:, j] for j in range(n_constituents)})
    return meta


def _nir_block(
    chem: _Chemistry,
    inst: NIRInstrument,
    samples: _Samples,
    stray_light: float,
    noise_rng: np.random.Generator,
) -> np.ndarray:
    """Absorbance of shape (n, n_points) of ``samples`` on ``inst``: scatter, response, noise."""
    grid = inst.axis().values
    values = _measure(chem, inst, grid, samples.conc, samples.analyte, samples.temp)
    u = (grid - grid.mean()) / (0.5 * (grid.max() - grid.min()))
    values = (
        samples.path[:, None] * values
        + samples.offset[:, None]
        + samples.slope[:, None] * u[None, :]
    )
    if inst.response:
        values = values + np.polynomial.polynomial.polyval(u, np.asarray(inst.response))
    values = _apply_stray(values, stray_light)
    return values + noise_rng.normal(0.0, inst.noise, values.shape)


def _measure(chem: _Chemistry, inst: NIRInstrument, grid, conc, analyte, temp) -> np.ndarray:
    """Mixture absorbance on ``grid`` before scatter, shape (n, p)."""
    shift = np.full(conc.shape[0], inst.shift)
    ext = inst.broadening
    matrix = sum(
        conc[:, [j]] * _profile(b, grid, shift, 0.0, ext) for j, b in enumerate(chem.matrix)
    )
    water = _profile(chem.water, grid, shift + 0.6 * temp, 1.0 * temp, ext)
    return matrix + water + analyte[:, None] * _profile(chem.analyte, grid, shift, 0.0, ext)
