"""Pinned outputs of the synthetic generators: fixed seeds give byte-identical data.

The digests were taken before the generator's parameters were grouped into settings
objects; the flat keywords must keep producing exactly these bytes.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from spectrakit import Spectra
from spectrakit.datasets import Instrument, make_multi_instrument, make_synthetic


def _digest(s: Spectra) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(s.values).tobytes())
    h.update(np.ascontiguousarray(s.axis.values).tobytes())
    h.update(s.meta.to_csv(index=False).encode())
    return h.hexdigest()


def _parts_digest(out: tuple[Spectra, dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for key in ("signal", "baseline", "noise", "spikes", "spike_positions", "profiles"):
        h.update(np.ascontiguousarray(out[1][key]).tobytes())
    h.update(np.ascontiguousarray(out[1]["concentrations"]).tobytes())
    return h.hexdigest()


_TWO = [
    Instrument("a"),
    Instrument("b", axis=(450, 1750, 400), shift=1.5, resolution=4.0, read_noise=0.0),
]

#: name -> (generator, flat keywords, sha256 of the output before the grouping)
FLAT: dict[str, tuple[Any, dict[str, Any], str]] = {
    "default": (
        make_synthetic,
        {"n_spectra": 50, "seed": 0},
        "af9a8577599f3cf79547e7b5f91f938377c5544bf2dc43b48e974910ea3ba1a7",
    ),
    "regression": (
        make_synthetic,
        {
            "n_spectra": 40,
            "library": "raman",
            "n_components": 3,
            "concentration_range": (0.2, 0.8),
            "baseline": "mixed",
            "baseline_strength": (0.1, 1.0),
            "intensity": 500.0,
            "read_noise": 2.0,
            "shot_noise": 0.5,
            "axis": (500.0, 1700.0, 300),
            "seed": 3,
        },
        "9637294042aabf36c206528ee6f68ea90359b0ae3ad9ff62d7b5113e4c163e26",
    ),
    "classes": (
        make_synthetic,
        {
            "n_spectra": 60,
            "task": "classification",
            "n_components": 3,
            "n_classes": 4,
            "class_perturbation": 2.0,
            "class_spread": 0.4,
            "baseline": "polynomial",
            "seed": 5,
        },
        "763fbe156e218a35db0d32847b1f7b3f42db4c355e434ad35409feae46f3a97c",
    ),
    "noise": (
        make_synthetic,
        {
            "n_spectra": 30,
            "spike_rate": 1.5,
            "spike_height": (2.0, 4.0),
            "shift_jitter": 0.4,
            "baseline": None,
            "seed": 7,
            "return_components": True,
        },
        "c574809b1ed0e1d5a317403d7ea7dca7d1012a6bfeb7fa5440622463320dab7f",
    ),
    "instruments": (
        make_synthetic,
        {"n_spectra": 45, "instruments": _TWO, "seed": 11},
        "80b98a23b36a2589062adbcd6de1a36c5af3e26a2424c29f61e62ec5aad2172a",
    ),
    "multi": (
        make_multi_instrument,
        {
            "n_samples": 25,
            "instruments": 2,
            "library": "raman",
            "n_components": 2,
            "read_noise": 3.0,
            "combined": True,
            "seed": 2,
        },
        "4dfcd02ff2b65e69630a7550f2ee2d19f17e4ca3788999d4bba338dcba6451c0",
    ),
}


def digest(out: Any) -> str:
    """sha256 of a generator's output (the exact parts when it returns them)."""
    return _parts_digest(out) if isinstance(out, tuple) else _digest(out)


@pytest.mark.parametrize("name", sorted(FLAT))
def test_flat_keywords_give_the_pinned_bytes(name):
    make, kwargs, expected = FLAT[name]
    assert digest(make(**kwargs)) == expected


def _grouped(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The same call with every settings field moved into its group object."""
    from dataclasses import fields

    from spectrakit.datasets import groups

    out = dict(kwargs)
    for name, cls in groups.GROUPS.items():
        mine = {f.name: out.pop(f.name) for f in fields(cls) if f.name in out}
        if mine:
            out[name] = cls(**mine)
    return out


@pytest.mark.parametrize("name", sorted(FLAT))
def test_settings_groups_give_the_same_pinned_bytes(name):
    make, kwargs, expected = FLAT[name]
    grouped = _grouped(kwargs)
    assert not set(grouped) & {"read_noise", "library", "baseline"}  # really moved
    assert digest(make(**grouped)) == expected


def test_a_field_by_name_overrides_its_group():
    from spectrakit.datasets import MeasurementSettings

    quiet = MeasurementSettings(read_noise=0.0, shot_noise=0.0)
    a = make_synthetic(8, measurement=quiet, read_noise=3.0, seed=4)
    b = make_synthetic(8, read_noise=3.0, shot_noise=0.0, seed=4)
    np.testing.assert_array_equal(a.values, b.values)
    c = make_synthetic(8, measurement=quiet, seed=4)
    assert not np.array_equal(a.values, c.values)


@pytest.mark.parametrize(
    ("make", "kwargs", "hint"),
    [
        (make_synthetic, {"read_nosie": 1.0}, "read_noise"),
        (make_synthetic, {"n_component": 3}, "n_components"),
        (make_synthetic, {"mixtures": None}, "mixture"),
        (make_multi_instrument, {"baseline_strenght": (0, 1)}, "baseline_strength"),
    ],
)
def test_a_misspelt_keyword_is_refused_with_the_closest_name(make, kwargs, hint):
    from spectrakit import ConfigError

    with pytest.raises(ConfigError, match="unknown option") as info:
        make(5, **kwargs)
    message = str(info.value)
    assert f"did you mean {hint}" in message and "\n" not in message


def test_a_settings_group_of_the_wrong_type_is_refused():
    from spectrakit import ConfigError
    from spectrakit.datasets import BackgroundSettings

    with pytest.raises(ConfigError, match=r"invalid mixture.*MixtureSettings"):
        make_synthetic(5, mixture={"n_components": 3})
    with pytest.raises(ConfigError, match="invalid measurement"):
        make_synthetic(5, measurement=BackgroundSettings())
