"""Contract tests run over every registered model (new families are tested automatically)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from spectrakit.core.errors import ModelError
from spectrakit.models import SpectralModel, create, list_models, model_config

TINY = list_models("*_tiny")
FULL = [n for n in list_models() if not n.endswith("_tiny")]
LENGTH = 256  # a multiple of every patch size, long enough for every tiny model
with torch.device("meta"):  # architecture facts only, for parametrization
    _SHAPES = {n: create(n, input_length=LENGTH) for n in TINY}
AXIS_AWARE = [n for n, m in _SHAPES.items() if m.axis_aware]
WITH_GRADCAM = [n for n, m in _SHAPES.items() if m.gradcam_layer is not None]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _inputs(model: SpectralModel, batch: int = 2, length: int = LENGTH, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, model.in_channels, length, generator=g)
    axis = torch.linspace(400.0, 1800.0, length) if model.axis_aware else None
    extra = torch.randn(batch, model.n_extra, generator=g) if model.n_extra else None
    return x, axis, extra


def _build(name: str, **kw) -> SpectralModel:
    torch.manual_seed(0)
    kw.setdefault("input_length", LENGTH)
    return create(name, **kw)


def test_parametrization_covers_the_right_models():
    assert AXIS_AWARE == ["spectrafm_tiny"]
    assert set(TINY) - set(WITH_GRADCAM) == {"gaf2d_tiny", "mlp_tiny", "specbert_tiny",
                                             "spectrafm_tiny"}  # fmt: skip


def test_registry_lists_every_family():
    families = {n.rsplit("_tiny", 1)[0] for n in TINY}
    assert families == {
        "cnn1d", "cnnpeak", "gaf2d", "mlp", "peakmixer", "resnet1d", "resnetv2_1d", "specbert",
        "spectrafm", "vgg1d",
    }  # fmt: skip
    assert list_models("specbert*") == ["specbert_base", "specbert_small", "specbert_tiny"]


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ModelError, match="did you mean 'specbert_tiny'"):
        create("specbert_tiyn")


@pytest.mark.parametrize("name", TINY)
def test_forward_backward(name):
    model = _build(name, n_outputs=3)
    assert sum(p.numel() for p in model.parameters()) < 200_000
    x, axis, extra = _inputs(model, batch=4)
    out = model(x, axis=axis, extra=extra)
    assert out.shape == (4, 3)
    assert torch.isfinite(out).all()
    loss = out.square().mean()
    if model.patch_size is not None:  # mask token and reconstruction head train here
        mask = torch.zeros(4, model.num_patches(LENGTH), dtype=torch.bool)
        mask[:, ::3] = True
        loss = loss + model.forward_masked(x, mask, axis=axis).square().mean()
    loss.backward()
    for pname, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, f"{pname} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{pname} has a non-finite gradient"


@pytest.mark.parametrize("name", TINY)
def test_batch_size_independent_in_eval(name):
    model = _build(name, n_outputs=2).eval()
    x, axis, extra = _inputs(model, batch=3)
    with torch.no_grad():
        full = model(x, axis=axis, extra=extra)
        one = model(x[:1], axis=axis, extra=None if extra is None else extra[:1])
    assert full.shape == (3, 2) and one.shape == (1, 2)
    torch.testing.assert_close(one[0], full[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", TINY)
def test_features_head_and_reset(name):
    model = _build(name, n_outputs=3).eval()
    x, axis, extra = _inputs(model)
    with torch.no_grad():
        feats = model.forward_features(x, axis=axis, extra=extra)
        assert feats.shape == (2, model.num_features)
        torch.testing.assert_close(model.forward_head(feats), model(x, axis=axis, extra=extra))
        model.reset_head(5)
        assert model.n_outputs == 5
        assert model(x, axis=axis, extra=extra).shape == (2, 5)
    assert model_config(model)["kwargs"]["n_outputs"] == 5


@pytest.mark.parametrize("name", TINY)
def test_safetensors_round_trip(name, tmp_path):
    model = _build(name, n_outputs=2, in_channels=2, n_extra=3)
    x, axis, extra = _inputs(model, batch=3)
    model.train()
    model(x, axis=axis, extra=extra)  # move batch-norm statistics away from their defaults
    model.reset_head(4)
    model.eval()
    cfg = json.loads(json.dumps(model_config(model)))
    save_file(model.state_dict(), tmp_path / "model.safetensors")
    torch.manual_seed(123)  # a different initialisation, overwritten by the load
    clone = create(cfg["name"], **cfg["kwargs"])
    clone.load_state_dict(load_file(tmp_path / "model.safetensors"), strict=True)
    clone.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            clone(x, axis=axis, extra=extra), model(x, axis=axis, extra=extra), atol=0, rtol=0
        )


@pytest.mark.parametrize("name", TINY)
def test_channels_and_extra_features(name):
    model = _build(name, in_channels=3, n_extra=4).eval()
    x, axis, extra = _inputs(model)
    with torch.no_grad():
        out = model(x, axis=axis, extra=extra)
        assert out.shape == (2, 1)
        assert not torch.allclose(out, model(x, axis=axis, extra=extra + 1.0))
        x2 = x.clone()
        x2[:, 2] += torch.linspace(0, 3, LENGTH)  # the third spectrum is used too
        assert not torch.allclose(out, model(x2, axis=axis, extra=extra))
    with pytest.raises(ModelError, match="extra"):
        model(x, axis=axis)
    with pytest.raises(ModelError, match="channels"):
        model(x[:, :1], axis=axis, extra=extra)


@pytest.mark.parametrize("name", TINY)
def test_bad_input_is_a_model_error(name):
    model = _build(name)
    x, axis, _ = _inputs(model)
    with pytest.raises(ModelError, match="channel dimension"):
        model(x[:, 0], axis=axis)
    with pytest.raises(ModelError, match="dtype"):
        model(x.double(), axis=axis)
    with pytest.raises(ModelError, match="without extra"):
        model(x, axis=axis, extra=torch.zeros(2, 2))
    if model.axis_aware:
        with pytest.raises(ModelError, match="axis"):
            model(x)
        with pytest.raises(ModelError, match="axis does not match"):
            model(x, axis=axis[:-8])
    if model.patch_size is not None:
        with pytest.raises(ModelError, match="multiple of the patch size"):
            model(x[..., :-3], axis=None if axis is None else axis[:-3])
    if not model.variable_length:
        with pytest.raises(ModelError, match="fixed input length"):
            model(x[..., :-16], axis=axis)
    else:  # a shorter spectrum works
        assert model(x[..., :128], axis=None if axis is None else axis[:128]).shape == (2, 1)


@pytest.mark.parametrize("name", WITH_GRADCAM)
def test_gradcam_layer_gives_a_feature_map(name):
    model = _build(name).eval()
    seen = []
    layer = model.get_submodule(model.gradcam_layer)
    handle = layer.register_forward_hook(lambda m, i, o: seen.append(o))
    x, axis, extra = _inputs(model)
    model(x, axis=axis, extra=extra)
    handle.remove()
    assert len(seen) == 1 and seen[0].dim() == 3 and seen[0].shape[0] == 2


@pytest.mark.parametrize("name", AXIS_AWARE)
def test_axis_aware_accepts_other_grids(name):
    model = _build(name).eval()
    x, axis, _ = _inputs(model)
    with torch.no_grad():
        out = model(x, axis=axis)
        # another instrument: other range, spacing and length; per-sample axes too
        x2 = torch.randn(2, 1, 96)
        axis2 = torch.stack([torch.linspace(2000.0, 3100.0, 96), torch.linspace(200, 900, 96)])
        out2 = model(x2, axis=axis2)
        assert out2.shape == (2, 1) and torch.isfinite(out2).all()
        # the axis is really used: the same values placed elsewhere give another output
        assert not torch.allclose(out, model(x, axis=axis + 500.0))


def test_fixed_length_models_need_input_length():
    for name in ("mlp_tiny", "gaf2d_tiny"):
        with pytest.raises(ModelError, match="input_length"):
            create(name)
    with pytest.raises(ModelError, match="input_length"):
        create("cnn1d_tiny", global_pool="flatten")
    model = create("cnn1d_tiny", global_pool="flatten", input_length=LENGTH)
    assert not model.variable_length and model(torch.randn(2, 1, LENGTH)).shape == (2, 1)


def test_bad_hyperparameters():
    with pytest.raises(ModelError, match="cannot create"):
        create("cnn1d_tiny", no_such_option=3)
    with pytest.raises(ModelError, match="JSON"):
        create("cnn1d_tiny", act=torch.nn.ReLU)
    with pytest.raises(ModelError, match="activation"):
        create("cnn1d_tiny", act="swishy")


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_full_size_variants_match_their_papers():
    with torch.device("meta"):  # construct only
        models = {n: create(n, input_length=1024) for n in FULL}
    # SpecBERT seed defaults, counted by hand: patch embed, 6 blocks, tokens, norm, heads
    d, p = 256, 16
    block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d)
    specbert = (p * d + d) + 6 * block + 2 * d + 2 * d + (d * p + p) + (d + 1)
    bert = models["specbert_base"]
    assert (bert.patch_size, bert.num_features, len(bert.blocks)) == (16, 256, 6)
    assert bert.blocks[0].attn.num_heads == 8 and bert.blocks[0].mlp.fc1.out_features == 1024
    assert _count(bert) == specbert
    # pychemauth CNN: 16 k16 s8 / 128 k8 s4 / 512 k8 s2, dense on the 512 pooled channels
    cnn = models["cnn1d"]
    convs = [m for m in cnn.features if isinstance(m, torch.nn.Conv1d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (16, 16, 8), (128, 8, 4), (512, 8, 2)
    ]  # fmt: skip
    assert _count(cnn) == (16 * 16 + 16) + (128 * 16 * 8 + 128) + (512 * 128 * 8 + 512) + 513
    # bacteria-ID ResNet: 6 residual layers of hidden 100
    res = models["resnet1d"]
    assert res.num_features == 100 and len(res.features) == 7
    # PeakMixer seed command: depth 6, 20 mixer blocks, SE and residual on
    pm = models["peakmixer_base"]
    assert len(pm.mixer) == 20 and sum("ResPeak" in type(m).__name__ for m in pm.features) == 6
    assert isinstance(pm.corr, torch.nn.Parameter)
    expected = {
        "specbert_small": 797_969, "spectrafm_base": 4_843_593, "resnet1d": 1_244_949,
        "vgg1d": 4_912_065, "resnetv2_1d": 3_842_625, "gaf2d": 11_151_873,
        "mlp": 657_921, "peakmixer_base": 867_763,
    }  # fmt: skip
    for name, n in expected.items():
        assert _count(models[name]) == n, name


def test_cli_lists_models(capsys):
    from spectrakit.cli import main

    assert main(["models", "spectrafm*", "--json", "-"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == ["spectrafm_base", "spectrafm_small", "spectrafm_tiny"]
    assert all(r["axis_aware"] and r["masked_modeling"] for r in rows)
    assert main(["models", "nothing*"]) == 2


def test_gramian_angular_field_matches_its_definition():
    from spectrakit.models.gaf2d import gramian_angular_field

    x = torch.tensor([[[0.0, 1.0, 3.0, 2.0, 4.0]]], dtype=torch.float64)
    img = gramian_angular_field(x, eps=1e-12)
    phi = torch.arccos(x[0, 0] / 2.0 - 1.0)  # min-max rescaled to [-1, 1]
    gasf = torch.cos(phi[:, None] + phi[None, :])
    gadf = torch.sin(phi[:, None] - phi[None, :])
    assert img.shape == (1, 2, 5, 5)
    torch.testing.assert_close(img[0, 0], gasf, atol=1e-5, rtol=0)
    torch.testing.assert_close(img[0, 1], gadf, atol=1e-5, rtol=0)


def test_gaf2d_pretrained_backbone_is_frozen(tmp_path):
    source = _build("gaf2d_tiny")
    path = tmp_path / "backbone.safetensors"
    save_file(source.backbone.state_dict(), path)
    torch.manual_seed(1)
    model = create("gaf2d_tiny", input_length=LENGTH, n_outputs=2, pretrained_weights=str(path))
    for key, value in source.backbone.state_dict().items():
        torch.testing.assert_close(model.backbone.state_dict()[key], value)
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    model.train()
    assert model.training and not model.backbone.training  # batch-norm statistics stay fixed
    cfg = model_config(model)["kwargs"]
    assert cfg["pretrained_weights"] is None and cfg["freeze_backbone"] is True
    assert not create("gaf2d_tiny", **cfg).backbone.stem[0].weight.requires_grad
    with pytest.raises(ModelError, match="not found"):
        create("gaf2d_tiny", input_length=LENGTH, pretrained_weights=str(tmp_path / "no.st"))
    save_file({"stem.0.weight": torch.zeros(1)}, tmp_path / "bad.safetensors")
    with pytest.raises(ModelError, match="do not fit"):
        create(
            "gaf2d_tiny", input_length=LENGTH, pretrained_weights=str(tmp_path / "bad.safetensors")
        )


def test_markov_transition_field_matches_explicit_construction():
    from spectrakit.models.gaf2d import _reduction_matrix, markov_transition_field

    torch.manual_seed(0)
    x = torch.randn(2, 1, 40, dtype=torch.float64)
    reduce = _reduction_matrix(40, 10).double()
    got = markov_transition_field(x, reduce, n_bins=4)
    for b in range(2):
        v = x[b, 0]
        edges = v.sort().values[[10, 20, 30]]
        bins = torch.bucketize(v, edges, right=True)  # quartile bin of every point
        w = torch.zeros(4, 4, dtype=torch.float64)
        for t in range(39):
            w[bins[t], bins[t + 1]] += 1
        w /= w.sum(1, keepdim=True)
        full = w[bins[:, None], bins[None, :]]  # the 40 x 40 field
        torch.testing.assert_close(got[b, 0], reduce.T @ full @ reduce)
    model = create("gaf2d_tiny", input_length=LENGTH, fields=["gasf", "mtf"], in_channels=2)
    assert model.images(torch.randn(3, 2, LENGTH)).shape == (3, 4, 32, 32)


def test_gaf2d_pretrained_base_trains_head_only_with_default_freeze(tmp_path):
    from spectrakit import Spectra
    from spectrakit.training import fit_supervised

    source = _build("gaf2d_tiny")
    path = tmp_path / "backbone.safetensors"
    save_file(source.backbone.state_dict(), path)
    rng = np.random.default_rng(0)
    axis = np.linspace(400.0, 1800.0, 64)
    label = rng.integers(0, 2, 48)
    values = 0.5 + 0.4 * np.exp(-0.5 * ((axis - np.where(label, 700, 1400)[:, None]) / 40) ** 2)
    train = Spectra(values + rng.normal(0, 0.02, values.shape), axis, meta={"y": label})
    common = dict(task="classification", model="gaf2d_tiny", max_epochs=2, lr=1e-2,
                  progress=False, loggers=(), patience=None, batch_size=16)  # fmt: skip
    predictor = fit_supervised(
        train, "y", model_kwargs={"pretrained_weights": str(path)}, out=tmp_path / "m", **common
    )  # the training default is freeze="none": the pretrained base still stays fixed
    trained = predictor.model.backbone.state_dict()
    moved = [k for k, v in source.backbone.state_dict().items() if not torch.equal(v, trained[k])]
    assert moved == []  # no weight and no batch-norm statistic of the base moved
    released = fit_supervised(
        train, "y", model_kwargs={"pretrained_weights": str(path), "freeze_backbone": False},
        out=tmp_path / "m2", **common,
    )  # fmt: skip
    after = released.model.backbone.state_dict()
    assert any(not torch.equal(v, after[k]) for k, v in source.backbone.state_dict().items())
