"""Heads that keep band positions: cnn1d attention/flatten pooling, SmallCNN flatten by CV.

The known answer: two classes whose spectra hold the same band at one of two positions.
The shift is a multiple of the network's total stride and both bands lie further from the
ends than the receptive field, so the convolution stack sees the same features, moved;
global average pooling then gives both classes the same embedding and cannot beat chance,
while a head that keeps positions separates them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import spectrakit as sk
from spectrakit.bundle import save
from spectrakit.core.errors import ConfigError, ModelError
from spectrakit.models import create
from spectrakit.models.smallnet import SmallCNN
from spectrakit.preprocessing.channels import ChannelPreprocessor
from spectrakit.training.folds import cv_folds
from spectrakit.training.recipes import DeepRecipe, fit_recipe, get_recipe, recipe_facts

pytestmark = pytest.mark.usefixtures("one_torch_thread")
L = 128


def _position_set(n, seed, length=L, centres=(32.0, 96.0)):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    grid = np.arange(length, dtype=np.float64)
    centre = np.where(labels == 0, *centres)[:, None]
    X = rng.uniform(0.5, 1.5, (n, 1)) * np.exp(-0.5 * ((grid - centre) / 3.0) ** 2)
    return (X + 0.01 * rng.normal(size=X.shape)).astype(np.float32), labels


def _train(model, X, labels, steps=150):
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x, t = torch.tensor(X)[:, None, :], torch.tensor(labels)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def _accuracy(model, X, labels):
    return float((model(torch.tensor(X)[:, None, :]).argmax(1).numpy() == labels).mean())


def test_cnn1d_keeps_band_positions_with_flatten_or_attention_but_not_gap():
    """cnn1d_tiny: total stride 64, receptive field about 150 points; 512 points, bands at
    192 or 320 (2 output positions apart, neither reaching the padded ends)."""
    where = {"length": 512, "centres": (192.0, 320.0)}
    X, labels = _position_set(64, 0, **where)
    Xte, lte = _position_set(200, 1, **where)
    acc = {}
    for pool in ("avg", "flatten", "attention"):
        torch.manual_seed(0)
        net = create("cnn1d_tiny", input_length=512, n_outputs=2, global_pool=pool)
        acc[pool] = _accuracy(_train(net, X, labels), Xte, lte)
    assert acc["avg"] < 0.7  # chance: the pooled features are the same for both classes
    assert acc["flatten"] > 0.95 and acc["attention"] > 0.95
    with pytest.raises(ModelError, match="invalid global_pool"):
        create("cnn1d_tiny", input_length=L, global_pool="max")


def test_attention_pooling_sees_where_a_feature_is():
    pool = create("cnn1d_tiny", input_length=L, global_pool="attention").pool
    f = torch.zeros(2, pool.position.shape[1], pool.position.shape[2])
    f[0, :, 0], f[1, :, -1] = 1.0, 1.0  # the same feature, at the first or last position
    out = pool(f)
    assert out.shape == (2, pool.position.shape[1])
    assert not torch.allclose(out[0], out[1])
    assert torch.allclose(f.mean(-1)[0], f.mean(-1)[1])  # what average pooling gives


def test_the_recipe_chooses_the_position_keeping_head_by_cv():
    X, labels = _position_set(60, 2)
    Xte, lte = _position_set(200, 3)
    rec = replace(get_recipe("cnn_heads"), heads=("gap", "flatten"), steps=(80,),
                  ensemble=1, augment=0.0)  # fmt: skip
    folds = cv_folds(60, k=2, y=labels)
    model = fit_recipe(rec, X, labels, task="classification", folds=folds, seed=0)
    assert model.head == "flatten"
    assert model.head_errors["gap"] > 0.3 and model.head_errors["flatten"] < 0.1
    assert np.mean(model.predict(Xte) == lte) > 0.9
    assert recipe_facts(model)["head"] == "flatten"
    assert model.recipe.to_config()["heads"] == ("gap", "flatten")


def test_heads_export_to_onnx(tmp_path):
    from spectrakit.export import load_onnx
    from spectrakit.export.onnx import export_onnx

    pytest.importorskip("onnxruntime")
    X, labels = _position_set(24, 4)
    spectra = sk.Spectra(X, np.linspace(400.0, 1800.0, L), meta={"c": labels.astype(float)})
    pre = ChannelPreprocessor(None).fit(spectra)
    members = {"channels": ["raw", "snv"], "width": 4, "n_members": 2, "head": "flatten"}
    for name, kwargs in [("cnn1d_tiny", {"global_pool": "attention"}),
                         ("cnn1d_tiny", {"global_pool": "flatten"}),
                         ("smallnet_ensemble", members)]:  # fmt: skip
        model = create(name, input_length=L, n_outputs=1, **kwargs).eval()
        out = save(
            tmp_path / f"{name}-{len(kwargs)}-{sorted(kwargs.values(), key=str)[0]}",
            model=model, task="regression", axis=spectra.axis, model_axis=pre.output_axis_,
            targets=["c"], preprocessor=pre,
            output={"task": "regression", "n_targets": 1, "target_mean": [0.0],
                    "target_std": [1.0]},
        )  # fmt: skip
        record = export_onnx(out, batch_sizes=(1, 5))
        assert all(r["ok"] for r in record["parity"])
        np.testing.assert_allclose(
            load_onnx(out).predict(spectra)["c"], sk.load(out).predict(spectra)["c"], atol=1e-4
        )


def test_bad_heads_are_one_clear_error():
    with pytest.raises(ConfigError, match="unknown CNN head"):
        DeepRecipe("x", heads=("max",))
    with pytest.raises(ConfigError, match="invalid SmallCNN head"):
        SmallCNN(1, 1, head="flatten")  # flatten needs the spectrum length
    assert DeepRecipe("x", heads="gap").heads == ("gap",)
