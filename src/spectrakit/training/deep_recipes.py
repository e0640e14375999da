"""The registry of deep recipes that the automatic choice ranks, with one calling convention.

Every entry of :data:`DEEP_RECIPES` is fitted by :func:`fit_deep` on labelled training
spectra (plus, optionally, unlabeled spectra of a new instrument) and returns a
:class:`DeepFit`: its CV error on the training spectra (with the caller's folds, so it is
comparable with the PLS candidates), its out-of-fold predictions, a JSON-able ``info`` and
``predict(X, domain)``. Nothing here reads test data.

Built-in recipes:

``pls_net``
    A network that reads the latent scores of the CV-tuned PLS and starts as that PLS (step
    0 is PLS, so CV can always fall back to it); adapted to a new instrument by per-domain
    score standardization and a CORAL loss (:mod:`spectrakit.training.scorenet`). For
    classes it reads the scores of the CV-tuned PLS-DA and starts as that PLS-DA.
``pls_net_matched``
    The same, trained on the labelled spectra as the *new* instrument would have measured
    them: shift, broadening, response and baseline fitted from the unlabeled spectra of both
    instruments (:mod:`spectrakit.training.instrument`). Falls back to ``pls_net`` when that
    model does not explain the difference of the two mean spectra or is not stable on split
    halves of the spectra (:mod:`spectrakit.training.matching`; recorded in ``info``).
``pls_matched`` (kind ``pls``: a transfer method beside mean-centering, not a network)
    CV-tuned PLS trained on those simulated spectra, applied after instrument mean-centering.
``pls_net_interferents``
    ``pls_net`` on the standards augmented with the analyte-free variation of the unlabeled
    spectra (:mod:`spectrakit.training.auto_interferent`); needs target spectra.
``cnn``
    A small CNN on stacked preprocessing channels with the default augmentation, steps
    chosen by CV, a seed ensemble; AdaBN + CORAL with target spectra
    (:mod:`spectrakit.training.recipes`).
``cnn_pls``
    The same CNN learning the residual of the CV-tuned PLS (regression).
``cnn_dann``
    ``cnn`` adapted to the new instrument by DANN (a domain classifier behind a gradient
    reversal layer, :mod:`spectrakit.training.adapt`) instead of CORAL; needs target spectra.
``cnn_heads``
    ``cnn`` with its head chosen by CV: position-blind global average, 8 segments, or the
    flattened feature map (band positions kept).

Regression predictions are kept non-negative when every training target is (concentrations
cannot be negative); the CV error is computed after the same rule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from spectrakit.chemometrics import (
    PLSDA,
    InstrumentMeanCentering,
    PLSRegressor,
    SpectralEstimator,
    resolve_pipeline,
)
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.spectra import Spectra
from spectrakit.training.auto_candidate import transformed_values
from spectrakit.training.auto_interferent import fit_pls_net_interferents
from spectrakit.training.matching import simulate_target
from spectrakit.training.recipes import fit_recipe, get_recipe, recipe_facts
from spectrakit.training.scorenet import ScoreRecipe, fit_scorenet
from spectrakit.training.target_view import TargetView, target_view, view_error

__all__ = ["DEEP_RECIPES", "DeepFit", "RecipeEntry", "available", "fit_deep"]


@dataclass
class DeepFit:
    """A fitted deep recipe, scored by CV on the training spectra only.

    Attributes
    ----------
    name : str
    kind : str
        ``"deep"`` or ``"pls"``, with ``"+adaptation"`` when target spectra were used.
    cv_error : float
        CV RMSE (regression) or error rate (classification).
    cv_predictions : ndarray of shape (n,)
        Out-of-fold predictions (class labels for classification).
    target_error : float or None
        The CV error on the held-out training spectra as the new instrument measures them
        (:mod:`spectrakit.training.target_view`); ``None`` without a target view.
    info : dict
        JSON-able facts: chosen steps, recipe settings, adaptation details.
    seconds : float
    """

    name: str
    kind: str
    cv_error: float
    cv_predictions: np.ndarray
    model: Any
    info: dict = field(default_factory=dict)
    seconds: float = 0.0
    floor: float | None = None
    target_error: float | None = None
    target_oof: np.ndarray | None = None

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        """Predictions (n,) for spectra of the ``source`` or ``target`` instrument."""
        out = np.asarray(self.model.predict(X, domain))
        return out if self.floor is None else np.maximum(out, self.floor)


@dataclass(frozen=True)
class RecipeEntry:
    """One registered recipe: which tasks it serves and how it is fitted."""

    name: str
    tasks: tuple[str, ...]
    needs_target: bool
    fit: Callable[..., tuple[Any, float, np.ndarray, dict]]
    summary: str
    kind: str = "deep"


def pls_estimator(pipeline: Any, task: str = "regression", max_components: int = 15):
    """Unfitted PLS / PLS-DA with its preprocessing; LVs chosen by inner 5-fold CV."""
    if task == "regression":
        return SpectralEstimator(PLSRegressor(max_components=max_components, cv=5), pipeline)
    return SpectralEstimator(PLSDA(max_components=max_components, cv=5), pipeline)


# ---------------------------------------------------------------------- recipe fitters
class _Matched:
    """Predicts source spectra after simulating the target instrument on them."""

    def __init__(self, model: Any, response: Any) -> None:
        self.model, self.response = model, response

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        if domain == "source" and self.response is not None:
            X = X.with_values(self.response.transform(X.values).astype(np.float32))
        return self.model.predict(X, domain)


def _simulated(ctx: dict) -> tuple[Spectra, Any, dict]:
    """Training spectra as the target instrument would measure them (when reliable)."""
    view = ctx.get("view")
    return simulate_target(ctx["X"], ctx["y"], ctx["target"], ctx["pipeline"], pls_estimator,
                           seed=ctx["seed"],
                           response=None if view is None else view.response)  # fmt: skip


class _PLSDomains:
    def __init__(self, est: Any, centering: Any) -> None:
        self.est, self.centering = est, centering

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        if domain == "target":
            X = self.centering.transform(X)
        return np.asarray(self.est.predict(X)).ravel()


def _fit_pls_matched(ctx: dict):
    """CV-tuned PLS on simulated target-instrument spectra, then instrument mean-centering."""
    X, response, info = _simulated(ctx)
    y, pipe, view = ctx["y"], ctx["pipeline"], ctx.get("view")
    oof, voof = np.empty(len(y)), np.empty(len(y))
    for tr, va in ctx["folds"]:
        est = pls_estimator(pipe).fit(X.select(tr), y[tr])
        oof[va] = np.asarray(est.predict(X.select(va))).ravel()
        if view is not None:  # as the mean-centered new instrument, like the test spectra
            centering = InstrumentMeanCentering().fit(X.select(tr), view.select(tr))
            voof[va] = np.asarray(est.predict(centering.transform(view.select(va)))).ravel()
    ctx["view_oof"] = None if view is None else voof
    est = pls_estimator(pipe).fit(X, y)
    model = _PLSDomains(est, InstrumentMeanCentering().fit(X, ctx["target"]))
    info["n_lv"] = int(est.model_[-1].n_components_)
    return _Matched(model, response), float(np.sqrt(np.mean((oof - y) ** 2))), oof, info


def _fit_pls_net(ctx: dict, matched: bool = False):
    rec = ScoreRecipe(steps=(0, 100, 300), ensemble=2) if ctx["quick"] else ScoreRecipe()
    X, target, info, response = ctx["X"], ctx["target"], {}, None
    if matched:
        X, response, info = _simulated(ctx)
    view = ctx.get("view")
    m = fit_scorenet(pls_estimator(ctx["pipeline"], ctx["task"]), X, ctx["y"], recipe=rec,
                     target=target, folds=ctx["folds"], seed=ctx["seed"], task=ctx["task"],
                     view=None if view is None else view.spectra)  # fmt: skip
    ctx["view_oof"] = m.view_predictions
    info.update({"steps": m.steps, "n_lv": m.n_components, "recipe": rec.to_config()})
    return _Matched(m, response), min(m.cv_curve.values()), m.cv_predictions, info


class _CNN:
    def __init__(self, m: Any, pre: Any) -> None:
        self.m, self.pre = m, pre

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        return self.m.predict(transformed_values(self.pre, X), domain)


def _fit_cnn(ctx: dict, residual: bool = False, name: str = "cnn"):
    rec = get_recipe("cnn_pls" if residual else name)
    if ctx["quick"]:
        rec = replace(rec, steps=rec.steps[:2], ensemble=2)
    pre = resolve_pipeline(ctx["deep_input"])
    if pre is not None:
        pre.fit(ctx["X"])
    X, target = ctx["X"], ctx["target"]
    xin = pre.transform(X) if pre is not None else X
    xt = None if target is None else transformed_values(pre, target)
    base = _RawPLS(ctx["pipeline"], xin.axis) if residual else None
    m = fit_recipe(rec, xin.values, ctx["y"], task=ctx["task"], folds=ctx["folds"],
                   base=base, X_target=xt, seed=ctx["seed"])  # fmt: skip
    oof = m.cv_predictions
    if ctx["task"] == "classification":
        oof = m.classes[np.asarray(oof).argmax(axis=1)]
    info = {"steps": m.steps, "recipe": rec.to_config(), "adapted": m.adapted,
            **recipe_facts(m)}  # fmt: skip
    return _CNN(m, pre), min(m.cv_curve.values()), oof, info


class _RawPLS:
    """sklearn regressor on value arrays: the CV-tuned PLS with its preprocessing."""

    def __init__(self, pipeline: Any, axis: Any) -> None:
        self.pipeline, self.axis = pipeline, axis

    def get_params(self, deep: bool = True) -> dict:
        return {"pipeline": self.pipeline, "axis": self.axis}

    def set_params(self, **params: Any) -> _RawPLS:
        self.__dict__.update(params)
        return self

    def fit(self, X: np.ndarray, y: np.ndarray) -> _RawPLS:
        self.est_ = pls_estimator(self.pipeline).fit(Spectra(X, self.axis), y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.est_.predict(Spectra(X, self.axis))).ravel()


#: the registered recipes, by name.
def _fit_pls_net_interferents(ctx: dict) -> tuple:
    """``pls_net_interferents``: the interferent recipe with this module's PLS front end."""
    ctx["estimator"] = pls_estimator(None)
    return fit_pls_net_interferents(ctx)


DEEP_RECIPES: dict[str, RecipeEntry] = {
    "pls_net": RecipeEntry("pls_net", ("regression", "classification"), False, _fit_pls_net,
                           "network on PLS (PLS-DA) latent scores, starts as PLS (PLS-DA)"),
    "pls_net_matched": RecipeEntry(
        "pls_net_matched", ("regression",), True, lambda ctx: _fit_pls_net(ctx, matched=True),
        "pls_net trained on spectra simulated as the new instrument measures them"),
    "pls_matched": RecipeEntry(
        "pls_matched", ("regression",), True, _fit_pls_matched,
        "PLS on spectra simulated as the new instrument measures them (a transfer method)",
        kind="pls"),
    "pls_net_interferents": RecipeEntry(
        "pls_net_interferents", ("regression",), True, _fit_pls_net_interferents,
        "pls_net on standards augmented with the new spectra's analyte-free variation"),
    "cnn": RecipeEntry("cnn", ("regression", "classification"), False, _fit_cnn,
                       "small CNN on stacked channels with augmentation"),
    "cnn_pls": RecipeEntry("cnn_pls", ("regression",), False,
                           lambda ctx: _fit_cnn(ctx, residual=True),
                           "small CNN learning the PLS residual"),
    "cnn_dann": RecipeEntry("cnn_dann", ("regression", "classification"), True,
                            lambda ctx: _fit_cnn(ctx, name="cnn_dann"),
                            "small CNN adapted to the new instrument adversarially (DANN)"),
    "cnn_heads": RecipeEntry("cnn_heads", ("regression", "classification"), False,
                             lambda ctx: _fit_cnn(ctx, name="cnn_heads"),
                             "small CNN whose head (gap, pool or flatten) is chosen by CV"),
}  # fmt: skip


def available(task: str, has_target: bool, kind: str = "deep") -> list[str]:
    """Names of the ``kind`` recipes for ``task`` (those needing target spectra if given)."""
    return [
        n
        for n, e in DEEP_RECIPES.items()
        if task in e.tasks and e.kind == kind and (has_target or not e.needs_target)
    ]


def _entry(name: str, task: str, has_target: bool) -> RecipeEntry:
    """The registered recipe ``name``; refused when unknown, off-task or lacking target spectra."""
    entry = DEEP_RECIPES.get(name)
    if entry is None:
        raise ConfigError("unknown deep recipe", expected=", ".join(DEEP_RECIPES), got=repr(name))
    if task not in entry.tasks:
        raise ConfigError(f"recipe {name} does not serve this task", expected=str(entry.tasks),
                          got=task)  # fmt: skip
    if entry.needs_target and not has_target:
        raise DataError(f"recipe {name} needs unlabeled spectra of the new instrument",
                        fix="pass target=... (finetune --unlabeled NEW.csv)")  # fmt: skip
    return entry


def fit_deep(
    name: str,
    X: Spectra,
    y: np.ndarray,
    *,
    task: str = "regression",
    pipeline: Any,
    folds: list,
    target: Spectra | None = None,
    deep_input: Any = None,
    seed: int = 0,
    quick: bool = False,
    view: TargetView | None = None,
) -> DeepFit:
    """Fit the registered recipe ``name``; every choice inside by CV on ``X, y`` only.

    Parameters
    ----------
    name : str
        A key of :data:`DEEP_RECIPES`.
    X : Spectra
        Labelled training spectra.
    y : ndarray of shape (n,)
        Targets or class labels.
    task : {"regression", "classification"}
    pipeline : pipeline
        Preprocessing of the best PLS candidate (PLS-informed recipes use it).
    folds : list of (train, val) index arrays
        The CV folds shared with the other candidates.
    target : Spectra, optional
        Unlabeled spectra of the new instrument (same axis as ``X``).
    deep_input : pipeline, optional
        Crop/resampling before the CNN recipes (they stack their own channels).
    seed, quick
        The seed; shorter schedules and smaller ensembles.
    view : TargetView, optional
        Shared target view (else built from ``target``) scoring ``target_error``.

    Returns
    -------
    DeepFit
    """
    entry = _entry(name, task, target is not None)
    y = np.asarray(y, dtype=np.float64) if task == "regression" else np.asarray(y)
    t0 = time.perf_counter()
    view = target_view(X, target) if view is None else view
    ctx = {"X": X, "y": y, "task": task, "pipeline": pipeline, "folds": folds, "view": view,
           "target": target, "deep_input": deep_input, "seed": seed, "quick": quick}  # fmt: skip
    model, err, oof, info = entry.fit(ctx)
    voof = ctx.get("view_oof")
    floor = None
    if task == "regression" and float(np.min(y)) >= 0.0:
        floor = 0.0
        oof = np.maximum(oof, 0.0)
        err = float(np.sqrt(np.mean((oof - y) ** 2)))
        voof = None if voof is None else np.maximum(voof, 0.0)
    kind = entry.kind + ("+adaptation" if target is not None else "")
    t_err = None if voof is None else view_error(y, voof, task)
    return DeepFit(name, kind, float(err), oof, model, info, time.perf_counter() - t0, floor,
                   t_err, voof)  # fmt: skip
