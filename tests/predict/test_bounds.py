"""Declared target bounds: clipping to a bound the truth satisfies never increases an error."""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import ConfigError
from spectrakit.predict.bounds import clip_to_bounds


@pytest.mark.parametrize("seed", range(5))
def test_clipping_to_a_true_bound_never_increases_any_absolute_error(seed):
    rng = np.random.default_rng(seed)
    y = rng.gamma(1.0, 5.0, 500)  # concentrations, many near 0 (true lower bound 0)
    y = np.minimum(y, 30.0)  # and a true upper bound of 30
    p = y + rng.normal(0.0, 6.0, y.size)  # predictions that cross both bounds
    assert (p < 0).any() and (p > 30).any()
    q = clip_to_bounds(p, lower=0.0, upper=30.0)
    assert np.all(np.abs(q - y) <= np.abs(p - y) + 1e-12)
    # strictly better wherever a prediction was outside the bounds
    out = (p < 0) | (p > 30)
    assert np.all(np.abs(q - y)[out] < np.abs(p - y)[out])
    assert np.sqrt(np.mean((q - y) ** 2)) < np.sqrt(np.mean((p - y) ** 2))
    assert q.min() == 0.0 and q.max() == 30.0


def test_clip_keeps_values_inside_and_does_not_modify_input():
    p = np.array([-2.0, 0.5, 3.0])
    q = clip_to_bounds(p, lower=0.0)
    assert q.tolist() == [0.0, 0.5, 3.0]
    assert p.tolist() == [-2.0, 0.5, 3.0]
    r = clip_to_bounds(p)  # no bound declared: unchanged copy
    assert r.tolist() == p.tolist() and r is not p


def test_a_clip_to_a_bound_the_truth_breaks_can_hurt():
    # the guarantee needs y >= lower: with a wrong bound the error grows (the test can fail)
    y, p = np.array([-1.0]), np.array([-1.0])
    assert abs(clip_to_bounds(p, lower=0.0)[0] - y[0]) == 1.0


@pytest.mark.parametrize("lower, upper", [(1.0, 0.0), (np.nan, None), (None, np.inf)])
def test_bad_bounds_are_refused(lower, upper):
    with pytest.raises(ConfigError):
        clip_to_bounds(np.zeros(3), lower=lower, upper=upper)
