"""Masked pretraining: the scaling sees visible patches only and keeps absolute intensity."""

from __future__ import annotations

import pytest
import torch

from spectrakit.core.errors import ConfigError
from spectrakit.models import create
from spectrakit.tasks.masked import MaskedModelingTask

pytestmark = pytest.mark.usefixtures("one_torch_thread")
LENGTH = 128


def _task(normalize, mask_mode="token"):
    torch.manual_seed(0)
    model = create("specbert_tiny", in_channels=1)
    task = MaskedModelingTask(model, mask_ratio=0.25, mask_mode=mask_mode, normalize=normalize)
    seen = []
    original = model.forward_masked

    def spy(x, mask, axis=None):
        seen.append(x.detach().clone())
        return original(x, mask, axis=axis)

    model.forward_masked = spy
    return task, seen


def _mask(task, b=3):
    n = LENGTH // int(task.model.patch_size)
    mask = torch.zeros(b, n, dtype=torch.bool)
    mask[:, [1, 2, 5]] = True
    return mask, mask.repeat_interleave(int(task.model.patch_size), dim=1)[:, None, :]


@pytest.mark.parametrize("normalize", ["intensity", "visible"])
@pytest.mark.parametrize("mask_mode", ["token", "noise"])
@pytest.mark.parametrize("training", [True, False])
def test_hidden_values_do_not_change_what_the_encoder_sees(normalize, mask_mode, training):
    task, seen = _task(normalize, mask_mode)
    task.train(training)
    mask, hidden = _mask(task)
    x = 1.0 + 0.1 * torch.rand(3, 1, LENGTH)
    changed = torch.where(hidden, x + 50.0, x)  # hidden patches: much larger values
    state = task.norm_stats.clone()
    torch.manual_seed(1)
    task.reconstruction({"x": x}, mask)
    task.norm_stats.copy_(state)
    torch.manual_seed(1)
    task.reconstruction({"x": changed}, mask)
    visible = ~hidden.expand_as(x)
    torch.testing.assert_close(seen[0][visible], seen[1][visible], atol=0, rtol=0)
    # the statistics saw only visible points: the running state is the same either way
    if normalize == "intensity":
        after_first = task.norm_stats.clone()
        task.norm_stats.copy_(state)
        task.reconstruction({"x": x}, mask)
        torch.testing.assert_close(task.norm_stats, after_first)


def test_old_per_spectrum_standardization_leaked_the_hidden_mean():
    from spectrakit.models.inputs import normalize_spectra

    task, _ = _task("visible")
    _, hidden = _mask(task, b=1)
    x = torch.rand(1, 1, LENGTH)
    changed = torch.where(hidden, x + 50.0, x)
    visible = ~hidden
    assert not torch.allclose(normalize_spectra(x)[visible], normalize_spectra(changed)[visible])


def test_intensity_scaling_keeps_concentration_differences():
    assert _task(True)[0].hparams.normalize == "visible"  # the default: no leak
    task, seen = _task("intensity")
    task.eval()
    mask, _ = _mask(task, b=2)
    base = 0.5 + torch.rand(1, 1, LENGTH)
    x = torch.cat([base, 2.0 * base])  # the same spectrum at twice the concentration
    task.reconstruction({"x": x}, mask)
    seen.clear()
    task.reconstruction({"x": x}, mask)
    a, b = seen[0][0], seen[0][1]
    stats = task.norm_stats
    torch.testing.assert_close(b * stats[1] + stats[0], 2 * (a * stats[1] + stats[0]))
    assert not torch.allclose(a, b, atol=1e-3)
    # per-spectrum standardization would make the two identical
    task_v, seen_v = _task("visible")
    task_v.reconstruction({"x": x}, torch.zeros_like(mask))
    torch.testing.assert_close(seen_v[0][0], seen_v[0][1], atol=1e-4, rtol=1e-4)


def test_unknown_normalization_is_one_clear_error():
    with pytest.raises(ConfigError, match="normalize"):
        MaskedModelingTask(create("specbert_tiny", in_channels=1), normalize="zscore")


def test_no_normalization_passes_raw_values():
    task, seen = _task(False)
    mask, _ = _mask(task)
    x = torch.rand(3, 1, LENGTH)
    task.reconstruction({"x": x}, mask)
    torch.testing.assert_close(seen[0], x)
