"""Automatic model choice: every candidate scored by the same CV folds on training data.

Candidates (:func:`auto_fit`):

- PLS (PLS-DA for classes) with each given preprocessing pipeline, latent variables chosen
  by inner CV inside every outer fold (nested, so its CV score is honest);
- with unlabeled target spectra: the same PLS applied after instrument mean-centering, and
  di-PLS with a CV-chosen penalty (:mod:`spectrakit.training.dipls_lambda`); both (and the
  adapted network) keep the label shift estimated from the spectra
  (:mod:`spectrakit.training.auto_shift`), so a real change of the analyte's level between
  the labelled and the new spectra is not centred away;
- the deep recipes: ``pls_net`` (:mod:`spectrakit.training.scorenet`, regression; adapted to
  the target when given) and ``cnn`` (:mod:`spectrakit.training.recipes`);
- with unlabeled target spectra: PLS on the standards augmented with the target's
  analyte-free variation (:mod:`spectrakit.training.auto_interferent`), ranked by its own
  target-like validation (standards placed in held-out target backgrounds);
- a blend ``w * deep + (1 - w) * PLS`` with ``w`` from {0.25, 0.5, 0.75} on the CV predictions.

The lowest CV error wins. PLS is always a candidate, so the choice is never worse than
CV-tuned PLS on CV. With target spectra only transfer-aware candidates compete (the source
CV cannot see the instrument difference, so plain models are not offered): PLS +
mean-centering, di-PLS and the adapted networks. They are ranked by their error on the
held-out training spectra simulated as the new instrument measures them, inside the same
folds (:mod:`spectrakit.training.target_view`; no target label is read), when the
instrument model explains the two mean spectra; else by the plain CV error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spectrakit.chemometrics import (
    DIPLS,
    PLSDA,
    InstrumentMeanCentering,
    PLSRegressor,
    SpectralEstimator,
    resolve_pipeline,
)
from spectrakit.core.errors import ConfigError, SpectraError
from spectrakit.core.spectra import Spectra
from spectrakit.training.auto_candidate import Candidate, transformed_values
from spectrakit.training.auto_interferent import interferent_candidate
from spectrakit.training.auto_shift import (
    analyte_preserving_centering,
    keep_shift_in_dipls,
    keep_shift_in_scores,
    shift_info,
)
from spectrakit.training.dipls_lambda import choose_dipls
from spectrakit.training.recipes import cv_folds, fit_recipe, get_recipe, recipe_facts
from spectrakit.training.scorenet import ScoreRecipe, fit_scorenet
from spectrakit.training.target_view import choose, target_view

__all__ = ["AutoChoice", "Candidate", "auto_fit", "candidate_pipelines", "pls_estimator"]

log = logging.getLogger("spectrakit.auto")

DEEP = ("pls_net", "cnn")


@dataclass
class AutoChoice:
    """The ranking, the winner and why."""

    candidates: list[Candidate]
    chosen: Candidate
    task: str
    reason: str

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        """Predictions of the chosen model."""
        return self.chosen.predict(X, domain)

    def table(self) -> pd.DataFrame:
        """One row per candidate, best first."""
        rows = [
            {
                "candidate": c.name,
                "kind": c.kind,
                "cv_error": c.cv_error,
                "target_error": c.target_error,
                "seconds": c.seconds,
            }
            for c in sorted(self.candidates, key=lambda c: c.cv_error)
        ]
        return pd.DataFrame(rows)


def pls_estimator(pipeline: Any, task: str = "regression", max_components: int = 15):
    """Unfitted PLS / PLS-DA with its preprocessing; LVs chosen by inner 5-fold CV."""
    if task == "regression":
        return SpectralEstimator(PLSRegressor(max_components=max_components, cv=5), pipeline)
    return SpectralEstimator(PLSDA(max_components=max_components, cv=5), pipeline)


class _Fitted:
    """``predict(X, domain)`` over a fitted estimator, with an optional target mapping."""

    def __init__(self, est: Any, transfer: Any = None) -> None:
        self.est, self.transfer = est, transfer

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        if domain == "target" and self.transfer is not None:
            X = self.transfer.transform(X)
        return np.asarray(self.est.predict(X)).ravel()


def _error(task: str, y: np.ndarray, pred: np.ndarray) -> float:
    if task == "regression":
        return float(np.sqrt(np.mean((np.asarray(pred, float) - y) ** 2)))
    return float(np.mean(np.asarray(pred) != y))


def _centering(est: Any, X: Spectra, y: np.ndarray, target: Spectra, task: str):
    """The target mapping of a PLS candidate, and its label-shift facts (regression)."""
    if task == "regression":
        transfer, shift = analyte_preserving_centering(est, X, y, target)
        return transfer, shift_info(shift)
    return InstrumentMeanCentering().fit(X, target), {}


def _pls_oof(pipeline, X, y, task, folds, target, view):
    """Out-of-fold predictions (n,) of the training spectra and, with a view, of the view."""
    oof = np.empty(len(y), dtype=np.float64 if task == "regression" else object)
    voof = None if view is None else oof.copy()
    for tr, va in folds:
        fold = pls_estimator(pipeline, task).fit(X.select(tr), y[tr])
        oof[va] = np.asarray(fold.predict(X.select(va))).ravel()
        if voof is not None:
            transfer, _ = _centering(fold, X.select(tr), y[tr], view.select(tr), task)
            voof[va] = np.asarray(fold.predict(transfer.transform(view.select(va)))).ravel()
    return oof, voof


def _pls_candidate(name, pipeline, X, y, task, folds, target, view=None) -> Candidate:
    """PLS behind ``pipeline``, fitted on all of ``X`` first, then cross-validated.

    A refusal of the data surfaces at the first fit, once; the folds reuse the pipeline as
    fitted (with any grid it inserted). With a target view, every fold also predicts its
    held-out view spectra after the same centering (``target_error``).
    """
    t0 = time.perf_counter()
    est = pls_estimator(pipeline, task).fit(X, y)
    pipeline = _as_fitted(est, pipeline)
    oof, voof = _pls_oof(pipeline, X, y, task, folds, target, view)
    info: dict[str, Any] = {"n_lv": int(est.model_[-1].n_components_), "pipeline": pipeline}
    transfer = None
    if target is not None:
        transfer, facts = _centering(est, X, y, target, task)
        info.update(facts)
    model = _Fitted(est, transfer)
    kind = "pls" if target is None else "pls+mean-centering"
    t_err = None if voof is None else _error(task, y, voof)
    return Candidate(name, kind, _error(task, y, oof), oof, model, time.perf_counter() - t0, info,
                     t_err, voof)  # fmt: skip


def _as_fitted(est: Any, pipeline: Any) -> Any:
    """The configuration of the fitted preprocessing (with any inserted Resample), or as is."""
    first = est.model_.steps[0][1]
    return first.to_config() if hasattr(first, "to_config") else pipeline


class _DIPLSModel:
    def __init__(self, pre: Any, choice: Any, pipeline: Any = None) -> None:
        self.pre, self.choice, self.pipeline = pre, choice, pipeline

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        x = self.pre.transform(X) if self.pre is not None else X
        x = x.values if isinstance(x, Spectra) else np.asarray(x)
        return self.choice.model.predict(x, domain=domain)


def _dipls_view_oof(choice: Any, Zs, y, Zv, folds) -> np.ndarray:
    """Out-of-fold target-domain predictions (n,) of the view ``Zv`` at the chosen settings.

    The view plays the new instrument: the view of the fold's training rows is the
    unlabeled target set of the fold's di-PLS and its held-out rows the spectra predicted.
    """
    voof = np.empty(len(y))
    for tr, va in folds:
        fold = DIPLS(n_components=choice.n_components, lam=choice.lam).fit(Zs[tr], y[tr], Zv[tr])
        voof[va] = np.asarray(fold.predict(Zv[va], domain="target")).ravel()
    return voof


def _dipls_candidate(name, pipeline, X, y, folds, target, view=None) -> Candidate:
    t0 = time.perf_counter()
    pre = resolve_pipeline(pipeline)
    if pre is not None:
        pre.fit(X)
    Zs, Zt = transformed_values(pre, X), transformed_values(pre, target)
    choice = choose_dipls(Zs, y, Zt, folds)
    voof = None
    if view is not None:
        voof = _dipls_view_oof(choice, Zs, y, transformed_values(pre, view.spectra), folds)
    shift = keep_shift_in_dipls(choice.model, Zs, y, Zt)
    info = {"gamma": choice.gamma, "lam": choice.lam, "n_lv": choice.n_components,
            **shift_info(shift)}  # fmt: skip
    oof = np.full(len(y), np.nan)
    model = _DIPLSModel(pre, choice, pipeline)
    t_err = None if voof is None else _error("regression", y, voof)
    return Candidate(name, "di-pls", choice.cv_rmse, oof, model, time.perf_counter() - t0, info,
                     t_err, voof)  # fmt: skip


class _ScoreNetWrap:
    def __init__(self, m: Any) -> None:
        self.m = m

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        return self.m.predict(X, domain)


class _CNNWrap:
    def __init__(self, m: Any, deep_input: Any) -> None:
        self.m, self.deep_input = m, deep_input

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        return self.m.predict(transformed_values(self.deep_input, X), domain)


def _pls_net(best_pipe, X, y, folds, target, view, seed, quick):
    """The ``pls_net`` candidate (regression): model wrapper, info, CV and view predictions."""
    rec = ScoreRecipe(ensemble=2 if quick else 3)
    m = fit_scorenet(pls_estimator(best_pipe), X, y, recipe=rec, target=target, folds=folds,
                     seed=seed, view=None if view is None else view.spectra)  # fmt: skip
    info = {"steps": m.steps, "n_lv": m.n_components, "recipe": rec.to_config()}
    if target is not None and m.adapted:
        info.update(shift_info(keep_shift_in_scores(m, X, y, target)))
    return m, _ScoreNetWrap(m), info, m.view_predictions


def _cnn(X, y, task, folds, target, deep_input, seed, quick, options):
    """The ``cnn`` candidate: model wrapper, info, CV predictions (no view: ranked by CV)."""
    from dataclasses import replace

    deep_input = resolve_pipeline(deep_input)
    if deep_input is not None:
        deep_input.fit(X)
    rec = replace(get_recipe("cnn"), **(options or {}))
    if quick:
        rec = replace(rec, steps=(150, 300), ensemble=2)
    xt = None if target is None else transformed_values(deep_input, target)
    m = fit_recipe(rec, transformed_values(deep_input, X), y, task=task, folds=folds,
                   X_target=xt, seed=seed)  # fmt: skip
    info = {"steps": m.steps, "recipe": rec.to_config(), **recipe_facts(m)}
    return m, _CNNWrap(m, deep_input), info, None


def _deep_candidates(
    names, best_pipe, X, y, task, folds, target, deep_input, seed, quick, options=None, view=None
):
    from spectrakit.core.progress import progress

    out = []
    for name in progress(list(names), desc="auto: deep candidates (CV)", unit="candidate"):
        t0 = time.perf_counter()
        if name == "pls_net" and task == "regression":
            m, model, info, voof = _pls_net(best_pipe, X, y, folds, target, view, seed, quick)
        elif name == "cnn":
            m, model, info, voof = _cnn(X, y, task, folds, target, deep_input, seed, quick,
                                        options)  # fmt: skip
        else:
            continue
        err = min(m.cv_curve.values())
        oof = m.cv_predictions
        if task == "classification":
            oof = m.classes[np.asarray(oof).argmax(axis=1)]
        kind = "deep+adaptation" if target is not None else "deep"
        t_err = None if voof is None else _error(task, y, voof)
        out.append(Candidate(name, kind, err, oof, model, time.perf_counter() - t0, info,
                             t_err, voof))  # fmt: skip
    return out


class _Blend:
    def __init__(self, a: Candidate, b: Candidate, w: float) -> None:
        self.a, self.b, self.w = a, b, w

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        return self.w * self.a.predict(X, domain) + (1 - self.w) * self.b.predict(X, domain)


def _blend(deep: Candidate, pls: Candidate, y: np.ndarray) -> Candidate:
    """``w * deep + (1 - w) * pls``, ``w`` by CV (by the target view when both have one)."""
    viewed = deep.target_oof is not None and pls.target_oof is not None

    def mix(a, b, w):
        return None if a is None or b is None else w * a + (1 - w) * b

    def score(w):
        pred = mix(deep.target_oof, pls.target_oof, w) if viewed else mix(deep.oof, pls.oof, w)
        return _error("regression", y, pred)

    w = min((0.25, 0.5, 0.75), key=score)
    oof, voof = mix(deep.oof, pls.oof, w), mix(deep.target_oof, pls.target_oof, w)
    t_err = None if voof is None else _error("regression", y, voof)
    name = f"blend({deep.name},{pls.name})"
    return Candidate(name, "blend", _error("regression", y, oof), oof, _Blend(deep, pls, w), 0.0,
                     {"w_deep": w}, t_err, voof)  # fmt: skip


def auto_fit(
    X: Spectra,
    y: np.ndarray,
    *,
    task: str = "regression",
    pipelines: Mapping[str, Any],
    target: Spectra | None = None,
    deep: Sequence[str] = DEEP,
    deep_input: Any = None,
    folds: list | None = None,
    groups: np.ndarray | None = None,
    seed: int = 0,
    quick: bool = False,
    standards: tuple[Spectra, Spectra] | None = None,
    recipe_options: Mapping[str, Any] | None = None,
) -> AutoChoice:
    """Score every candidate with the same CV folds on ``X, y`` and keep the best.

    Parameters
    ----------
    X : Spectra
        Labelled training spectra.
    y : ndarray of shape (n,)
        Targets or class labels.
    task : {"regression", "classification"}
    pipelines : mapping of str to pipeline
        Preprocessing of the PLS candidates (preset names, dicts or transformers).
    target : Spectra, optional
        Unlabeled new-instrument spectra (axis of ``X``): transfer candidates, target view.
    deep : sequence of str
        Deep recipes to try (``pls_net``, ``cnn``; empty for chemometrics only).
    deep_input : pipeline, optional
        Crop/resampling applied before the CNN (it stacks its own channels).
    folds, groups, seed, quick
        Shared CV folds (else built from ``groups`` / labels), seed, faster deep recipes.
    standards : (Spectra, Spectra), optional
        Paired transfer standards (master, slave): PLS with DS, PDS, SST, mean-centering or
        no map (:mod:`spectrakit.training.auto_standards`); networks only with ``target``.
    recipe_options : mapping, optional
        ``DeepRecipe`` fields for ``cnn``, e.g. ``{"align": "dann", "screen": "cv"}``.

    Returns
    -------
    AutoChoice
    """
    y, folds = _checked_inputs(task, pipelines, y, folds, groups, seed)
    view = target_view(X, target) if standards is None else None
    cands, best_pls = _chemometric_candidates(X, y, task, pipelines, folds, target, standards,
                                              view)  # fmt: skip
    if target is not None and standards is None and task == "regression":
        cands.append(_interferents(best_pls.info["pipeline"], X, y, folds, target, seed, view))
    deep = deep if target is not None or standards is None else ()
    cands += (deeps := _deep_candidates(deep, best_pls.info["pipeline"], X, y, task, folds,
              target, deep_input, seed, quick, recipe_options, view))  # fmt: skip
    if task == "regression" and deeps:
        cands.append(_blend(min(deeps, key=lambda c: c.cv_error), best_pls, y))
    chosen, by_view = _choice(cands, target, standards)
    return AutoChoice(cands, chosen, task,
                      _reason(chosen, best_pls, len(folds), task, standards, by_view))  # fmt: skip


def _interferents(pipe, X, y, folds, target, seed, view) -> Candidate:
    """The interferent-augmented PLS candidate.

    Where a target view ranks the transfer candidates, it competes there with its own
    target-like validation error; otherwise by CV, like the rest.
    """
    cand = interferent_candidate("pls+interferents", pipe, X, y, folds, target, seed)
    if view is not None:
        cand.target_error = cand.info["target_like_rmse"]
    return cand


def _checked_inputs(task, pipelines, y, folds, groups, seed):
    """Targets as an array and the CV folds; an unknown task or no pipeline is refused."""
    if task not in ("regression", "classification") or not pipelines:
        raise ConfigError(
            "auto_fit needs a known task and at least one PLS pipeline",
            expected="task regression or classification, pipelines {name: spec}",
            got=f"task {task!r}, {len(pipelines or {})} pipeline(s)",
        )
    y = np.asarray(y, dtype=np.float64) if task == "regression" else np.asarray(y)
    if folds is None:
        codes = None if task == "regression" else np.unique(y, return_inverse=True)[1]
        folds = cv_folds(len(y), y=codes, groups=groups, seed=seed)
    return y, folds


def _choice(cands: list[Candidate], target, standards) -> tuple[Candidate, bool]:
    """The winner and whether the target view ranked it (see the module docstring).

    Without target spectra (or with standards, whose maps carry their own transfer error)
    every candidate competes on CV; PLS wins ties.
    """
    if target is None or standards is not None:
        return min(cands, key=lambda c: (c.cv_error, c.kind != "pls")), False
    return choose(cands, has_target=True)


def _chemometric_candidates(X, y, task, pipelines, folds, target, standards, view=None):
    """PLS per pipeline (with mean-centering on ``target``), di-PLS, or the standards' maps."""
    pls = _pls_candidates(X, y, task, pipelines, folds, target, view)
    best_pls = min(pls, key=lambda c: c.cv_error)
    cands = list(pls)
    if standards is not None:
        from spectrakit.training.auto_standards import standards_candidates

        cands = standards_candidates(pls, *standards)
    if target is not None and task == "regression":
        cands.append(_dipls_candidate("di-pls", best_pls.info["pipeline"], X, y, folds, target,
                                      view))  # fmt: skip
    return cands, best_pls


def _pls_candidates(X, y, task, pipelines, folds, target, view=None) -> list[Candidate]:
    """One PLS candidate per pipeline; a pipeline that refuses the spectra is logged and left."""
    from spectrakit.preprocessing import list_presets

    out, presets = [], set(list_presets())
    for name, pipe in pipelines.items():
        try:
            out.append(_pls_candidate(f"pls[{name}]", pipe, X, y, task, folds, target, view))
        except SpectraError as exc:  # a preset made for another technique: a note, no alarm
            level = logging.INFO if name in presets and pipe == name else logging.WARNING
            log.log(level, "preprocessing %s left out of the candidates: %s", name, exc)
    if not out:
        raise ConfigError(
            "no preprocessing runs on these spectra",
            expected="at least one of " + ", ".join(map(str, pipelines)),
            got="every one refused the data",
            fix="give --pipeline with steps that fit the axis",
        )
    return out


def _reason(
    chosen: Candidate, best_pls: Candidate, k: int, task: str, standards, by_view: bool = False
) -> str:
    what = "RMSE" if task == "regression" else "error rate"
    if standards is not None and chosen.kind.startswith("pls+"):
        return (
            f"{chosen.name} has the lowest expected error on the new instrument, "
            f"sqrt(CV^2 + transfer^2) = {chosen.cv_error:.4g} ({k}-fold CV "
            f"{chosen.info['cv_rmse']:.4g}, leave-one-standard-out transfer "
            f"{chosen.info['transfer_rmse']:.4g})"
        )
    note = chosen.info.get("label_shift_note")
    if by_view:
        return (
            f"{chosen.name} has the lowest {k}-fold CV {what} on the training spectra simulated "
            f"as the new instrument measures them ({chosen.target_error:.4g}; "
            f"{best_pls.name} + mean-centering: {best_pls.target_error:.4g}; "
            f"CV on the training instrument {chosen.cv_error:.4g})"
            + (f"; on the new spectra, {note}" if note else "")
        )
    return (
        f"{chosen.name} has the lowest {k}-fold CV {what} on the training spectra "
        f"({chosen.cv_error:.4g}; best PLS {best_pls.name}: {best_pls.cv_error:.4g})"
        + (f"; on the new spectra, {note}" if note else "")
    )


def candidate_pipelines(train: Any = None, extra: Any = None) -> dict[str, Any]:
    """The user's pipeline (tried first), every built-in preset and none, by name, unfitted.

    ``"none"`` (PLS on the spectra as read, mean-centered by PLS itself) is always a
    candidate: a preset's normalization can destroy the signal of additive mixtures
    (SNV divides every spectrum by its own spread, so an analyte band's intensity is read
    relative to the interferents').

    Whether each one runs on the spectra is learned in the ranking (:func:`auto_fit` fits
    each pipeline once on the training spectra before its CV and leaves, with a logged
    warning, any that refuses them), so nothing is fitted here.

    Parameters
    ----------
    train : Spectra, optional
        Unused; kept so callers may pass the training spectra.
    extra : pipeline spec, optional
        The user's ``--pipeline``, tried first; a malformed one is refused here.
    """
    from spectrakit.preprocessing import get_pipeline, list_presets

    out: dict[str, Any] = {}
    if extra is not None:
        out[str(extra)] = get_pipeline(extra).to_config()
    out.update({name: name for name in list_presets()})
    out["none"] = None
    return out
