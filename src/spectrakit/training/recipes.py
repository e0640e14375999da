"""Small-data deep recipes: every choice by cross-validation on the training spectra only.

A :class:`DeepRecipe` fixes what is not tuned (architecture, channels, optimiser, ensemble
size) and lists what is (the number of optimisation steps). :func:`fit_recipe`

1. runs K-fold CV on the training spectra (group-aware when ``groups`` are given): in every
   fold one network is trained and its held-out predictions are recorded at every candidate
   step count (one cosine schedule over the longest, the same as the final fit uses);
2. picks the step count with the lowest CV error (RMSE, or error rate for classes);
3. trains ``ensemble`` networks with different seeds on all training spectra for that many
   steps and averages them.

Options that make 20-400 labels enough: the default augmentation
(:func:`spectrakit.augment.defaults.default_augmentation`), stacked preprocessing channels
with point-wise autoscaling (:mod:`spectrakit.training.smallnet`), AdamW with weight decay, a
zero-initialized output (training starts at the mean, or at PLS), and ``pls_residual``: the
network learns what a PLS model (``base``) leaves, from out-of-fold PLS predictions, so its
start is PLS and weight decay pulls it back there. With unlabeled spectra of a new instrument
(``X_target``) the network is adapted by per-domain centering, AdaBN and a CORAL/MMD loss
(:mod:`spectrakit.training.adapt`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from sklearn.base import clone

from spectrakit.augment.defaults import default_augmentation
from spectrakit.core.errors import ConfigError, DataError
from spectrakit.models.smallnet import HEADS
from spectrakit.training.adapt import ALIGNMENTS, FeatureAligner, target_batchnorm
from spectrakit.training.folds import cv_folds
from spectrakit.training.screening import OutlierScreen, check_screen, pls_factory, screen_cv
from spectrakit.training.smallnet import SpectralNet

__all__ = [
    "RECIPES",
    "DeepModel",
    "DeepRecipe",
    "cv_folds",
    "fit_recipe",
    "get_recipe",
    "recipe_facts",
]


@dataclass(frozen=True)
class DeepRecipe:
    """What a small-data network is and how it trains.

    Parameters
    ----------
    name : str
    channels : tuple of str
        Stacked input channels (see :data:`spectrakit.training.smallnet.CHANNELS`).
    width : int
        CNN width (filters of the first layer).
    lr, weight_decay : float
        AdamW settings; cosine decay to 5 % over the longest candidate.
    batch_size : int
    steps : tuple of int
        Candidate optimisation step counts, chosen by CV.
    ensemble : int
        Networks averaged in the final model (different seeds).
    augment : float
        Strength of the default augmentation (0: off).
    pls_residual : bool
        Learn the residual of the ``base`` model (regression).
    align : {"coral", "mmd", "dann"} or None
        Feature-alignment loss used when unlabeled target spectra are given (``dann``: a
        domain classifier behind a gradient reversal layer, see
        :class:`~spectrakit.training.adapt.FeatureAligner`).
    align_weight : float
    screen : float, "cv" or None
        Hotelling T2/Q outlier screening of the training spectra
        (:mod:`spectrakit.training.screening`), fitted in every CV fold on that fold's
        training rows and on all of them for the final fit: a confidence such as 0.99,
        ``"cv"`` (off or 0.99/0.975/0.95, chosen by CV of the PLS model) or None (off).
    heads : tuple of {"gap", "pool", "flatten"}
        Candidate :class:`~spectrakit.models.smallnet.SmallCNN` heads, chosen by CV with
        the step count (``gap`` is blind to band positions; ``flatten`` keeps them all).
    class_heads : tuple of {"gap", "pool", "flatten"} or None
        The candidate heads for classification (None: ``heads``). Classes that differ by
        where a narrow band sits need ``flatten``: ``pool`` averages some 90 points into one
        feature, and with a few labels per class the network then memorizes the spectra
        (training accuracy 1, test accuracy at chance on the Raman classes).
    """

    name: str
    channels: tuple[str, ...] = ("raw", "snv", "d1", "d2")
    width: int = 8
    lr: float = 3e-3
    weight_decay: float = 1e-2
    batch_size: int = 32
    steps: tuple[int, ...] = (150, 300, 600)
    ensemble: int = 3
    augment: float = 1.0
    pls_residual: bool = False
    align: str | None = "coral"
    align_weight: float = 1.0
    screen: float | str | None = None
    heads: tuple[str, ...] = ("pool",)
    class_heads: tuple[str, ...] | None = ("flatten",)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.steps or min(self.steps) < 1 or self.ensemble < 1 or self.batch_size < 2:
            raise ConfigError(
                "recipe needs positive steps, ensemble >= 1 and batch_size >= 2",
                got=f"steps={self.steps}, ensemble={self.ensemble}, batch={self.batch_size}",
            )
        if self.align is not None and self.align not in ALIGNMENTS:
            raise ConfigError("unknown alignment", expected=str(ALIGNMENTS), got=repr(self.align))
        object.__setattr__(self, "screen", check_screen(self.screen))
        object.__setattr__(self, "heads", _heads(self.heads))
        if self.class_heads is not None:
            object.__setattr__(self, "class_heads", _heads(self.class_heads))

    def to_config(self) -> dict[str, Any]:
        """JSON-able description (recorded in bundles and reports)."""
        out = asdict(self)
        out.pop("extra")
        return out


def _heads(heads: str | tuple[str, ...]) -> tuple[str, ...]:
    """Candidate heads as a tuple; unknown names refused."""
    heads = (heads,) if isinstance(heads, str) else tuple(heads)
    if not heads or any(h not in HEADS for h in heads):
        raise ConfigError("unknown CNN head", expected=", ".join(HEADS), got=repr(heads))
    return heads


#: the built-in recipes (``cnn``: stacked channels + augmentation; ``cnn_pls``: the same
#: network learning the PLS residual; ``cnn_dann``: ``cnn`` adapted adversarially (DANN)
#: instead of by CORAL when target spectra are given; ``cnn_heads``: ``cnn`` with the head
#: that keeps band positions (flatten), coarse positions (pool) or none (gap) chosen by CV).
RECIPES: dict[str, DeepRecipe] = {
    "cnn": DeepRecipe("cnn"),
    "cnn_pls": DeepRecipe("cnn_pls", pls_residual=True, lr=2e-3, weight_decay=5e-2),
    "cnn_dann": DeepRecipe("cnn_dann", align="dann", align_weight=0.3),
    "cnn_heads": DeepRecipe("cnn_heads", heads=("pool", "flatten", "gap"), class_heads=None),
}


def get_recipe(name: str) -> DeepRecipe:
    """A built-in recipe by name."""
    if name not in RECIPES:
        raise ConfigError("unknown deep recipe", expected=", ".join(RECIPES), got=repr(name))
    return RECIPES[name]


# ---------------------------------------------------------------------- one network
@dataclass
class _Data:
    X: torch.Tensor
    Y: torch.Tensor  # regression: (n, 1) standardized (residual) target; classes: one-hot
    X_target: torch.Tensor | None


#: learning-rate multiple of the DANN domain classifier (a strong adversary)
_ADVERSARY_LR = 10.0


def _lr_at(step: int, total: int) -> float:
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step, total) / total))


def _loss(out: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    if task == "regression":
        return torch.nn.functional.mse_loss(out, target)
    return -(target * torch.log_softmax(out, dim=1)).sum(dim=1).mean()


def _batch(n: int, size: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randint(0, n, (min(size, max(n, 2)),), generator=gen)


def _train_one(
    recipe: DeepRecipe, data: _Data, task: str, seed: int, checkpoints, on_checkpoint, log=None
) -> SpectralNet:
    """Train one network for ``max(checkpoints)`` steps; call ``on_checkpoint(step, net)``.

    ``log`` (a dict), when given, receives ``domain_accuracy``: the DANN domain classifier's
    accuracy per batch.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n_out = data.Y.shape[1]
    net = SpectralNet(recipe.channels, data.X.shape[1], n_out, recipe.width, recipe.heads[0])
    tgt = data.X_target.numpy() if data.X_target is not None else None
    net.stack.fit(data.X.numpy(), tgt)
    aug = None
    if recipe.augment > 0:
        aug = default_augmentation(
            data.X.numpy(), task=task, n_classes=n_out, strength=recipe.augment, seed=seed
        )
    adapt = data.X_target is not None and recipe.align is not None
    aligner = FeatureAligner(recipe.align, net.net.head.in_features) if adapt else None
    groups = [{"params": list(net.parameters()), "scale": 1.0}]
    if adapt and any(True for _ in aligner.parameters()):
        groups.append({"params": list(aligner.parameters()), "scale": _ADVERSARY_LR})
    opt = torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=recipe.weight_decay)
    total = max(checkpoints)
    for step in range(1, total + 1):
        for g in opt.param_groups:
            g["lr"] = recipe.lr * g["scale"] * _lr_at(step, total)
        net.train()
        rows = _batch(len(data.X), recipe.batch_size, gen)
        x, y = data.X[rows], data.Y[rows]
        if aug is not None:
            x, y = aug(x[:, None, :], y, generator=gen)
            x = x[:, 0]
        feats = net.features(x, 0)
        loss = _loss(net.net.head(feats), y, task)
        if adapt:
            xt = data.X_target[_batch(len(data.X_target), recipe.batch_size, gen)]
            ft = net.features(xt, 1)
            loss = loss + recipe.align_weight * aligner(feats, ft, (step - 1) / total)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in checkpoints:
            # the target batches moved the shared batch-norm statistics: re-estimate the
            # training instrument's on its own spectra before predicting it
            on_checkpoint(step, target_batchnorm(net, data.X, domain=0) if adapt else net)
    if log is not None and aligner is not None and aligner.history:
        log.setdefault("domain_accuracy", []).append(aligner.history)
    return target_batchnorm(net, data.X, domain=0) if adapt else net


@torch.no_grad()
def _predict_net(net: SpectralNet, X: torch.Tensor, domain: int = 0) -> np.ndarray:
    net.eval()
    return net(X, domain).numpy().astype(np.float64)


# ---------------------------------------------------------------------- the model
@dataclass
class DeepModel:
    """A fitted recipe: an ensemble of networks (plus the PLS base for residual recipes).

    Attributes
    ----------
    recipe : DeepRecipe
    task : str
    steps : int
        Step count chosen by CV.
    cv_curve : dict of int to float
        CV error (RMSE or error rate) at every candidate step count.
    cv_predictions : ndarray
        Out-of-fold predictions at the chosen step (regression: (n,); classes: (n, K)).
    classes : ndarray or None
    adapted : bool
        Whether target batch-norm statistics and centering were fitted.
    adaptation : dict
        With ``align="dann"``: ``domain_accuracy``, the domain classifier's mean accuracy
        over the last fifth of training of every member (0.5 is chance).
    screening : dict
        The T2/Q screening: ``confidence`` (None: off), with ``screen="cv"`` the CV error
        and dropped share per candidate, and ``dropped``, the training rows left out of
        the final fit.
    head : str
        The :class:`~spectrakit.models.smallnet.SmallCNN` head chosen by CV.
    head_errors : dict of str to float
        Best CV error of every candidate head.
    """

    recipe: DeepRecipe
    task: str
    steps: int
    cv_curve: dict[int, float]
    cv_predictions: np.ndarray
    members: list[SpectralNet]
    target_members: list[SpectralNet] | None
    y_mean: float
    y_scale: float
    classes: np.ndarray | None
    base: Any = None
    transfer: Any = None
    adaptation: dict = field(default_factory=dict)
    screening: dict = field(default_factory=dict)
    head: str = "pool"
    head_errors: dict = field(default_factory=dict)

    @property
    def adapted(self) -> bool:
        """Whether the networks were adapted to a target instrument."""
        return self.target_members is not None

    def _raw(self, X: np.ndarray, domain: str) -> np.ndarray:
        if domain not in ("source", "target"):
            raise ConfigError("unknown domain", expected="'source' or 'target'", got=domain)
        nets = self.target_members if domain == "target" and self.adapted else self.members
        x = torch.from_numpy(np.require(X, dtype=np.float32, requirements=["C", "W"]))
        d = 1 if domain == "target" and self.adapted else 0
        return np.mean([_predict_net(net, x, d) for net in nets], axis=0)

    def predict(self, X: np.ndarray, domain: str = "source") -> np.ndarray:
        """Predictions for spectra (n, L) measured on the ``source`` or ``target`` instrument.

        Returns
        -------
        ndarray of shape (n,)
            Concentrations, or class labels.
        """
        out = self._raw(X, domain)
        if self.task == "classification":
            return self.classes[out.argmax(axis=1)]
        pred = out[:, 0] * self.y_scale
        if self.base is not None:
            return pred + _base_predict(self, X, domain)
        return pred + self.y_mean

    def predict_proba(self, X: np.ndarray, domain: str = "source") -> np.ndarray:
        """Class probabilities (n, K)."""
        if self.task != "classification":
            raise ConfigError("predict_proba is for classification models", got=self.task)
        out = self._raw(X, domain)
        e = np.exp(out - out.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def _base_predict(model: DeepModel, X: np.ndarray, domain: str) -> np.ndarray:
    if domain == "target" and model.transfer is not None:
        X = model.transfer(X)
    return np.asarray(model.base.predict(X), dtype=np.float64).ravel()


# ---------------------------------------------------------------------- fitting
def _encode(y: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    if task == "regression":
        return np.asarray(y, dtype=np.float64).reshape(-1, 1), None
    classes, codes = np.unique(np.asarray(y), return_inverse=True)
    if len(classes) < 2:
        raise DataError("classification needs at least two classes", got=str(list(classes)))
    return np.eye(len(classes))[codes], classes


def _oof_base(base: Any, X: np.ndarray, y: np.ndarray, folds, transfer=None) -> np.ndarray:
    """Out-of-fold predictions of ``base`` (refit in every fold)."""
    out = np.empty(len(y))
    for tr, va in folds:
        out[va] = np.asarray(clone(base).fit(X[tr], y[tr]).predict(X[va])).ravel()
    return out


def _cv_error(pred: np.ndarray, Y: np.ndarray, task: str) -> float:
    if task == "regression":
        return float(np.sqrt(np.mean((pred - Y[:, 0]) ** 2)))
    return float(np.mean(pred.argmax(axis=1) != Y.argmax(axis=1)))


def _prepare(
    recipe, X, y, task, base, folds, seed
) -> tuple[np.ndarray, float, float, np.ndarray | None, Any]:
    """Network targets: standardized y, or standardized residual of out-of-fold base."""
    Y, classes = _encode(y, task)
    if task == "classification":
        return Y, 0.0, 1.0, classes, None
    yv = Y[:, 0]
    scale = float(yv.std()) or 1.0
    if recipe.pls_residual:
        if base is None:
            raise ConfigError("recipe learns a PLS residual but no base model was given")
        inner = cv_folds(len(yv), k=5, seed=seed + 1)
        resid = yv - _oof_base(base, X, yv, inner)
        return (resid / scale)[:, None], 0.0, scale, None, base
    return ((yv - yv.mean()) / scale)[:, None], float(yv.mean()), scale, None, None


def _screened(rows: np.ndarray, X: np.ndarray, y: np.ndarray, conf, task: str) -> np.ndarray:
    """``rows`` without the T2/Q outliers of a screen fitted on them (no class emptied)."""
    if conf is None:
        return rows
    out = OutlierScreen(conf).fit(X[rows]).outliers_
    if task == "classification":
        labels = y[rows]
        for c in np.unique(labels):
            if np.sum((labels == c) & ~out) < 2:
                out[labels == c] = False  # too few spectra of a class to drop any
    return rows[~out]


def _choose_screen(recipe, X, y, task, folds, base) -> tuple[float | None, dict]:
    """The recipe's screening confidence: fixed, or chosen by CV of a PLS model."""
    conf = check_screen(recipe.screen)
    if conf != "cv":
        return conf, {"confidence": conf}
    use_base = task == "regression" and base is not None
    model = (lambda: clone(base)) if use_base else pls_factory(task)
    choice = screen_cv(model, X, y, folds, task=task)
    return choice.confidence, choice.to_config()


def _cv_curve(recipe, X, y, task, folds, base, X_target, seed, screen=None):
    """Out-of-fold predictions per candidate step count, in the original units."""
    checkpoints = set(recipe.steps)
    n_out = 1 if task == "regression" else len(np.unique(y))
    oof = {s: np.zeros((len(X), n_out)) for s in checkpoints}
    for f, (tr, va) in enumerate(folds):
        tr = _screened(tr, X, y, screen, task)  # the held-out rows never enter the screen
        Yt, mean, scale, _, fold_base = _prepare(recipe, X[tr], y[tr], task, base, folds, seed)
        offset = mean
        if fold_base is not None:
            offset = np.asarray(clone(fold_base).fit(X[tr], y[tr]).predict(X[va])).ravel()
        data = _Data(torch.as_tensor(X[tr]), torch.as_tensor(Yt, dtype=torch.float32), X_target)
        x_va = torch.as_tensor(X[va])

        def record(step, net, va=va, x_va=x_va, offset=offset, scale=scale):
            out = _predict_net(net, x_va)
            if task == "regression":
                out = out * scale + np.reshape(offset, (-1, 1))
            oof[step][va] = out

        _train_one(recipe, data, task, seed + 1000 * (f + 1), checkpoints, record)
    return oof


def fit_recipe(
    recipe: DeepRecipe | str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str = "regression",
    groups: np.ndarray | None = None,
    folds: list | None = None,
    base: Any = None,
    X_target: np.ndarray | None = None,
    transfer: Callable[[np.ndarray], np.ndarray] | None = None,
    seed: int = 0,
) -> DeepModel:
    """Fit a recipe with its step count chosen by CV on ``X, y`` only.

    Parameters
    ----------
    recipe : DeepRecipe or str
    X : ndarray of shape (n, L)
        Training spectra (after the recipe's input crop/resampling, before channels).
    y : ndarray of shape (n,)
        Targets (regression) or labels.
    task : {"regression", "classification"}
    groups : ndarray of shape (n,), optional
        Replicate groups for group-aware folds.
    folds : list of (train, val) index arrays, optional
        Use these folds (the same as other candidates, for a fair comparison).
    base : sklearn regressor on (n, L), optional
        The PLS model whose residual a ``pls_residual`` recipe learns.
    X_target : ndarray of shape (m, L), optional
        Unlabeled spectra of the new instrument: the networks are adapted to it.
    transfer : callable, optional
        Maps target spectra for the ``base`` model (e.g. instrument mean-centering).
    seed : int

    Returns
    -------
    DeepModel
    """
    recipe, X, y = _checked(recipe, X, y, task)
    if folds is None:  # grouped, or stratified by class
        codes = np.unique(y, return_inverse=True)[1] if task == "classification" else None
        folds = cv_folds(len(X), y=codes, groups=groups, seed=seed)
    xt = None if X_target is None else torch.tensor(np.array(X_target, dtype=np.float32))
    screen, screening = _choose_screen(recipe, X, y, task, folds, base)
    head, oof, curves = _best_head(recipe, X, y, task, folds, base, xt, seed, screen)
    model = _final(replace(recipe, heads=(head,)), X, y, task, oof, curves[head], base,
                   xt, transfer, seed, screen)  # fmt: skip
    model.recipe = recipe
    model.head_errors = {h: min(c.values()) for h, c in curves.items()}
    model.screening = {**screening, "dropped": model.screening["dropped"]}
    return model


def _checked(recipe: DeepRecipe | str, X: np.ndarray, y: np.ndarray, task: str):
    """The recipe (classes: no PLS residual, the class heads), ``X`` as float32 and ``y``."""
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or len(X) != len(y):
        raise DataError("one target per spectrum", expected=f"{len(X)}", got=f"{len(y)}")
    if task not in ("regression", "classification"):
        raise ConfigError("unknown task", expected="regression or classification", got=task)
    if task == "classification":
        recipe = replace(recipe, pls_residual=False, heads=recipe.class_heads or recipe.heads)
    return recipe, X, y


def _best_head(recipe, X, y, task, folds, base, xt, seed, screen):
    """The CV-best head (ties: the first), its out-of-fold outputs and every head's curve."""
    Y_all, _ = _encode(y, task)
    oofs, curves = {}, {}
    for head in recipe.heads:
        one = replace(recipe, heads=(head,))
        oofs[head] = _cv_curve(one, X, y, task, folds, base, xt, seed, screen)
        curves[head] = _errors(oofs[head], Y_all, task)
    head = min(recipe.heads, key=lambda h: min(curves[h].values()))
    return head, oofs[head], curves


def _errors(oof: dict, Y: np.ndarray, task: str) -> dict[int, float]:
    """CV error per candidate step count."""
    return {s: _cv_error(oof[s] if task != "regression" else oof[s][:, 0], Y, task)
            for s in sorted(oof)}  # fmt: skip


def _final(recipe, X, y, task, oof, curve, base, xt, transfer, seed, screen) -> DeepModel:
    """Pick the CV-best step count; train the ensemble on the kept training spectra."""
    n = len(X)
    steps = min(curve, key=lambda s: (curve[s], s))
    cv_pred = oof[steps][:, 0] if task == "regression" else oof[steps]
    keep = _screened(np.arange(len(X)), X, y, screen, task)
    X, y = X[keep], y[keep]
    Yt, mean, scale, classes, fitted_base = _prepare(recipe, X, y, task, base, None, seed)
    data = _Data(torch.tensor(X), torch.tensor(Yt, dtype=torch.float32), xt)
    log: dict = {}
    members = [
        _train_one(recipe, data, task, seed + 7919 * (k + 1), {steps}, lambda s, n: None, log)
        for k in range(recipe.ensemble)
    ]
    target = None if xt is None else [target_batchnorm(m, xt) for m in members]
    if fitted_base is not None:
        fitted_base = clone(fitted_base).fit(X, y)
    dropped = np.setdiff1d(np.arange(n), keep).tolist()
    return DeepModel(
        recipe, task, int(steps), curve, cv_pred, members, target, mean, scale, classes,
        fitted_base, transfer, _adaptation(log), {"dropped": dropped}, recipe.heads[0],
    )  # fmt: skip


def _adaptation(log: dict) -> dict:
    """Mean domain-classifier accuracy over the last fifth of every member's training."""
    runs = log.get("domain_accuracy")
    if not runs:
        return {}
    return {"domain_accuracy": [float(np.mean(r[-max(len(r) // 5, 1) :])) for r in runs]}


def recipe_facts(model: DeepModel) -> dict[str, Any]:
    """Scalar facts of a fitted recipe for a bundle's record and card.

    ``head`` (the CNN head chosen by CV), ``align`` (the alignment loss, when adapted),
    ``domain_accuracy`` (DANN: the domain classifier's final accuracy, mean of the
    members), ``screen`` (the setting),
    ``screen_confidence`` (the confidence used; "off" when none) and ``screen_dropped``
    (training spectra left out of the final fit).
    """
    out: dict[str, Any] = {"head": model.head}
    if model.adapted and model.recipe.align is not None:
        out["align"] = model.recipe.align
    if model.adaptation.get("domain_accuracy"):
        out["domain_accuracy"] = float(np.mean(model.adaptation["domain_accuracy"]))
    if model.recipe.screen is not None:
        conf = model.screening.get("confidence")
        out["screen"] = str(model.recipe.screen)
        out["screen_confidence"] = "off" if conf is None else float(conf)
        out["screen_dropped"] = len(model.screening.get("dropped", []))
    return out
