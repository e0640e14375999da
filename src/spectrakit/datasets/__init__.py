"""Datasets: a seeded synthetic generator with known ground truth, and real reference sets.

- :func:`make_synthetic`, :func:`make_multi_instrument`, :func:`make_peaks` with
  :class:`Instrument`, :class:`ComponentLibrary`, :class:`Component`, :class:`Peak`, and
  the settings groups :class:`MixtureSettings`, :class:`BackgroundSettings`,
  :class:`MeasurementSettings`.
- :func:`load_coffee`, :func:`load_fermentation`, :func:`load_fermentation_reference`
  (shipped with the optional ``datasets`` extra, ``pip install spectrakit[datasets]``).
- :func:`fetch`, :func:`load_bacteria_id`, :func:`load_dig4bio`: public sets downloaded
  once into a checksummed cache (``SPECTRAKIT_DATA`` or ``~/.cache/spectrakit``).
"""

from spectrakit.datasets._cache import RemoteDataset, RemoteFile, data_home, fetch
from spectrakit.datasets._components import RAMAN_COMPONENTS, Component, ComponentLibrary, Peak
from spectrakit.datasets._instrument import Instrument
from spectrakit.datasets._peaks import SHAPES, make_peaks
from spectrakit.datasets.groups import BackgroundSettings, MeasurementSettings, MixtureSettings
from spectrakit.datasets.reference import (
    load_coffee,
    load_fermentation,
    load_fermentation_reference,
)
from spectrakit.datasets.remote import REGISTRY, load_bacteria_id, load_dig4bio, register
from spectrakit.datasets.synthetic import DEFAULT_AXIS, make_multi_instrument, make_synthetic

__all__ = [
    "DEFAULT_AXIS",
    "RAMAN_COMPONENTS",
    "REGISTRY",
    "SHAPES",
    "BackgroundSettings",
    "Component",
    "ComponentLibrary",
    "Instrument",
    "MeasurementSettings",
    "MixtureSettings",
    "Peak",
    "RemoteDataset",
    "RemoteFile",
    "data_home",
    "fetch",
    "load_bacteria_id",
    "load_coffee",
    "load_dig4bio",
    "load_fermentation",
    "load_fermentation_reference",
    "make_multi_instrument",
    "make_peaks",
    "make_synthetic",
    "register",
]
