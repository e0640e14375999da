"""Pinned outputs of the synthetic generators: fixed seeds give the same data everywhere.

The fingerprints in ``synthetic_fingerprints.json`` were taken before the generator's
parameters were grouped into settings objects; flat keywords and settings groups must both
reproduce them.

A sha256 of the raw bytes is not portable: NumPy picks its SIMD kernels for ``exp``, ``sin``
and friends by CPU (AVX2 or AVX-512), and they differ in the last bit, which flips the last
float32 bit of a few values. The pins therefore compare statistics and sampled values of
every float part with a relative tolerance of ``RTOL`` (a few float32 ulps), and integer and
text parts exactly. Within one process, flat and grouped keywords must still give
bit-identical arrays.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from spectrakit import Spectra
from spectrakit.datasets import Instrument, make_multi_instrument, make_synthetic

#: relative tolerance on float statistics: a few float32 ulps
RTOL = 2e-6
#: where the pinned fingerprints live
PINS = Path(__file__).with_name("synthetic_fingerprints.json")
_COMPONENTS = ("signal", "baseline", "noise", "spikes", "spike_positions", "profiles")


def _text_hash(values: np.ndarray) -> str:
    return hashlib.sha256("\n".join(map(str, values.ravel().tolist())).encode()).hexdigest()


def _float_part(a: np.ndarray) -> dict[str, Any]:
    """Per-row sums, absolute sums and signed projections, the sum of squares, samples."""
    rows = a.astype(np.float64).reshape(a.shape[0] if a.ndim > 1 else 1, -1)
    signs = np.random.default_rng(0).integers(-1, 2, rows.shape[1]).astype(np.float64)
    flat = rows.ravel()
    picks = np.linspace(0, flat.size - 1, min(16, flat.size)).astype(np.int64)
    return {
        "sum": rows.sum(axis=1).tolist(),
        "abs": np.abs(rows).sum(axis=1).tolist(),
        "dot": (rows @ signs).tolist(),
        "sq": float((flat * flat).sum()),
        "samples": flat[picks].tolist(),
    }


def _part(a: Any) -> dict[str, Any]:
    """Fingerprint of one array: float statistics, or an exact hash of integers and text."""
    a = np.asarray(a)
    out: dict[str, Any] = {"shape": list(a.shape)}
    if a.dtype.kind in "iub":
        out["sha256"] = hashlib.sha256(a.astype("<i8").tobytes()).hexdigest()
    elif a.dtype.kind != "f":
        out["sha256"] = _text_hash(a)
    elif a.size:
        out.update(_float_part(a))
    return out


def _spectra_parts(s: Spectra) -> dict[str, Any]:
    parts = {"values": s.values, "axis": s.axis.values}
    parts.update({f"meta.{c}": s.meta[c].to_numpy() for c in s.meta.columns})
    return parts


def fingerprint(out: Any) -> dict[str, Any]:
    """Fingerprints of every part of a generator's output (its components when returned)."""
    if isinstance(out, tuple):
        parts = _spectra_parts(out[0])
        parts.update({k: out[1][k] for k in (*_COMPONENTS, "concentrations")})
    else:
        parts = _spectra_parts(out)
    return {name: _part(a) for name, a in parts.items()}


def _close(have: Any, want: Any, scale: Any, what: str) -> None:
    have, want = np.asarray(have, dtype=float), np.asarray(want, dtype=float)
    assert have.shape == want.shape, what
    excess = np.abs(have - want) - RTOL * np.asarray(scale, dtype=float)
    assert (excess <= 0).all(), f"{what}: off by {np.abs(have - want).max():.3g}"


def assert_matches(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """Exact shapes and hashes; float statistics within ``RTOL`` of their own scale.

    A row's sum and signed projection are compared on the scale of its absolute sum, so
    cancellation cannot make the tolerance vanish; samples on the scale of the part's mean
    absolute value.
    """
    assert sorted(got) == sorted(expected)
    for name, want in expected.items():
        have = got[name]
        assert have["shape"] == want["shape"] and have.get("sha256") == want.get("sha256"), name
        if "sum" not in want:
            continue
        mean_abs = sum(want["abs"]) / max(int(np.prod(want["shape"])), 1)
        _close(have["abs"], want["abs"], want["abs"], f"{name} abs")
        _close(have["sum"], want["sum"], want["abs"], f"{name} sum")
        _close(have["dot"], want["dot"], want["abs"], f"{name} dot")
        _close(have["sq"], want["sq"], want["sq"], f"{name} sq")
        scale = np.abs(want["samples"]) + mean_abs
        _close(have["samples"], want["samples"], scale, f"{name} samples")


_TWO = [
    Instrument("a"),
    Instrument("b", axis=(450, 1750, 400), shift=1.5, resolution=4.0, read_noise=0.0),
]

#: name -> (generator, flat keywords); the fingerprints are in ``PINS``
FLAT: dict[str, tuple[Any, dict[str, Any]]] = {
    "default": (
        make_synthetic,
        {"n_spectra": 50, "seed": 0},
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
    ),
    "instruments": (
        make_synthetic,
        {"n_spectra": 45, "instruments": _TWO, "seed": 11},
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
    ),
}


def _expected(name: str) -> dict[str, Any]:
    return json.loads(PINS.read_text())[name]


@pytest.mark.parametrize("name", sorted(FLAT))
def test_flat_keywords_give_the_pinned_output(name):
    make, kwargs = FLAT[name]
    assert_matches(fingerprint(make(**kwargs)), _expected(name))


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


def _arrays(out: Any) -> list[np.ndarray]:
    if isinstance(out, tuple):
        return [out[0].values, *(np.asarray(out[1][k]) for k in (*_COMPONENTS, "concentrations"))]
    return [out.values, out.axis.values]


@pytest.mark.parametrize("name", sorted(FLAT))
def test_settings_groups_give_the_same_output(name):
    make, kwargs = FLAT[name]
    grouped = _grouped(kwargs)
    assert not set(grouped) & {"read_noise", "library", "baseline"}  # really moved
    flat_out, grouped_out = make(**kwargs), make(**grouped)
    assert_matches(fingerprint(grouped_out), _expected(name))
    for a, b in zip(_arrays(flat_out), _arrays(grouped_out), strict=True):
        np.testing.assert_array_equal(a, b)  # bit-identical within one process


def test_the_fingerprint_sees_a_one_value_change():
    out = make_synthetic(n_spectra=10, seed=0)
    before = fingerprint(out)
    assert_matches(fingerprint(out), before)
    values = out.values.copy()
    values[3, int(np.argmax(values[3]))] *= 1.01  # one value of 10,000, by 1 %
    with pytest.raises(AssertionError, match=r"^values (abs|sum|dot)"):
        assert_matches(fingerprint(out.with_values(values)), before)


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
