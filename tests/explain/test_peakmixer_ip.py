"""PeakMixer's interpretable path specialises, and its channel sets are compared as in the seed.

The synthetic set of ``test_explain``: one narrow band at 1000 cm-1 decides the class.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_explain import HIGH, LOW, accuracy, make_set, train

from spectrakit.core.errors import ModelError
from spectrakit.explain import compare_channel_sets
from spectrakit.models import create

pytestmark = pytest.mark.usefixtures("one_torch_thread")
WIDTH = 24  # peakmixer_tiny channels


@pytest.fixture(scope="module")
def sets():
    test = make_set(64, 1)
    return make_set(256, 0), test[test.meta["y"].to_numpy() == 1][:16]


def _trained(train_set, **hparams):
    torch.manual_seed(0)
    model = create("peakmixer_tiny", n_outputs=2, **hparams)
    return train(model, train_set, steps=60, lr=3e-3, wd=0.01)


@pytest.fixture(scope="module")
def model(sets):
    return _trained(sets[0])


def test_class_channel_weights_specialise(sets, model):
    assert accuracy(model, make_set(64, 1)) > 0.9
    w = model.class_channel_weights().detach()
    torch.testing.assert_close(w.sum(1), torch.ones(2))
    assert w.max() > 3 / WIDTH and w.min() < 0.5 / WIDTH  # a few channels per class
    flat = _trained(sets[0], ip_temperature=1.0).class_channel_weights().detach()
    assert flat.max() < 1.3 / WIDTH  # without the temperature: near uniform, as before


def test_specific_channels_localise_the_deciding_band(sets, model):
    table = compare_channel_sets(model, sets[1], target=1, band=(LOW, HIGH))
    print(table.round(4).to_string())
    assert list(table.index) == ["specific", "all", "complementary"]
    assert np.isfinite(table[["infidelity", "sensitivity"]].to_numpy()).all()
    share = table["band_share"]
    assert share["specific"] > share["all"] > share["complementary"]
    assert share["specific"] > 4 * np.mean((make_set(1, 0).axis.values >= LOW)
                                           & (make_set(1, 0).axis.values <= HIGH))  # fmt: skip


def test_specialisation_holds_through_the_whole_model_output(sets, model):
    """Grad-CAM of the full output (backbone head + IP): specific > all > complementary."""
    table = compare_channel_sets(model, sets[1], target=1, band=(LOW, HIGH), path="model",
                                 n_perturb_samples=8)  # fmt: skip
    print(table.round(4).to_string())
    share = table["band_share"]
    assert share["specific"] > share["all"] > share["complementary"]
    assert share["specific"] > 2 * share["complementary"]
    infidelity = table["infidelity"]
    assert infidelity["specific"] < infidelity["complementary"]
    # a class logit reads only that class's channels: silencing the others leaves it as is
    w = model.class_channel_weights().detach()
    off = w[1] <= 1.0 / WIDTH  # not class 1's own channels
    x = sets[1].to_torch()
    with torch.no_grad():
        fmap = model.feature_maps(x)
        gated = model.forward_head(_embedding(model, fmap * (~off)[None, :, None]))
        full = model.forward_head(_embedding(model, fmap))
    mixed_part = full[:, 1] - model.ip_logits(fmap.amax(-1))[:, 1]
    mixed_gated = gated[:, 1] - model.ip_logits((fmap * (~off)[None, :, None]).amax(-1))[:, 1]
    torch.testing.assert_close(mixed_gated, mixed_part, rtol=1e-4, atol=1e-5)


def _embedding(model, fmap):
    """``forward_embedding`` from a given feature map (the part after ``feature_maps``)."""
    original = model.feature_maps
    model.feature_maps = lambda x: fmap
    try:
        return model.forward_embedding(fmap, None)
    finally:
        model.feature_maps = original


def test_shared_mixer_option_and_head_reset(sets):
    shared = create("peakmixer_tiny", n_outputs=3, class_gated=False)
    gated = create("peakmixer_tiny", n_outputs=3)
    assert shared.num_features == 2 * WIDTH and gated.num_features == 4 * WIDTH
    x = sets[1].to_torch()[:4]
    for net in (shared, gated):
        net.eval()
        torch.testing.assert_close(net(x), net.forward_head(net.forward_features(x)))
    gated.reset_head(5)
    assert gated.num_features == 6 * WIDTH and gated(x).shape == (4, 5)
    assert gated.class_channel_weights().shape == (5, WIDTH)


def test_bad_temperature_and_legacy_weights_are_refused(model):
    with pytest.raises(ModelError, match="ip_temperature must be positive"):
        create("peakmixer_tiny", ip_temperature=0.0)
    # weights of the earlier mean-pooled path lack the marker tensor: the bundle loader,
    # which compares tensor names before loading, refuses them instead of reading them
    # with another pooling
    state = {k: v for k, v in model.state_dict().items() if k != "ip_max_pool"}
    fresh = create("peakmixer_tiny", n_outputs=2)
    assert "ip_max_pool" in set(fresh.state_dict()) - set(state)
    with pytest.raises(RuntimeError, match="ip_max_pool"):
        fresh.load_state_dict(state)
    # weights of the shared-mixer head (same tensor shapes) lack the class-gated marker
    state = {k: v for k, v in model.state_dict().items() if k != "ip_class_gated"}
    with pytest.raises(RuntimeError, match="ip_class_gated"):
        fresh.load_state_dict(state)


def test_cnn_peak_family_trains_explains_and_exports(sets, tmp_path):
    pytest.importorskip("onnxruntime")
    import spectrakit as sk
    from spectrakit.bundle import save
    from spectrakit.export import load_onnx
    from spectrakit.export.onnx import export_onnx
    from spectrakit.models import model_family
    from spectrakit.models.cnnpeak import CNNPeakBlock

    assert model_family("cnnpeak_tiny") == "cnnpeak"
    torch.manual_seed(0)
    model = train(create("cnnpeak_tiny", n_outputs=2), sets[0], steps=60, lr=3e-3, wd=0.01)
    assert any(isinstance(m, CNNPeakBlock) for m in model.modules())
    assert accuracy(model, make_set(64, 1)) > 0.9
    table = compare_channel_sets(model, sets[1][:8], target=1, band=(LOW, HIGH),
                                 n_perturb_samples=4)  # fmt: skip
    assert table.loc["specific", "band_share"] > table.loc["complementary", "band_share"]
    bundle = save(tmp_path / "b", model=model, task="classification", axis=sets[0].axis,
                  classes=["absent", "present"],
                  output={"task": "classification", "n_targets": 2})  # fmt: skip
    assert all(r["ok"] for r in export_onnx(bundle, batch_sizes=(1, 3))["parity"])
    test = make_set(8, 2)
    onnx_proba = load_onnx(bundle).predict(test)["proba_present"]
    torch_proba = sk.load(bundle).predict(test)["proba_present"]
    np.testing.assert_allclose(onnx_proba, torch_proba, atol=1e-4)


@pytest.mark.parametrize("name", ["peakmixer_tiny", "cnnpeak_tiny"])
def test_channel_set_ordering_holds_over_seeds(name):
    """Per seed (data, initialisation, batches): specific > all > complementary in band share,
    and complementary has the worst infidelity; over the seeds specific is no worse than all
    (the two differ only by the complementary channels' small interpretable-path weights)."""
    from spectrakit.datasets.deciding_peak import BAND, make_deciding_peak
    from spectrakit.training.ip_temperature import train_classifier

    tables = []
    for seed in range(3):
        data, test = make_deciding_peak(256, seed), make_deciding_peak(48, 100 + seed)
        torch.manual_seed(seed)
        net = create(name, n_outputs=2, ip_temperature=0.05)
        x, y = data.to_torch(), torch.as_tensor(data.meta["y"].to_numpy().copy())
        train_classifier(net, x, y, np.arange(len(y)), steps=60, lr=3e-3, weight_decay=0.01,
                         seed=seed)  # fmt: skip
        present = test[test.meta["y"].to_numpy() == 1][:8]
        table = compare_channel_sets(net, present, target=1, band=BAND, path="model",
                                     n_sensitivity_samples=2, seed=seed)  # fmt: skip
        print(name, seed, table.round(4).to_dict())
        share, infidelity = table["band_share"], table["infidelity"]
        assert share["specific"] > share["all"] > share["complementary"], seed
        assert max(infidelity["specific"], infidelity["all"]) < infidelity["complementary"], seed
        tables.append(table)
    mean = sum(tables) / len(tables)
    assert mean.loc["specific", "infidelity"] <= 1.005 * mean.loc["all", "infidelity"]


@pytest.mark.parametrize("name", ["peakmixer_tiny", "cnnpeak_tiny"])
def test_cli_explain_ip_gradcam_channel_sets(name, sets, tmp_path):
    """``spectrakit explain --method ip-gradcam --channels X`` writes what explain() returns."""
    import pandas as pd

    import spectrakit as sk
    from spectrakit.bundle import save
    from spectrakit.cli import main
    from spectrakit.explain import explain

    torch.manual_seed(0)
    model = create(name, n_outputs=2).eval()
    with torch.no_grad():
        model.corr.normal_(0.0, 0.05)
    bundle = save(tmp_path / "b", model=model, task="classification", axis=sets[0].axis,
                  classes=["absent", "present"],
                  output={"task": "classification", "n_targets": 2})  # fmt: skip
    data = sets[1][:3]
    sk.write(data, tmp_path / "x.csv")
    maps = {}
    for channels in ("specific", "all", "complementary"):
        out = tmp_path / channels
        code = main(["explain", "--model", str(bundle), "--data", str(tmp_path / "x.csv"),
                     "--method", "ip-gradcam", "--channels", channels, "--target", "present",
                     "--out", str(out)])  # fmt: skip
        assert code == 0
        frame = pd.read_csv(out / "attributions.csv")
        maps[channels] = frame[[c for c in frame.columns if c[0].isdigit()]].to_numpy()
        ref = explain(sk.load(bundle), data, method="ip-gradcam", target="present",
                      channels=channels).values  # fmt: skip
        np.testing.assert_allclose(maps[channels], ref, rtol=1e-4, atol=1e-7)
    assert not np.allclose(maps["specific"], maps["complementary"])
