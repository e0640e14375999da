"""SpectraFM reads other grids: random re-gridding in training, checked on a finer grid."""

from __future__ import annotations

import numpy as np
import torch

from spectrakit.models import create
from spectrakit.models.spectrafm_grid import interp_rows, random_grid

LO, HI = 15150.0, 16940.0
LINES = np.linspace(15300.0, 16800.0, 12)


def _observe(y: np.ndarray, points: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Absorption lines whose depth follows y, on ``points`` points; (B, 1, L) and (L,)."""
    axis = np.linspace(LO, HI, points)
    depth = 0.35 + 0.25 * y[:, None] * np.linspace(0.6, 1.0, LINES.size)[None]
    profile = np.exp(-0.5 * ((axis[:, None] - LINES[None]) / 15.0) ** 2)
    flux = 1.0 - depth @ profile.T
    flux += np.random.default_rng(seed).normal(0, 0.01, flux.shape)
    return torch.tensor(flux, dtype=torch.float32).unsqueeze(1), torch.tensor(axis)


def test_interp_rows_matches_numpy():
    axis = torch.tensor(np.sort(np.random.default_rng(0).uniform(0, 10, (2, 30)), axis=1))
    x = torch.sin(axis).unsqueeze(1)
    new = torch.linspace(1.0, 9.0, 17, dtype=axis.dtype).expand(2, -1)
    got = interp_rows(x, axis, new)[:, 0].numpy()
    want = np.stack([np.interp(new[i].numpy(), axis[i].numpy(), x[i, 0].numpy()) for i in range(2)])
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_random_grid_keeps_whole_patches_inside_the_range():
    torch.manual_seed(3)
    axis = torch.linspace(5000.0, 1000.0, 200, dtype=torch.float64).expand(4, -1)  # descending
    x = torch.randn(4, 2, 200)
    for _ in range(20):
        new_x, new_axis = random_grid(x, axis, 8)
        assert new_x.shape[:2] == (4, 2) and new_x.shape[2] == new_axis.shape[1]
        assert new_axis.shape[1] % 8 == 0 and new_axis.shape[1] >= 16
        assert float(new_axis.min()) >= 1000.0 - 1e-9 and float(new_axis.max()) <= 5000.0 + 1e-9
        assert bool((new_axis[:, 1:] > new_axis[:, :-1]).all())


def test_grid_augment_is_training_only():
    model = create("spectrafm_tiny", n_outputs=1).eval()
    x, axis = _observe(np.zeros(3), 128, 0)
    torch.manual_seed(0)
    a = model(x, axis)
    torch.manual_seed(1)
    torch.testing.assert_close(model(x, axis), a)
