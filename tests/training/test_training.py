"""Supervised training learns measurably: regression, classification, uncertainty, freezing."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from spectrakit import Spectra
from spectrakit.core.errors import ConfigError
from spectrakit.models import create
from spectrakit.tasks import OutputSpec, SupervisedTask, apply_freeze, parameter_groups
from spectrakit.training import fit_supervised

pytestmark = pytest.mark.usefixtures("one_torch_thread")


FAST = dict(progress=False, loggers=(), patience=None, batch_size=16)
AXIS = np.linspace(400.0, 1800.0, 128)
PEAKS = np.stack(
    [np.exp(-0.5 * ((AXIS - mu) / 30.0) ** 2) for mu in (700.0, 1100.0, 1500.0)]
)  # three components at known positions


def _mixtures(n: int, seed: int) -> Spectra:
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.0, 1.0, (n, 3))
    values = c @ PEAKS + 0.3 + rng.normal(0, 0.02, (n, AXIS.size))
    label = np.array(["a", "b", "c"])[c.argmax(axis=1)]
    return Spectra(values, AXIS, meta={"c0": c[:, 0], "c1": c[:, 1], "c2": c[:, 2], "kind": label})


def test_multi_target_regression_beats_the_mean(tmp_path):
    train, test = _mixtures(200, 0), _mixtures(60, 1)
    predictor = fit_supervised(
        train, ["c0", "c2"], model="cnn1d_tiny", max_epochs=25, lr=3e-3, out=tmp_path / "m", **FAST
    )
    pred = predictor.predict(test)
    assert list(pred.columns) == ["c0", "c2", "ood_score", "is_ood"]  # OOD on by default
    for col in ("c0", "c2"):
        y = test.meta[col].to_numpy()
        rmse = np.sqrt(np.mean((pred[col].to_numpy() - y) ** 2))
        baseline = np.sqrt(np.mean((y - train.meta[col].mean()) ** 2))  # predict the mean
        assert rmse < 0.5 * baseline, (col, rmse, baseline)
    assert predictor.config["output"]["target_std"][0] == pytest.approx(
        train.meta["c0"].std(ddof=0), rel=0.2
    )


def test_classification_with_smoothing_and_class_weights(tmp_path):
    train, test = _mixtures(200, 2), _mixtures(60, 3)
    predictor = fit_supervised(
        train,
        "kind",
        task="classification",
        model="mlp_tiny",
        max_epochs=25,
        lr=3e-3,
        label_smoothing=0.05,
        class_weights="balanced",
        **FAST,
    )
    pred = predictor.predict(test)
    assert predictor.classes == ["a", "b", "c"]
    assert {"predicted", "proba_a", "proba_b", "proba_c"} <= set(pred.columns)
    np.testing.assert_allclose(pred[["proba_a", "proba_b", "proba_c"]].sum(axis=1), 1.0, atol=1e-5)
    accuracy = np.mean(pred["predicted"].to_numpy() == test.meta["kind"].to_numpy())
    assert accuracy > 0.75  # chance is about 1/3


def test_uncertainty_head_gives_positive_std(tmp_path):
    train = _mixtures(120, 4)
    predictor = fit_supervised(
        train, "c1", model="mlp_tiny", max_epochs=10, uncertainty=True, lr=3e-3, **FAST
    )
    pred = predictor.predict(_mixtures(20, 5))
    assert list(pred.columns) == ["c1", "c1_std", "ood_score", "is_ood"]
    std = pred["c1_std"].to_numpy()
    assert np.all(np.isfinite(std)) and np.all(std > 0)
    assert np.median(std) < 1.0  # in target units, targets span [0, 1]


def test_freeze_options_freeze_what_they_say():
    model = create("specbert_tiny", n_outputs=2, input_length=128)
    n_blocks = len(model.blocks)

    apply_freeze(model, "encoder")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"head.weight", "head.bias"}

    apply_freeze(model, "all-but-last-1")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    last = f"blocks.{n_blocks - 1}."
    assert {"head.weight", "head.bias"} <= trainable
    assert any(n.startswith(last) for n in trainable)
    assert not any(n.startswith("blocks.0.") for n in trainable)

    apply_freeze(model, "none")
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(ConfigError, match="unknown freeze option"):
        apply_freeze(model, "half")


def test_layer_decay_gives_smaller_rates_near_the_input():
    model = create("specbert_tiny", n_outputs=1, input_length=128)
    groups = parameter_groups(model, 1e-3, 0.01, head_lr=1e-2, layer_decay=0.5)
    head_ids = {id(model.head.weight), id(model.head.bias)}
    head_lrs = {g["lr"] for g in groups if any(id(p) in head_ids for p in g["params"])}
    assert head_lrs == {1e-2}
    first = next(
        g["lr"] for g in groups if any(p is model.blocks[0].norm1.weight for p in g["params"])
    )
    last = next(
        g["lr"] for g in groups if any(p is model.blocks[-1].norm1.weight for p in g["params"])
    )
    assert first < last < 1e-3


def test_frozen_encoder_does_not_change_during_training():
    torch.manual_seed(0)
    model = create("cnn1d_tiny", n_outputs=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    task = SupervisedTask(model, OutputSpec("regression", 1), freeze="encoder", lr=1e-2)
    x = torch.randn(32, 1, 128)
    batches = [{"x": x[i : i + 8], "y": torch.randn(8, 1)} for i in range(0, 32, 8)]
    trainer = L.Trainer(
        max_steps=4, accelerator="cpu", logger=False, enable_progress_bar=False,
        enable_checkpointing=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(task, train_dataloaders=torch.utils.data.DataLoader(batches, batch_size=None))
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"head.weight", "head.bias"}


def test_learning_rate_finder_sets_the_rate(tmp_path):
    train = _mixtures(80, 6)
    predictor = fit_supervised(
        train, "c0", model="mlp_tiny", max_epochs=3, lr="auto", out=tmp_path / "m", **FAST
    )
    lr = predictor.config["training"]["lr"]
    assert np.isfinite(lr) and lr > 0 and lr != 1e-3
    assert not list((tmp_path / "m.run").glob(".lr_find*"))  # the finder cleans up


def test_extra_features_augmentation_and_multilabel(tmp_path):
    from spectrakit.augment import GaussianNoise

    rng = np.random.default_rng(7)
    train = _mixtures(160, 7)
    temp = rng.uniform(-1, 1, train.n_spectra)
    # label "hot" comes only from the tabular feature, "rich" only from the spectrum
    train = train.assign(temp=temp, hot=(temp > 0).astype(float),
                         rich=(train.meta["c1"] > 0.5).astype(float))  # fmt: skip
    predictor = fit_supervised(
        train,
        ["hot", "rich"],
        task="multilabel",
        model="mlp_tiny",
        max_epochs=20,
        lr=3e-3,
        extra_features=["temp"],
        augment=GaussianNoise(0.01),
        **FAST,
    )
    assert predictor.config["extra_features"]["names"] == ["temp"]
    assert len(predictor.config["output"]["thresholds"]) == 2
    pred = predictor.predict(train)
    assert {"hot", "rich", "proba_hot", "proba_rich"} <= set(pred.columns)
    assert np.mean(pred["hot"].to_numpy() == (temp > 0)) > 0.9
    assert np.mean(pred["rich"].to_numpy() == (train.meta["c1"] > 0.5)) > 0.8


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "cyclic"])
def test_schedules_warm_up_and_stay_positive(schedule):
    from spectrakit.tasks.optim import build_optimizer, build_scheduler

    param = torch.nn.Parameter(torch.zeros(3))
    opt = build_optimizer([{"params": [param], "lr": 1e-2}], 1e-2, 0.0)
    sched = build_scheduler(opt, schedule, total_steps=100, warmup_steps=10)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    lrs = np.array(lrs)
    assert np.all(lrs > 0) and lrs.max() <= 1e-2 * (1 + 1e-6)
    assert lrs[0] < lrs.max()  # starts below the peak
    if schedule != "cyclic":
        assert lrs[-1] < 0.2 * lrs.max()  # decays by the end
    else:
        assert np.sum(np.diff(np.sign(np.diff(lrs))) != 0) >= 2  # goes up and down repeatedly
