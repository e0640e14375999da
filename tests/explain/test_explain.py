"""Attributions find the one band that decides the class; faithfulness, pictures, errors, CLI.

The synthetic set (``spectrakit.datasets.deciding_peak``): class "present" has a narrow
Gaussian band at 1000 cm-1 (sigma 8), class "absent" has none; both share eight broad bands
of random height, a random offset and slope, and noise. A faithful explanation of "present"
must put its mass on 1000 +- 3 sigma, which is 3.4 % of the axis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from spectrakit import Spectra, SpectralAxis
from spectrakit.core.errors import AxisError, ConfigError, FormatError, ModelError, SpectraError
from spectrakit.datasets.deciding_peak import AXIS, BAND, PEAK, SIGMA, make_deciding_peak
from spectrakit.datasets.deciding_peak import CLASSES as PEAK_CLASSES
from spectrakit.explain import (
    Attribution,
    compare_methods,
    deletion_curve,
    explain,
    plot_attribution,
    read_reference_bands,
    rollout,
    save_figure,
)
from spectrakit.models import create

LOW, HIGH = BAND
WINDOW_SHARE = np.mean((AXIS >= LOW) & (AXIS <= HIGH))  # 0.034
CLASSES = list(PEAK_CLASSES)


def make_set(n: int, seed: int) -> Spectra:
    """The shared deciding-peak set (:mod:`spectrakit.datasets.deciding_peak`)."""
    return make_deciding_peak(n, seed, kind="wavenumber")


def train(model: nn.Module, data: Spectra, steps: int, lr: float, wd: float) -> nn.Module:
    torch.manual_seed(0)
    x, y = data.to_torch(), torch.as_tensor(data.meta["y"].to_numpy().copy())
    opt = torch.optim.AdamW(model.parameters(), lr, weight_decay=wd)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (32,))
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def accuracy(model: nn.Module, data: Spectra) -> float:
    with torch.no_grad():
        pred = model(data.to_torch()).argmax(1).numpy()
    return float(np.mean(pred == data.meta["y"].to_numpy()))


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def data() -> tuple[Spectra, Spectra]:
    return make_set(256, 0), make_set(64, 1)


@pytest.fixture(scope="module")
def flat(data):
    """Position-aware CNN (flatten head): the model gradient methods are judged on."""
    torch.manual_seed(0)
    model = create(
        "cnn1d_tiny", n_outputs=2, global_pool="flatten", input_length=352, drop_rate=0.5
    )
    return train(model, data[0], steps=400, lr=3e-3, wd=0.1)


@pytest.fixture(scope="module")
def gap(data):
    """Global-average-pooled CNN with a fine last feature map: the Grad-CAM model."""
    torch.manual_seed(0)
    model = create("cnn1d_tiny", n_outputs=2, strides=(2, 1, 1))
    return train(model, data[0], steps=200, lr=1e-2, wd=0.01)


@pytest.fixture(scope="module")
def present(data) -> Spectra:
    return data[1].where(label="present")[:16]


def test_models_learn_the_band(data, flat, gap):
    assert accuracy(flat, data[1]) > 0.95
    assert accuracy(gap, data[1]) > 0.85


@pytest.mark.parametrize(
    ("method", "min_mass"),
    [("saliency", 0.3), ("ig", 0.35), ("smoothgrad", 0.3), ("shap", 0.3), ("occlusion", 0.6)],
)
def test_attribution_mass_sits_on_the_deciding_band(flat, present, method, min_mass):
    attr = explain(flat, present, method=method, target="present", classes=CLASSES)
    assert isinstance(attr, Attribution) and attr.axis == present.axis
    assert attr.values.shape == present.shape
    assert set(attr.target_names) == {"present"} and set(attr.target) == {1}
    mass = attr.mass_fraction(LOW, HIGH)
    print(f"{method}: mean attribution mass in 1000 +- 3 sigma = {mass.mean():.3f}")
    assert mass.mean() > min_mass > 8 * WINDOW_SHARE  # vs 0.034 for a uniform map
    top = attr.top_bands(3)
    assert abs(top["position"].iloc[0] - PEAK) <= SIGMA
    assert top["low"].iloc[0] <= PEAK <= top["high"].iloc[0]


def test_gradcam_points_at_the_band(gap, present):
    attr = explain(gap, present, method="gradcam", target=1)
    assert (attr.values >= 0).all() and attr.values.shape == present.shape
    # the last feature map has one cell per 8 points (32 cm-1) and its units respond to the
    # band's flanks: judge it at its resolution
    wide = attr.mass_fraction(PEAK - 6 * SIGMA, PEAK + 6 * SIGMA).mean()
    print(f"gradcam: mass in +-3 sigma {attr.mass_fraction(LOW, HIGH).mean():.3f}, +-6: {wide:.3f}")
    assert wide > 0.5  # the +-6 sigma window is 6.8 % of the axis
    assert (np.abs(attr.top_bands(2)["position"] - PEAK) <= 6 * SIGMA).all()
    # an earlier layer (chosen by name) resolves the band itself
    fine = explain(gap, present, method="grad-cam", target=1, layer="features.act2")
    print(f"gradcam at features.act2: mass in +-3 sigma {fine.mass_fraction(LOW, HIGH).mean():.3f}")
    assert fine.mass_fraction(LOW, HIGH).mean() > 0.6
    assert abs(fine.top_bands(1)["position"].iloc[0] - PEAK) <= 2 * SIGMA


def test_default_target_is_the_predicted_class(flat, data):
    test = data[1][:12]
    attr = explain(flat, test, method="saliency")
    with torch.no_grad():
        predicted = flat(test.to_torch()).argmax(1).numpy()
    np.testing.assert_array_equal(attr.target, predicted)
    by_index = explain(flat, test, method="saliency", target=1)
    by_name = explain(flat, test, method="saliency", target="present", classes=CLASSES)
    np.testing.assert_array_equal(by_index.values, by_name.values)


def test_deletion_curve_falls_faster_for_ig_than_random(flat, present):
    attr = explain(flat, present, method="ig", target=1)
    ig = deletion_curve(flat, present, attr, n_steps=10)
    rnd = deletion_curve(flat, present, attr, order="random", n_steps=10)
    print(f"deletion AUC: ig {ig.attrs['auc']:.3f}, random {rnd.attrs['auc']:.3f}")
    assert ig["score"].iloc[0] == pytest.approx(rnd["score"].iloc[0])  # same start
    assert ig.attrs["auc"] < rnd.attrs["auc"] - 0.2
    # removing the top 10 % of points already destroys the evidence
    assert ig["score"].iloc[1] < 0.5 < rnd["score"].iloc[1]
    ins = deletion_curve(flat, present, attr, mode="insertion", n_steps=10)
    assert ins.attrs["auc"] > ig.attrs["auc"]


def test_compare_methods_table(flat, present):
    table = compare_methods(flat, present[:6], methods=["saliency", "ig"], n_steps=5)
    print(table.to_string())
    assert list(table.index) == ["saliency", "ig"]
    assert {"deletion_auc", "insertion_auc", "deletion_auc_random", "infidelity"} <= set(
        table.columns
    )
    assert np.isfinite(table.to_numpy(dtype=float)).all()
    assert (table["deletion_auc"] < table["deletion_auc_random"]).all()


def test_sensitivity_is_small_for_smooth_methods(flat, present):
    from spectrakit.explain import sensitivity_score

    sens = sensitivity_score(flat, present[:4], "ig", target=1, n_perturb_samples=4)
    assert sens.shape == (4,) and np.all(sens >= 0) and np.all(sens < 1.0)


def test_attributions_round_trip_through_the_table_format(flat, present, tmp_path):
    import spectrakit

    attr = explain(flat, present[:5], method="saliency", target=1)
    path = spectrakit.write(attr.to_spectra(), tmp_path / "attr.csv")
    back = spectrakit.read(path)
    np.testing.assert_allclose(back.values, attr.values, rtol=1e-6)
    np.testing.assert_allclose(back.axis.values, AXIS)
    assert list(back.meta["target"].astype(str)) == ["1"] * 5
    assert set(back.meta["method"]) == {"saliency"}
    frame = attr.to_pandas()
    assert {"label", "method", "target", "1000"} <= set(frame.columns)


def test_top_bands_respects_min_separation():
    axis = SpectralAxis(np.arange(0.0, 200.0))
    g = lambda c, h: h * np.exp(-0.5 * ((axis.values - c) / 2.0) ** 2)  # noqa: E731
    values = (g(50, 3.0) + g(58, 2.5) + g(150, 1.0))[None]
    attr = Attribution(values, axis, "test", [0], ["a"])
    close = attr.top_bands(3, min_separation=5.0)
    assert close["position"].tolist() == [50.0, 58.0, 150.0]
    far = attr.top_bands(3, min_separation=20.0)
    assert far["position"].tolist() == [50.0, 150.0]
    assert far["low"].iloc[0] < 50.0 < far["high"].iloc[0]


def test_bad_requests_raise_one_clear_error(flat, present):
    with pytest.raises(ModelError, match="no output 'missing'") as info:
        explain(flat, present, target="missing", classes=CLASSES)
    assert "absent, present" in str(info.value)
    with pytest.raises(ModelError, match="no output 5"):
        explain(flat, present, target=5)
    mlp = create("mlp_tiny", n_outputs=2, input_length=352)
    with pytest.raises(ModelError, match="Grad-CAM needs a convolutional layer"):
        explain(mlp, present, method="gradcam")
    with pytest.raises(ModelError, match="attention maps need a transformer"):
        explain(flat, present, method="attention")
    with pytest.raises(ModelError, match="has no layer 'nope'"):
        explain(flat, present, method="gradcam", layer="nope")
    with pytest.raises(ModelError, match="interpretable path"):
        explain(flat, present, method="ip-gradcam")
    with pytest.raises(ConfigError, match="unknown explanation method"):
        explain(flat, present, method="lime")
    nm = Spectra(present.values, np.linspace(500, 900, 352), unit="nm")
    with pytest.raises(AxisError, match="cannot be mapped"):
        explain(flat, nm, axis=present.axis)
    short = present.crop(600, 1500)
    with pytest.raises(AxisError, match="cannot be mapped"):
        explain(flat, short, axis=present.axis)
    with pytest.raises(AxisError, match="length the model was built for"):
        explain(flat, short)
    for exc in (info.value,):
        assert isinstance(exc, SpectraError) and exc.expected and exc.got


def test_spectra_are_resampled_onto_the_model_axis(flat, present):
    fine = present.resample(np.linspace(AXIS[0], AXIS[-1], 1000))
    attr = explain(flat, fine, method="saliency", target=1, axis=present.axis)
    assert attr.axis == present.axis
    assert abs(attr.top_bands(1)["position"].iloc[0] - PEAK) <= SIGMA


def test_peakmixer_interpretable_path_is_learned_saved_and_explained(data, present, tmp_path):
    from safetensors.torch import load_file, save_file

    torch.manual_seed(0)
    model = create("peakmixer_tiny", n_outputs=2)
    before = model.corr.detach().clone()
    train(model, data[0], steps=60, lr=3e-3, wd=0.01)
    assert accuracy(model, data[1]) > 0.85
    assert (model.corr.detach() - before).abs().max() > 1e-3  # a trained parameter
    save_file(model.state_dict(), tmp_path / "model.safetensors")
    again = create("peakmixer_tiny", n_outputs=2)
    again.load_state_dict(load_file(tmp_path / "model.safetensors"))
    again.eval()
    torch.testing.assert_close(again.corr, model.corr)
    torch.testing.assert_close(again.class_channel_weights(), model.class_channel_weights())
    specific = explain(again, present, method="ip-gradcam", target=1)
    other = explain(again, present, method="ip-gradcam", target=1, channels="complementary")
    full = explain(again, present, method="ip-gradcam", target=1, channels="all", path="model")
    plain = explain(again, present, method="gradcam", target=1)
    np.testing.assert_allclose(full.values, plain.values, rtol=1e-4, atol=1e-6)
    assert specific.values.shape == present.shape and (specific.values >= 0).all()
    assert not np.allclose(specific.values, other.values)
    through_ip = explain(again, present, method="ip-gradcam", target=1, path="ip")
    assert through_ip.values.shape == present.shape and np.isfinite(through_ip.values).all()
    masses = {k: v.mass_fraction(LOW, HIGH).mean() for k, v in [("specific", specific),
              ("complementary", other), ("all", full)]}  # fmt: skip
    print("ip-gradcam mass in +-3 sigma:", {k: round(v, 3) for k, v in masses.items()})


def test_peakmixer_corr_travels_in_the_bundle(data, tmp_path):
    from spectrakit.bundle import load, save

    torch.manual_seed(0)
    model = train(create("peakmixer_tiny", n_outputs=2), data[0], steps=5, lr=1e-2, wd=0.0)
    save(tmp_path / "b", model=model, task="classification", axis=data[0].axis, classes=CLASSES)
    predictor = load(tmp_path / "b")
    torch.testing.assert_close(predictor.model.corr, model.corr)
    attr = explain(predictor, data[1][:3], method="ip-gradcam")
    assert attr.axis == data[0].axis and set(attr.target_names) <= set(CLASSES)


@pytest.mark.parametrize("name", ["specbert_tiny", "spectrafm_tiny"])
def test_attention_rollout_is_axis_aligned(name, present):
    torch.manual_seed(0)
    model = create(name, n_outputs=2)
    attr = explain(model, present[:3], method="attention")
    assert attr.axis == present.axis and attr.values.shape == (3, present.n_points)
    assert np.isfinite(attr.values).all() and (attr.values >= 0).all()
    assert set(attr.target_names) == {"all"} and set(attr.target) == {-1}
    patch = model.patch_size
    block = attr.values[:, : patch * (present.n_points // patch)].reshape(3, -1, patch)
    assert np.allclose(block, block[:, :, :1])  # one value per patch, spread over its points
    last = explain(model, present[:3], method="attention", mode="layer")
    assert last.values.shape == attr.values.shape


def test_rollout_matches_hand_computation():
    eye = torch.eye(3)[None, None]
    assert torch.allclose(rollout([eye, eye]), torch.eye(3)[None])
    a = torch.tensor([[[[0.0, 1.0], [1.0, 0.0]]]])
    step = 0.5 * torch.eye(2) + 0.5 * a[0, 0]
    assert torch.allclose(rollout([a, a])[0], step @ step)


def test_plot_with_reference_bands(flat, present, tmp_path):
    ref = tmp_path / "bands.csv"
    ref.write_text("position,label\n1000,marker band\n1450,matrix\n3000,out of range\n")
    bands = read_reference_bands(ref)
    assert bands["position"].tolist() == [1000.0, 1450.0, 3000.0]
    attr = explain(flat, present[:2], method="ig", target=1)
    for style, index in (("line", 0), ("band", None)):
        fig = plot_attribution(attr, index, top_k=3, reference=bands, style=style)
        ax = fig.axes[0]
        assert "cm$^{-1}$" in ax.get_xlabel()
        texts = [t.get_text() for t in ax.texts]
        assert any("marker band" in t for t in texts)
        assert any(abs(float(t) - PEAK) <= SIGMA for t in texts if t.replace(".", "").isdigit())
        out = save_figure(fig, tmp_path / f"{style}.png")
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = tmp_path / "bad.csv"
    bad.write_text("where,label\n1000,x\n")
    with pytest.raises(FormatError, match="no 'position' column"):
        read_reference_bands(bad)


def test_cli_explain_writes_table_and_pictures(data, tmp_path, capsys):
    import spectrakit
    from spectrakit.cli import main
    from spectrakit.training import fit_supervised

    crop = {"steps": [{"name": "crop", "step": "Crop", "params": {"low": 600, "high": 1500}}]}
    predictor = fit_supervised(
        data[0][:96], "label", task="classification", model="cnn1d_tiny", max_epochs=2,
        pipeline=crop, out=tmp_path / "bundle", progress=False, loggers=(), patience=None,
    )  # fmt: skip
    test = data[1][:4]
    # a predictor applies its preprocessing: attributions live on the cropped model axis
    attr = explain(predictor, test, method="ig")
    assert attr.axis == predictor.model_axis and attr.axis.min >= 600 and attr.axis.max <= 1500
    assert set(attr.target_names) <= set(CLASSES)
    spectrakit.write(test, tmp_path / "test.csv")
    ref = tmp_path / "bands.csv"
    ref.write_text("position,label\n1000,marker\n")
    args = ["explain", "--model", str(tmp_path / "bundle"), "--data", str(tmp_path / "test.csv")]
    out = tmp_path / "out"
    code = main([*args, "--method", "saliency", "--target", "present", "--reference", str(ref),
                 "--top-k", "3", "--max-plots", "2", "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    table = spectrakit.read(out / "attributions.csv")
    assert table.n_spectra == 4 and table.axis.allclose(predictor.model_axis)
    assert set(table.meta["target"]) == {"present"}
    bands = pd.read_csv(out / "top_bands.csv")
    assert list(bands.columns[:3]) == ["spectrum", "target", "rank"] and len(bands) <= 12
    assert sorted(p.name for p in out.glob("*.png")) == [
        "spectrum_0000.png", "spectrum_0001.png", "summary.png",
    ]  # fmt: skip
    capsys.readouterr()
    code = main([*args, "--target", "nothing", "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err
    assert code == 2 and "no output 'nothing'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o2").exists()


def test_hirescam_is_gradient_times_feature_map(flat, present):
    from spectrakit.explain._gradcam import conv_layer

    attr = explain(flat, present, method="hirescam", target=1)
    assert attr.values.shape == present.shape and (attr.values >= 0).all()
    # reference: autograd of the class score through the hooked feature map, by hand
    _, module = conv_layer(flat)
    x = torch.tensor(present.values, dtype=torch.float32)[:, None]
    feats = {}
    hook = module.register_forward_hook(lambda m, i, o: feats.setdefault("a", o))
    flat.eval()
    score = flat(x)[:, 1].sum()
    hook.remove()
    grad = torch.autograd.grad(score, feats["a"])[0]
    cam = torch.relu((grad * feats["a"]).sum(dim=1, keepdim=True)).detach()
    ref = torch.nn.functional.interpolate(cam, size=x.shape[-1], mode="linear")[:, 0]
    np.testing.assert_allclose(attr.values, ref.numpy(), rtol=1e-4, atol=1e-6)
    # with a flattening head, the position-averaged gradient of Grad-CAM blurs the map;
    # HiResCAM keeps it on the deciding band
    window = (PEAK - 6 * SIGMA, PEAK + 6 * SIGMA)
    wide = attr.mass_fraction(*window).mean()
    blurred = explain(flat, present, method="gradcam", target=1).mass_fraction(*window).mean()
    print(f"flatten head, mass in +-6 sigma: hirescam {wide:.3f}, gradcam {blurred:.3f}")
    share = np.mean((window[0] <= AXIS) & (window[1] >= AXIS))  # of a uniform map
    assert wide > max(blurred, 2 * share)


def test_cli_explain_channels_option(tmp_path, capsys, data):
    import spectrakit
    from spectrakit.cli import main

    spectrakit.write(data[1][:2], tmp_path / "x.csv")
    code = main(["explain", "--model", str(tmp_path / "none"), "--data", str(tmp_path / "x.csv"),
                 "--method", "ig", "--channels", "all", "--out", str(tmp_path / "o")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
    assert main(["explain", "--model", "m", "--data", "x", "--channels", "some", "--out", "o"]) == 2
