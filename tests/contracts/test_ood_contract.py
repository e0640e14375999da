"""Every registered OOD detector: fit, score (far data scores higher), calibrate, persist.

Parametrised over :data:`spectrakit.ood.DETECTORS`: the detector is fitted on inputs of its
``input_kind``, calibrated on held-out in-distribution inputs, written to a folder and read
back, and the copy must give the same scores, threshold and flags.
"""

from __future__ import annotations

import numpy as np
import pytest

from spectrakit.core.errors import BundleError
from spectrakit.ood import DETECTORS, create_detector, load_detector, save_detector


def _inputs(kind: str, n: int, shift: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "reconstruction":  # per-spectrum reconstruction errors, several masks
        return np.abs(rng.normal(0.1 + shift, 0.02, (n, 3)))
    latent = rng.normal(size=(n, 3))
    mixing = np.random.default_rng(99).normal(size=(3, 6))
    data = latent @ mixing + 0.05 * rng.normal(size=(n, 6))
    if kind == "logits":  # confident in-distribution logits, flat ones far away
        return 4.0 * data / (1.0 + shift) if shift else 4.0 * data
    return data + shift * np.linspace(1.0, 2.0, 6)


@pytest.mark.parametrize("name", list(DETECTORS))
def test_fit_score_persist_round_trip(name, tmp_path):
    det = create_detector(name)
    kind = det.input_kind
    train, held_out = _inputs(kind, 200, 0.0, 0), _inputs(kind, 100, 0.0, 1)
    far = _inputs(kind, 50, 8.0, 2)
    det.fit(train).calibrate(held_out, false_rejection=0.1)
    inside, outside = det.score_samples(held_out), det.score_samples(far)
    assert inside.shape == (100,) and np.isfinite(inside).all()
    assert np.median(outside) > np.quantile(inside, 0.9), "far data should score higher"
    assert det.predict(held_out).mean() == pytest.approx(0.1, abs=0.02)

    save_detector(det, tmp_path)
    copy = load_detector(tmp_path)
    assert type(copy) is type(det) and copy.get_params() == det.get_params()
    assert copy.threshold_ == det.threshold_ and copy.false_rejection_ == 0.1
    np.testing.assert_array_equal(copy.score_samples(far), outside)
    np.testing.assert_array_equal(copy.predict(far), det.predict(far))


@pytest.mark.parametrize("name", list(DETECTORS))
def test_damaged_description_is_refused(name, tmp_path):
    det = create_detector(name)
    det.fit(_inputs(det.input_kind, 100, 0.0, 0))
    json_path = save_detector(det, tmp_path)
    json_path.write_text(json_path.read_text()[: len(json_path.read_text()) // 2])
    with pytest.raises(BundleError, match=r"ood\.json"):
        load_detector(tmp_path)
