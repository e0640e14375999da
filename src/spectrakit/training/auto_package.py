"""The automatic choice as one bundle: the CV winner written in the common bundle format.

:func:`save_auto` writes the best candidate of an :class:`~spectrakit.training.auto.AutoChoice`
that can be stored faithfully:

- ``pls`` / PLS-DA: a chemometric bundle (Hotelling T²/Q detector by default);
- ``pls+mean-centering``: the PLS bundle with the instrument offset folded into its centring
  (exact when the preprocessing is affine, as derivatives, baselines through fixed points
  and resampling are);
- ``di-pls``: a linear bundle centred with the new instrument's mean;
- ``pls_net`` and its blend with PLS: a ``pls_scorenet`` bundle (PLS scores standardized
  per instrument, averaged score networks, the PLS blend weight);
- ``cnn``: a ``smallnet_ensemble`` bundle (the members, adapted to the new instrument when
  unlabeled spectra of it were given).

Every bundle is checked to reproduce its candidate's predictions (on the new instrument's
spectra when given, else on the training spectra) before it is kept; a candidate that
cannot be stored exactly (a blend of networks on different inputs, a non-affine pipeline
under mean-centering) is passed over for the next in the CV ranking, and the card says so.
The card and ``metrics`` hold the CV error of every candidate and the reason of the choice.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spectrakit.core.errors import BundleError, ConfigError
from spectrakit.core.spectra import Spectra
from spectrakit.predict.bounds import declared_bounds
from spectrakit.predict.loader import load
from spectrakit.training.chemometric import _parts, save_chemometric

__all__ = ["save_auto"]


def _card(choice: Any, packaged: Any, skipped: list[str]) -> tuple[str, dict, dict]:
    """Intended-use text with the CV table, training facts and per-candidate metrics."""
    what = "RMSE" if choice.task == "regression" else "error rate"
    rows = sorted(choice.candidates, key=lambda c: c.cv_error)
    table = "\n".join(
        f"| {c.name} | {c.kind} | {c.cv_error:.4g} |" + (" chosen |" if c is packaged else " |")
        for c in rows
    )
    note = f" Not storable exactly, passed over: {', '.join(skipped)}." if skipped else ""
    text = (
        f"Automatic choice: {packaged.name} ({packaged.kind}). {choice.reason}.{note}\n\n"
        f"| candidate | kind | CV {what} | |\n|---|---|---|---|\n{table}"
    )
    facts = {
        "chosen": packaged.name,
        "kind": packaged.kind,
        "reason": choice.reason,
        "skipped": skipped,
        "candidates": [
            {"name": c.name, "kind": c.kind, "cv_error": float(c.cv_error), **_info(c)}
            for c in rows
        ],
    }
    metrics = {f"cv {c.name}": float(c.cv_error) for c in rows}
    return text, facts, {"auto_choice": packaged.name, **metrics}


def _info(c: Any) -> dict:
    return {k: v for k, v in c.info.items() if isinstance(v, int | float | str)}


# ---------------------------------------------------------------------- modules
def _pls_parts(est: Any, X: Spectra, shift_from: tuple | None) -> tuple[Any, Any]:
    """Chemometric module of a fitted SpectralEstimator, centring moved by ``shift_from``."""
    prep, module = _parts(est, X)
    if shift_from is not None:  # f(x - ms + mm) = f(x) - f(ms) + f(mm) for affine f
        fs, fm = (prep.transform(_mean_spectrum(m, X))[0, 0] for m in shift_from)
        x_mean = module.x_mean + torch.as_tensor(fs - fm, dtype=torch.float64)
        module.x_mean.copy_(x_mean)
    return prep, module


def _mean_spectrum(values: np.ndarray, like: Spectra) -> Spectra:
    return Spectra(np.asarray(values, dtype=np.float64)[None, :], like.axis)


def _affine_parts(cand: Any, X: Spectra, domain: str) -> tuple[Any, Any]:
    """A transfer map + preprocessing + PLS that is affine in the raw spectrum, as one map.

    Probed exactly at 0 and at every unit spectrum; the faithfulness check refuses a
    candidate whose chain is not affine (an SNV step, say).
    """
    from spectrakit.models import create
    from spectrakit.preprocessing.channels import ChannelPreprocessor

    p = X.n_points
    probes = Spectra(np.vstack([np.zeros((1, p)), np.eye(p)]), X.axis)
    out = np.asarray(cand.predict(probes, domain), dtype=np.float64)
    bias, weight = out[0], out[1:] - out[0]
    module = create("chemometric_linear", input_length=p, n_outputs=1)
    with torch.no_grad():
        module.head_weight.copy_(torch.as_tensor(weight[None, :], dtype=torch.float64))
        module.head_bias.fill_(float(bias))
    return ChannelPreprocessor(None).fit(X), module


def _dipls_parts(cand: Any, X: Spectra, domain: str) -> tuple[Any, Any]:
    from spectrakit.models import create
    from spectrakit.preprocessing.channels import ChannelPreprocessor

    wrap = cand.model
    dipls = wrap.choice.model
    pipeline = getattr(wrap, "pipeline", None)
    prep = ChannelPreprocessor([pipeline] if pipeline is not None else None).fit(X)
    coef = np.asarray(dipls.coef_, dtype=np.float64).reshape(-1, 1)
    p = coef.shape[0]
    module = create("chemometric_linear", input_length=p, n_outputs=1)
    mean = dipls.target_mean_ if domain == "target" else dipls.source_mean_
    with torch.no_grad():
        module.x_mean.copy_(torch.as_tensor(mean, dtype=torch.float64))
        module.head_weight.copy_(torch.as_tensor(coef.T, dtype=torch.float64))
        module.head_bias.fill_(float(np.ravel(dipls.y_mean_)[0]))
    return prep, module


def _scorenet_parts(net: Any, X: Spectra, domain: str, w: float, base: Any) -> tuple[Any, Any]:
    from spectrakit.models import create

    scores = net.scores
    est = scores.pls
    pls = est.model_[-1]
    prep, _ = _parts(est, X)
    d = 1 if domain == "target" and net.adapted else 0
    q = np.asarray(pls.y_loadings_, dtype=np.float64)[0]
    hidden = int(net.recipe.hidden)
    module = create(
        "pls_scorenet",
        input_length=prep.output_axis_.n_points,
        n_components=int(pls.n_components_),
        hidden=hidden,
        n_members=len(net.members),
        blend=float(w),
    )
    pls_bias = float(scores.mean[0] @ q + np.ravel(pls.y_mean_)[0])
    arrays = {
        "x_mean": pls.x_mean_, "x_std": pls.x_std_, "rotations": pls.x_rotations_,
        "t_mean": scores.mean[d], "t_sd": scores.sd[d], "pls_coef": q * scores.sd[d],
        "pls_bias": [pls_bias],
    }  # fmt: skip
    with torch.no_grad():
        for name, value in arrays.items():
            getattr(module, name).copy_(torch.as_tensor(np.asarray(value), dtype=torch.float64))
        for mine, theirs in zip(module.members, net.members, strict=True):
            mine.load_state_dict(theirs.state_dict())
    if base is not None:
        _check_same_pls(base, est)
    return prep, module


def _check_same_pls(base: Any, est: Any) -> None:
    a, b = base.model_[-1], est.model_[-1]
    if a.n_components_ != b.n_components_ or not np.allclose(a.coef_, b.coef_):
        raise BundleError("the blend's PLS differs from the network's PLS front end")


def _cnn_parts(cand: Any, X: Spectra, domain: str) -> tuple[Any, Any, dict]:
    from spectrakit.models import create
    from spectrakit.preprocessing.channels import ChannelPreprocessor

    deep = cand.model.m
    if deep.base is not None:
        raise BundleError("a PLS-residual network is stored as two models")
    prep = ChannelPreprocessor([cand.model.deep_input] if cand.model.deep_input else None)
    prep.fit(X)
    adapted = domain == "target" and deep.adapted
    members = deep.target_members if adapted else deep.members
    rec = deep.recipe
    n_out = 1 if deep.task == "regression" else len(deep.classes)
    module = create(
        "smallnet_ensemble",
        input_length=prep.output_axis_.n_points,
        n_outputs=n_out,
        channels=list(rec.channels),
        width=int(rec.width),
        n_members=len(members),
        domain=1 if adapted else 0,
        head=getattr(deep, "head", "pool"),
    )
    for mine, theirs in zip(module.members, members, strict=True):
        mine.load_state_dict(theirs.state_dict())
    spec = {}
    if deep.task == "regression":
        spec = {"target_mean": [float(deep.y_mean)], "target_std": [float(deep.y_scale)]}
    return prep, module, spec


def _parts_of(cand: Any, X: Spectra, domain: str) -> tuple[Any, Any, dict]:
    """(preprocessor, module, output-spec overrides) of a candidate, or BundleError."""
    from spectrakit.training.auto import _Blend, _CNNWrap, _DIPLSModel, _Fitted, _ScoreNetWrap
    from spectrakit.training.auto_interferent import InterferentPLS
    from spectrakit.training.auto_standards import _Mapped

    model = cand.model
    if isinstance(model, _Fitted):
        shift = None
        if domain == "target" and model.transfer is not None:
            shift = (model.transfer.slave_mean_, model.transfer.master_mean_)
        return (*_pls_parts(model.est, X, shift), {})
    if isinstance(model, _Mapped):
        if domain == "source" or model.transfer is None:
            return (*_pls_parts(model.est, X, None), {})
        return (*_affine_parts(cand, X, domain), {})
    if isinstance(model, _DIPLSModel):
        return (*_dipls_parts(cand, X, domain), {})
    if isinstance(model, InterferentPLS):
        return (*_affine_parts(cand, X, domain), {})
    if isinstance(model, _ScoreNetWrap):
        return (*_scorenet_parts(model.m, X, domain, 1.0, None), {})
    if isinstance(model, _CNNWrap):
        return _cnn_parts(cand, X, domain)
    pair = isinstance(model, _Blend) and isinstance(model.a.model, _ScoreNetWrap)
    if pair and isinstance(model.b.model, _Fitted):
        net, base = model.a.model.m, model.b.model.est
        return (*_scorenet_parts(net, X, domain, model.w, base), {})
    raise BundleError(
        f"{cand.name} cannot be stored as one model",
        expected="a PLS, di-PLS, PLS-started network (or its PLS blend) or CNN ensemble",
        got=type(model).__name__,
    )


# ---------------------------------------------------------------------- writing
def _write(cand, choice, X, y, out, targets, domain, spec_extra, parts, card) -> Path:
    from spectrakit import bundle
    from spectrakit.models.heads import OutputSpec

    prep, module = parts
    classes = None
    if choice.task == "classification":
        classes = [str(c) for c in _classes(cand)]
    spec = OutputSpec(task=choice.task, n_targets=module.n_outputs if classes else 1)
    spec.target_mean = spec_extra.get("target_mean", [])
    spec.target_std = spec_extra.get("target_std", [])
    spec.target_min = spec_extra.get("target_min", [])
    spec.target_max = spec_extra.get("target_max", [])
    text, facts, metrics = card
    where = "the new instrument" if domain == "target" else "the training instrument"
    summary = {"n_spectra": X.n_spectra, "n_points": X.n_points, "meta": {}}
    if choice.task == "regression":
        summary["meta"] = {targets[0]: {"min": float(np.min(y)), "max": float(np.max(y))}}
    bundle.save(
        out,
        model=module.eval(),
        task=choice.task,
        axis=X.axis,
        model_axis=prep.output_axis_,
        targets=list(targets),
        classes=classes,
        output=spec.__dict__,
        preprocessor=prep,
        training={"data": summary, "auto": facts, "domain": domain},
        metrics={"cv_error": float(cand.cv_error), **metrics},
        intended_use=f"Predicts {', '.join(targets)} from spectra of {where}. {text}",
    )
    return Path(out)


def _classes(cand: Any) -> np.ndarray:
    model = cand.model
    if hasattr(model, "m"):
        return np.asarray(model.m.classes)
    return np.asarray(model.est.classes_)


def _faithful(predictor: Any, cand: Any, check: Spectra, domain: str, task: str) -> None:
    ref = np.asarray(cand.predict(check, domain))
    got = predictor.predict(check)
    if task == "classification":
        ok = np.array_equal(got["predicted"].astype(str).to_numpy(), ref.astype(str))
        diff = "labels differ"
    else:
        got = got.iloc[:, 0].to_numpy(dtype=np.float64)
        scale = max(float(np.abs(ref).max()), 1.0)
        ok = np.allclose(got, ref, rtol=1e-4, atol=1e-4 * scale)
        diff = f"largest difference {float(np.abs(got - ref).max()):.3g}"
    if not ok:
        raise BundleError(f"the stored {cand.name} does not reproduce it", got=diff)


def _ood(predictor: Any, out: Path, ood: str, in_dist: Spectra, false_rejection: float) -> None:
    from spectrakit import bundle
    from spectrakit.ood import fit_ood, save_detector

    if ood == "none":
        return
    method = "dime" if ood in ("auto", "t2q") else ood
    det = fit_ood(predictor, in_dist, method=method, false_rejection=false_rejection)
    save_detector(det, out)
    metrics = dict(predictor.config.metrics)
    bundle.update_metrics(out, {**metrics, "ood": det.name, "ood_calibration": "20% holdout"})


def _try(cand, choice, X, y, out, targets, domain, check, card, declared) -> Any:
    """Write ``cand`` to ``out`` if its bundle reproduces it (else BundleError, nothing kept).

    The check runs without the ``declared`` bounds (which clip what the candidate predicts);
    the bundle written to ``out`` carries them.
    """
    prep, module, spec = _parts_of(cand, X, domain)
    parent = Path(out).resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".auto-check-", dir=parent))
    try:
        _write(cand, choice, X, y, tmp / "b", targets, domain, spec, (prep, module), card)
        _faithful(load(tmp / "b"), cand, check, domain, choice.task)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _write(cand, choice, X, y, out, targets, domain, {**spec, **declared}, (prep, module), card)
    return load(out)


def save_auto(
    choice: Any,
    X: Spectra,
    y: Any,
    out: str | Path,
    *,
    targets: list[str],
    target: Spectra | None = None,
    ood: str = "auto",
    false_rejection: float = 0.05,
    seed: int = 0,
    bounds: tuple[Any, Any] = (None, None),
) -> Any:
    """Write the best storable candidate of ``choice`` as one bundle and load it.

    Parameters
    ----------
    choice : AutoChoice
        From :func:`spectrakit.training.auto.auto_fit` on ``X, y``.
    X, y : Spectra, array-like of shape (n,)
        The labelled training spectra and their targets or labels.
    out : str or Path
        Bundle directory.
    targets : list of str
        Target column name(s) (classification: the label column).
    target : Spectra, optional
        Spectra of the new instrument (unlabeled, or the slave standards): the bundle
        predicts spectra of that instrument, and its OOD detector is fitted on them.
    ood : {"auto", "t2q", "dime", "mahalanobis", "knn", "none"}
        Detector (``auto``: T²/Q for a plain PLS winner, DIME otherwise).
    false_rejection, seed
        Rate of in-distribution spectra flagged; seed of the CV folds.
    bounds : (lower, upper), optional
        Declared target bounds (:func:`spectrakit.predict.bounds.declared_bounds`), applied
        to every prediction of the bundle.

    Returns
    -------
    Predictor
        The bundle, loaded; ``predictor.config.training["auto"]`` holds the ranking.
    """
    declared = declared_bounds(*bounds, len(targets), choice.task)
    domain = "source" if target is None else "target"
    check = X if target is None else target
    ranked = sorted(choice.candidates, key=lambda c: (c.cv_error, c.kind != "pls"))
    skipped: list[str] = []
    for cand in ranked:
        card = _card(choice, cand, skipped)
        try:
            if cand.kind == "pls" and domain == "source":
                return save_chemometric(
                    cand.model.est, X, y, out, task=choice.task, targets=targets, ood=ood,
                    false_rejection=false_rejection, seed=seed, metrics=card[2],
                    training={"auto": card[1]}, bounds=bounds,
                )  # fmt: skip
            pred = _try(cand, choice, X, y, out, targets, domain, check, card, declared)
        except BundleError:
            skipped.append(cand.name)
            continue
        _ood(pred, Path(out), ood, check, false_rejection)
        return load(out)
    raise ConfigError(
        "no candidate of the automatic choice could be stored as a bundle",
        got=", ".join(skipped),
    )
