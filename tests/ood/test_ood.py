"""OOD detectors flag unseen classes and other kinds of sample; calibration; storage.

A small CNN is trained on four synthetic classes (each a pair of narrow bands at its own
positions over a shared varying background). Its embeddings must separate, from fresh
in-distribution spectra: two held-out classes (bands elsewhere) and coffee ATR-FTIR spectra
(a different kind of sample, placed on the same axis).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from spectrakit import Spectra
from spectrakit.core.errors import BundleError, ConfigError, DataError, ModelError
from spectrakit.models import create
from spectrakit.ood import (
    DIME,
    EnergyScore,
    KNNDistance,
    Mahalanobis,
    ReconstructionError,
    create_detector,
    detector_inputs,
    fit_ood,
    list_detectors,
    load_detector,
    model_inputs,
    reconstruction_errors,
    save_detector,
)

AXIS = 400.0 + 4.0 * np.arange(352)
BACKGROUND = np.array([520.0, 860.0, 1300.0, 1700.0])
CLASS_BANDS = {  # 0-3 in distribution, 4-5 held out
    0: (620.0, 1010.0),
    1: (760.0, 1220.0),
    2: (940.0, 1480.0),
    3: (1100.0, 1620.0),
    4: (680.0, 1380.0),
    5: (1050.0, 1540.0),
}
KNOWN = [0, 1, 2, 3]


def band(center: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((AXIS - center) / sigma) ** 2)


def make_classes(classes: list[int], n: int, seed: int) -> Spectra:
    rng = np.random.default_rng(seed)
    y = rng.choice(classes, n)
    bg = np.stack([band(c, 40.0) for c in BACKGROUND])
    x = rng.uniform(0.2, 1.0, (n, bg.shape[0])) @ bg
    x += rng.uniform(0.0, 0.3, (n, 1)) + rng.uniform(-0.2, 0.2, (n, 1)) * (AXIS - 1100) / 700
    for k in set(y):
        rows = y == k
        peaks = sum(band(c, 8.0) for c in CLASS_BANDS[k])
        x[rows] += rng.uniform(0.6, 1.4, (rows.sum(), 1)) * peaks
    x += rng.normal(0.0, 0.01, x.shape)
    return Spectra(x, AXIS, meta={"label": [f"class{k}" for k in y], "y": y})


def coffee_on_axis() -> Spectra:
    from spectrakit.datasets import load_coffee

    coffee = load_coffee()
    placed = Spectra(coffee.values, np.linspace(AXIS[0], AXIS[-1], coffee.n_points))
    return placed.resample(AXIS, fill="edge")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def sets() -> dict[str, Spectra]:
    return {
        "train": make_classes(KNOWN, 400, 0),
        "calib": make_classes(KNOWN, 400, 1),
        "fresh": make_classes(KNOWN, 800, 2),
        "heldout_classes": make_classes([4, 5], 200, 3),
        "coffee": coffee_on_axis(),
    }


@pytest.fixture(scope="module")
def model(sets):
    torch.manual_seed(0)
    net = create("cnn1d_tiny", n_outputs=4, global_pool="flatten", input_length=352)
    x = sets["train"].to_torch()
    y = torch.as_tensor(sets["train"].meta["y"].to_numpy().copy())
    opt = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=0.01)
    for _ in range(250):
        idx = torch.randint(0, len(x), (32,))
        loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


@pytest.fixture(scope="module")
def feats(sets, model) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for name, s in sets.items():
        x = s.to_torch()
        out[name] = {k: model_inputs(model, x, k) for k in ("embedding", "logits")}
    return out


def test_classifier_is_accurate(sets, model):
    with torch.no_grad():
        pred = model(sets["fresh"].to_torch()).argmax(1).numpy()
    assert np.mean(pred == sets["fresh"].meta["y"].to_numpy()) > 0.95


def _auroc(det, feats, kind: str, ood: str) -> float:
    inside = det.score_samples(feats["fresh"][kind])
    outside = det.score_samples(feats[ood][kind])
    labels = np.r_[np.zeros(len(inside)), np.ones(len(outside))]
    return float(roc_auc_score(labels, np.r_[inside, outside]))


@pytest.mark.parametrize(
    ("name", "params", "min_classes", "min_coffee"),
    [
        ("dime", {"n_components": 0.95}, 0.7, 0.9),
        ("mahalanobis", {}, 0.7, 0.9),
        ("knn", {"k": 10}, 0.7, 0.9),
        ("energy", {}, 0.5, 0.5),
    ],
)
def test_detectors_flag_unseen_classes_and_other_samples(
    sets, feats, name, params, min_classes, min_coffee
):
    det = create_detector(name, **params)
    kind = det.input_kind
    y = sets["train"].meta["y"].to_numpy() if name == "mahalanobis" else None
    det.fit(feats["train"][kind], y)
    auc_classes = _auroc(det, feats, kind, "heldout_classes")
    auc_coffee = _auroc(det, feats, kind, "coffee")
    print(f"{name}: AUROC held-out classes {auc_classes:.3f}, coffee {auc_coffee:.3f}")
    assert auc_classes > min_classes
    assert auc_coffee > min_coffee


@pytest.mark.parametrize("name", ["dime", "mahalanobis", "knn", "energy"])
def test_false_rejection_matches_the_calibrated_rate(sets, feats, name):
    det = create_detector(name)
    kind = det.input_kind
    det.fit(feats["train"][kind], sets["train"].meta["y"].to_numpy())
    det.calibrate(feats["calib"][kind], false_rejection=0.05)
    rate = det.predict(feats["fresh"][kind]).mean()
    # binomial error of both the 400 calibration and the 800 test spectra
    sd = np.sqrt(0.05 * 0.95 * (1 / 400 + 1 / 800))
    print(f"{name}: false rejection on fresh in-distribution spectra {rate:.3f} (target 0.05)")
    assert abs(rate - 0.05) < 3 * sd
    flagged = det.predict(feats["coffee"][kind]).mean()
    print(f"{name}: coffee spectra flagged {flagged:.3f}")
    if kind == "embedding":  # confident logits can hide far-away inputs from the energy score
        assert flagged > 0.9


def test_calibrate_accepts_scores_and_checks_rate(feats):
    det = DIME().fit(feats["train"]["embedding"])
    scores = det.score_samples(feats["calib"]["embedding"])
    a = DIME().fit(feats["train"]["embedding"]).calibrate(scores, false_rejection=0.1)
    b = det.calibrate(feats["calib"]["embedding"], false_rejection=0.1)
    assert a.threshold_ == pytest.approx(b.threshold_)
    assert np.mean(scores > a.threshold_) == pytest.approx(0.1, abs=0.01)
    with pytest.raises(ConfigError, match="false-rejection"):
        det.calibrate(scores, false_rejection=1.5)


def test_mahalanobis_matches_a_direct_computation(feats, sets):
    e = feats["train"]["embedding"]
    y = sets["train"].meta["y"].to_numpy()
    det = Mahalanobis(ridge=1e-3).fit(e, y)
    means = np.stack([e[y == k].mean(0) for k in KNOWN])
    cov = np.cov((e - means[y]).T, bias=True)
    cov += 1e-3 * np.mean(np.diag(cov)) * np.eye(len(cov))
    q = feats["heldout_classes"]["embedding"][:5]
    direct = [min((v - m) @ np.linalg.solve(cov, v - m) for m in means) for v in q]
    np.testing.assert_allclose(det.score_samples(q), direct, rtol=1e-6)


def test_knn_and_dime_reference_values():
    rng = np.random.default_rng(0)
    plane = np.c_[rng.normal(size=(200, 2)), np.zeros((200, 1))]  # the z = 0 plane
    det = DIME(n_components=2).fit(plane)
    np.testing.assert_allclose(det.score_samples([[0.3, -0.2, 2.0]]), [2.0], rtol=1e-9)
    knn = KNNDistance(k=1).fit(np.eye(3))
    np.testing.assert_allclose(knn.score_samples([[2.0, 0.0, 0.0]]), [0.0], atol=1e-12)
    np.testing.assert_allclose(knn.score_samples([[1.0, 1.0, 0.0]]), [np.sqrt(2 - np.sqrt(2))])
    energy = EnergyScore().fit(np.zeros((2, 3)))
    np.testing.assert_allclose(energy.score_samples([[0.0, 0.0, 0.0]]), [-np.log(3)])


def test_reconstruction_error_of_a_masked_model(sets):
    torch.manual_seed(0)
    net = create("specbert_tiny")
    x = sets["train"].to_torch()[:200]
    n_patch = net.num_patches(x.shape[-1])
    opt = torch.optim.AdamW(net.parameters(), 2e-3)
    for _ in range(60):  # a short masked pretraining
        idx = torch.randint(0, len(x), (32,))
        mask = torch.rand(32, n_patch) < 0.3
        recon = net.forward_masked(x[idx], mask)
        loss = ((recon - net.patchify(x[idx])) ** 2).mean(-1)[mask].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    err_train = reconstruction_errors(net, x, n_masks=4, seed=0)
    assert err_train.shape == (200, 4) and np.isfinite(err_train).all()
    np.testing.assert_array_equal(err_train, reconstruction_errors(net, x, n_masks=4, seed=0))
    det = ReconstructionError().fit(err_train)
    inside = det.score_samples(model_inputs(net, sets["fresh"].to_torch()[:100], "reconstruction"))
    coffee = det.score_samples(model_inputs(net, sets["coffee"].to_torch(), "reconstruction"))
    auc = roc_auc_score(np.r_[np.zeros(100), np.ones(len(coffee))], np.r_[inside, coffee])
    print(f"reconstruction: AUROC coffee {auc:.3f}")
    assert auc > 0.9
    with pytest.raises(ModelError, match="masked-pretrained"):
        reconstruction_errors(create("cnn1d_tiny"), x[:2])


def test_save_load_round_trip_without_pickle(feats, sets, tmp_path):
    for name in list_detectors():
        if name == "reconstruction":
            det = ReconstructionError().fit(np.abs(feats["train"]["embedding"][:, :3]))
            data = np.abs(feats["coffee"]["embedding"][:, :3])
        else:
            det = create_detector(name)
            kind = det.input_kind
            det.fit(feats["train"][kind], sets["train"].meta["y"].to_numpy())
            data = feats["coffee"][kind]
        det.calibrate(det.score_samples(data[:20]), false_rejection=0.1)
        folder = tmp_path / name
        save_detector(det, folder)
        back = load_detector(folder)
        assert type(back) is type(det) and back.get_params() == det.get_params()
        assert back.threshold_ == det.threshold_
        np.testing.assert_array_equal(back.score_samples(data), det.score_samples(data))
        np.testing.assert_array_equal(back.predict(data), det.predict(data))
        assert sorted(p.name for p in folder.iterdir()) == ["ood.json", "ood.safetensors"]
        desc = json.loads((folder / "ood.json").read_text())
        assert desc["type"] == name and desc["format"] == "spectrakit-ood"
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".pkl", ".pickle", ".pt")]
    assert load_detector(tmp_path / "nothing-here") is None


def test_corrupt_or_unknown_detector_files_are_refused(feats, tmp_path):
    det = DIME().fit(feats["train"]["embedding"])
    save_detector(det, tmp_path)
    desc = json.loads((tmp_path / "ood.json").read_text())
    (tmp_path / "ood.json").write_text(json.dumps({**desc, "type": "evil"}))
    with pytest.raises(BundleError, match="unsupported OOD detector"):
        load_detector(tmp_path)
    (tmp_path / "ood.json").write_text("{not json")
    with pytest.raises(BundleError, match="not a valid detector description"):
        load_detector(tmp_path)


def test_bad_inputs_are_clear(feats):
    det = DIME()
    with pytest.raises(ModelError, match="not fitted"):
        det.score_samples(feats["train"]["embedding"])
    det.fit(feats["train"]["embedding"])
    with pytest.raises(DataError, match="width differs from training"):
        det.score_samples(feats["train"]["embedding"][:, :5])
    with pytest.raises(ModelError, match="no threshold"):
        det.predict(feats["train"]["embedding"])
    with pytest.raises(DataError, match="NaN"):
        det.score_samples(np.full((2, feats["train"]["embedding"].shape[1]), np.nan))
    with pytest.raises(ConfigError, match="unknown OOD detector"):
        create_detector("isolation")
    with pytest.raises(DataError, match="classifier logits"):
        EnergyScore().fit(np.zeros((5, 1)))


def test_fit_ood_with_a_bundle_and_predictor(sets, model, tmp_path):
    import spectrakit
    from spectrakit.bundle import save, verify

    classes = [f"class{k}" for k in KNOWN]
    out = save(
        tmp_path / "bundle",
        model=model,
        task="classification",
        axis=sets["train"].axis,
        targets=["label"],
        classes=classes,
        output={"task": "classification", "n_targets": 4},
    )
    predictor = spectrakit.load(out)
    det = fit_ood(predictor, sets["train"], method="mahalanobis", heldout=sets["calib"])
    assert det.means_.shape[0] == 4  # class-conditional from the predictor's target column
    save_detector(det, out)
    assert {"ood.json", "ood.safetensors"} <= set(verify(out)["files"])
    reloaded = spectrakit.load(out)
    table = reloaded.predict(sets["coffee"])
    expected = det.score_samples(detector_inputs(predictor, sets["coffee"], det))
    np.testing.assert_allclose(table["ood_score"].to_numpy(), expected, rtol=1e-6)
    assert table["is_ood"].mean() > 0.9
    fresh = reloaded.predict(sets["fresh"][:200])
    assert fresh["is_ood"].mean() < 0.15
    energy = fit_ood(predictor, sets["train"], method="energy", heldout_fraction=0.3, seed=4)
    assert energy.threshold_ is not None and energy.input_kind == "logits"
    # without heldout, the threshold is set on a seeded random share of the training spectra
    n = sets["train"].n_spectra
    held = sets["train"].select(np.random.default_rng(4).permutation(n)[: round(0.3 * n)])
    scores = energy.score_samples(detector_inputs(predictor, held, energy))
    assert energy.threshold_ == pytest.approx(float(np.quantile(scores, 0.95)), rel=1e-9)
