"""SpectraFM patches of a fixed physical width: the same tokens on any grid and sub-range."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spectrakit.core.errors import ModelError
from spectrakit.models import create
from spectrakit.models.spectrafm_grid import physical_grid
from spectrakit.ood import reconstruction_errors
from spectrakit.tasks.masked import MaskedModelingTask

LO, HI = 15150.0, 16940.0
STEP = (HI - LO) / 290


def _smooth(axis: np.ndarray, n: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Broad noiseless absorption lines on ``axis``: (n, 1, L) and (L,)."""
    centres = np.linspace(15300.0, 16800.0, 12)
    depth = np.linspace(0.2, 0.6, n)[:, None] * np.ones(centres.size)[None]
    flux = 1.0 - depth @ np.exp(-0.5 * ((axis[:, None] - centres[None]) / 25.0) ** 2).T
    return torch.tensor(flux, dtype=torch.float32).unsqueeze(1), torch.tensor(axis)


def test_physical_grid_gives_the_same_tokens_on_a_finer_grid_and_a_subrange():
    x1, a1 = _smooth(np.linspace(LO, HI, 291))
    x2, a2 = _smooth(np.linspace(LO, HI, 1163))  # 4x finer, same range
    x3, a3 = _smooth(np.linspace(HI, 16040.0, 400))  # descending sub-range
    v1, g1 = physical_grid(x1, a1.expand(3, -1), STEP, 8)
    v2, g2 = physical_grid(x2, a2.expand(3, -1), STEP, 8)
    v3, g3 = physical_grid(x3, a3.expand(3, -1), STEP, 8)
    assert g1.shape[1] % 8 == 0 and torch.equal(g1, g2)
    np.testing.assert_allclose(v1.numpy(), v2.numpy(), atol=6e-3)  # interpolation error
    # the sub-range's patches are a subset of the full range's, at the same positions
    start = int(torch.nonzero(torch.isclose(g1[0], g3[0, 0])).item())
    assert start % 8 == 0
    torch.testing.assert_close(g3, g1[:, start : start + g3.shape[1]])
    np.testing.assert_allclose(v3.numpy(), v1[..., start : start + g3.shape[1]].numpy(), atol=6e-3)
    # every patch starts at a multiple of the physical patch width
    starts = g1[0, ::8] / (8 * STEP)
    torch.testing.assert_close(starts, starts.round())


def test_model_with_physical_patches_reads_a_finer_grid_like_the_training_grid():
    torch.manual_seed(0)
    fixed = create("spectrafm_tiny", n_outputs=2, patch_step=STEP).eval()
    points = create("spectrafm_tiny", n_outputs=2).eval()
    points.load_state_dict(fixed.state_dict())
    x1, a1 = _smooth(np.linspace(LO, HI, 288))
    x2, a2 = _smooth(np.linspace(LO, HI, 576))
    with torch.no_grad():
        gap_fixed = (fixed(x1, a1) - fixed(x2, a2)).abs().max().item()
        gap_points = (points(x1, a1) - points(x2, a2)).abs().max().item()
    assert gap_fixed < 1e-3
    assert gap_points > 10 * gap_fixed  # patches of 8 points see a different band shape


def test_default_keeps_patches_of_input_points():
    """Bundles saved without ``patch_step`` read patches of P input points, as before."""
    torch.manual_seed(1)
    model = create("spectrafm_tiny", n_outputs=1).eval()
    assert model.patch_step is None
    x, a = _smooth(np.linspace(LO, HI, 288))
    axis = a.expand(3, -1)
    with torch.no_grad():
        tokens = model.patch_embed(model.patchify(model.scale_input(x)))
        tokens = tokens + model.positions(tokens.shape[1], axis, tokens)
        tokens = torch.cat([model.cls_token.expand(3, -1, -1), tokens], dim=1)
        for block in model.blocks:
            tokens = block(tokens)
        want = model.head(model.norm(tokens)[:, 0])
        torch.testing.assert_close(model(x, a), want)


def _reconstruct(task: MaskedModelingTask, axis: np.ndarray) -> dict[str, torch.Tensor]:
    x, a = _smooth(axis)
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        return task.reconstruction({"x": x, "axis": a}, generator=gen)


def test_masked_pretraining_cuts_the_same_physical_tokens_on_a_finer_grid():
    torch.manual_seed(2)
    model = create("spectrafm_tiny", patch_step=STEP)
    task = MaskedModelingTask(model, mask_ratio=0.3, normalize="none").eval()
    coarse = _reconstruct(task, np.linspace(LO, HI, 291))
    fine = _reconstruct(task, np.linspace(LO, HI, 1163))  # 4x finer, same range
    # one mask over the same physical patches: 36 of them, not 36 and 145
    assert coarse["mask"].shape == (3, 36) and torch.equal(coarse["mask"], fine["mask"])
    np.testing.assert_allclose(coarse["target"], fine["target"], atol=6e-3)
    np.testing.assert_allclose(coarse["recon"], fine["recon"], atol=2e-2)
    # masked pretraining and prediction read one token grid
    x, a = _smooth(np.linspace(LO, HI, 1163))
    grid_x, grid_axis = model.token_grid(x, a)
    torch.testing.assert_close(model.patchify(grid_x), fine["target"])
    assert grid_axis.shape == (3, 36 * 8)


def test_masked_forward_refuses_an_axis_off_the_physical_grid():
    model = create("spectrafm_tiny", patch_step=STEP).eval()
    x, a = _smooth(np.linspace(LO, HI, 288))
    with pytest.raises(ModelError, match="physical patch grid"):
        model.forward_masked(x, torch.zeros(3, 36, dtype=torch.bool), axis=a)
    grid_x, grid_axis = model.token_grid(x, a)
    mask = torch.zeros(3, grid_x.shape[-1] // 8, dtype=torch.bool)
    assert model.forward_masked(grid_x, mask, axis=grid_axis.float()).shape == (3, 36, 8)


def test_reconstruction_ood_scores_read_the_physical_tokens_on_any_grid():
    """OOD reconstruction errors of one spectrum agree on the training grid and a finer one."""
    torch.manual_seed(3)
    model = create("spectrafm_tiny", patch_step=STEP)
    x1, a1 = _smooth(np.linspace(LO, HI, 291))
    x2, a2 = _smooth(np.linspace(LO, HI, 1163))  # 4x finer, same range
    err1 = reconstruction_errors(model, x1, axis=a1, n_masks=4, seed=0)
    err2 = reconstruction_errors(model, x2, axis=a2, n_masks=4, seed=0)
    assert err1.shape == (3, 4) and np.isfinite(err1).all() and (err1 > 0).all()
    # the same 36 physical patches and masks: only the interpolation error differs
    np.testing.assert_allclose(err2, err1, rtol=0.05)
    np.testing.assert_array_equal(err1, reconstruction_errors(model, x1, axis=a1, n_masks=4))


def _bundle(tmp_path) -> object:
    """A physical-patch regression bundle on the 291-point training grid, loaded."""
    import spectrakit as sk
    from spectrakit.bundle import save
    from spectrakit.preprocessing.channels import ChannelPreprocessor

    axis = np.linspace(LO, HI, 291)
    train = sk.Spectra(_smooth(axis, n=40)[0][:, 0].numpy(), axis, unit="angstrom")
    pre = ChannelPreprocessor([None]).fit(train, length_multiple=8)
    torch.manual_seed(4)
    save(
        tmp_path / "fm",
        model=create("spectrafm_tiny", n_outputs=1, patch_step=STEP).eval(),
        task="regression",
        axis=train.axis,
        model_axis=pre.output_axis_,
        targets=["c"],
        output={"task": "regression", "n_targets": 1, "target_mean": [0.0], "target_std": [1.0]},
        preprocessor=pre,
    )
    return sk.load(tmp_path / "fm"), train


def test_reconstruction_ood_detector_scores_another_grid_and_a_subrange(tmp_path):
    """The bundle's reconstruction detector reads each input on its own grid, as predict does."""
    from spectrakit.ood import detector_inputs, fit_ood

    predictor, train = _bundle(tmp_path)
    predictor.ood = fit_ood(predictor, train, method="reconstruction", seed=0)
    fine, finer = (train[:6].resample(np.linspace(LO, HI, n)) for n in (1160, 2320))
    err_fine, err_finer = (detector_inputs(predictor, s, "reconstruction") for s in (fine, finer))
    # the same 36 physical patches and masks on both grids: only interpolation differs
    np.testing.assert_allclose(err_finer, err_fine, rtol=0.02)
    half = train[:6].crop(LO, 16040.0)  # its own patches, not the training axis's 36
    assert detector_inputs(predictor, half, "reconstruction").shape == (6, 8)
    for name, spectra in {
        "training grid": train[:6],
        "finer grid": fine,
        "first half": half,
    }.items():
        table = predictor.predict(spectra)  # predict scores OOD on every grid
        assert np.isfinite(table["ood_score"]).all() and "is_ood" in table, name


def test_physical_patch_model_keeps_every_point_of_its_training_grid(tmp_path):
    """No centre crop to whole patches: the model resamples its 291 points itself."""
    import spectrakit as sk
    from spectrakit.export import export_onnx, load_onnx
    from spectrakit.models.input_crop import crop_unit
    from spectrakit.training import fit_supervised

    assert crop_unit(create("spectrafm_tiny", patch_step=STEP)) == 1
    assert crop_unit(create("spectrafm_tiny")) == 8  # patches of input points: whole ones
    axis = np.linspace(LO, HI, 291)
    y = np.linspace(0.0, 1.0, 24)
    values = _smooth(axis, n=24)[0][:, 0].numpy() * (1 + y[:, None])
    train = sk.Spectra(values, axis, unit="angstrom", meta={"c": y})
    predictor = fit_supervised(
        train, "c", model="spectrafm_tiny", model_kwargs={"patch_step": STEP}, max_epochs=1,
        batch_size=8, seed=0, out=tmp_path / "fm", progress=False, loggers=("csv",),
        patience=None,
    )  # fmt: skip
    assert predictor.model_axis.n_points == 291  # trained on every point (was 288)
    assert predictor.prepare_inputs(train[:3])[1].n_points == 291  # and predicts on them
    export_onnx(tmp_path / "fm")
    onnx = load_onnx(tmp_path / "fm")
    for spectra in (
        train[:4],
        train[:4].resample(np.linspace(LO, HI, 613)),
        train[:4].crop(LO, 16040.0),
    ):
        np.testing.assert_allclose(
            onnx.predict(spectra)["c"], predictor.predict(spectra)["c"], rtol=1e-3, atol=1e-4
        )


@pytest.mark.parametrize("points", [291, 592, 400])
def test_attention_of_physical_patches_follows_the_axis_on_any_grid(points):
    import spectrakit as sk
    from spectrakit.explain import explain

    torch.manual_seed(0)
    model = create("spectrafm_tiny", n_outputs=2, patch_step=STEP).eval()
    coarse_axis = np.linspace(LO, HI, 291)
    axis = np.linspace(LO, HI, points) if points != 400 else np.linspace(HI, 16040.0, points)
    coarse = sk.Spectra(_smooth(coarse_axis)[0][:, 0].numpy(), coarse_axis, unit="angstrom")
    other = sk.Spectra(_smooth(axis)[0][:, 0].numpy(), axis, unit="angstrom")
    attr = explain(model, other, method="attention").values
    assert attr.shape == (3, points)
    axis = np.asarray(other.axis.values)  # Spectra keep an ascending axis
    # one value per physical patch (patches start at multiples of 8 * STEP), whatever the grid
    patch = np.floor(axis / (8 * STEP) + 1e-9)
    for k in np.unique(patch):
        block = attr[:, patch == k]
        np.testing.assert_allclose(block, block[:, :1].repeat(block.shape[1], 1), rtol=1e-6)
    assert len(np.unique(attr[0].round(7))) > 0.5 * len(np.unique(patch))
    if points != 400:  # same range: the same tokens, so the training grid's values
        ref = explain(model, coarse, method="attention").values
        inside = np.abs(axis / (8 * STEP) - np.round(axis / (8 * STEP))) * 8 * STEP > STEP
        nearest = np.abs(axis[:, None] - coarse_axis[None]).argmin(1)
        np.testing.assert_allclose(attr[:, inside], ref[:, nearest[inside]], rtol=0.05, atol=1e-4)
