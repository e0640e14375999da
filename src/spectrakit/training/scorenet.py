"""A network that starts from PLS: it reads PLS latent scores and begins as the PLS model.

With 20-400 labels a network that reads whole spectra has to find a 1 % analyte signal
under 10 % of scatter by gradient descent, which is badly conditioned; PLS finds that
direction exactly. :class:`ScoreNet` therefore takes the latent scores of a CV-tuned PLS
model (its preprocessing included), standardizes them per domain, and predicts
``linear(t) + mlp(t)``: the linear part is initialized to the PLS regression (so step 0 *is*
PLS), the MLP output to zero. Training (AdamW, weight decay, mixup of score/target pairs and
score noise) adds the non-linear part; the number of steps, 0 included, is chosen by CV on
the training spectra, so on CV the network is never worse than its PLS start.

For classes the same network reads the scores of a CV-tuned PLS-DA and predicts one response
per class (trained, like PLS-DA, on one-hot targets with a squared loss; the largest response
wins), so step 0 *is* PLS-DA and the CV error is the error rate.

Unlabeled spectra of a new instrument adapt it: their scores are standardized with their
own mean and SD (the per-domain batch-norm idea of AdaBN on the latent space) and a CORAL
loss aligns the hidden features of both domains during training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.base import clone
from torch import nn

from spectrakit.core.errors import ConfigError, DataError
from spectrakit.core.spectra import Spectra
from spectrakit.training.adapt import alignment_loss
from spectrakit.training.folds import cv_folds
from spectrakit.training.recipes import _lr_at

__all__ = ["ScoreNet", "ScoreNetModel", "ScoreRecipe", "fit_scorenet"]


@dataclass(frozen=True)
class ScoreRecipe:
    """Settings of a :class:`ScoreNet` fit (steps chosen by CV; 0 = the PLS model itself).

    ``linear_lr`` scales the learning rate of the PLS-initialized linear part (a small value
    keeps what PLS found while the MLP learns the rest); ``adapt_scale`` also rescales the
    target scores to unit SD (off by default: it assumes equal target spreads).
    """

    name: str = "pls_net"
    hidden: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-3
    batch_size: int = 32
    steps: tuple[int, ...] = (0, 100, 300, 1000)
    ensemble: int = 3
    noise: float = 0.05
    mixup: float = 0.5
    align: str | None = "coral"
    align_weight: float = 0.3
    adapt_scale: bool = False
    linear_lr: float = 0.02
    extra: dict = field(default_factory=dict, compare=False)

    def to_config(self) -> dict:
        """JSON-able description."""
        return {k: v for k, v in self.__dict__.items() if k != "extra"}


class ScoreNet(nn.Module):
    """Standardized PLS scores (B, A) -> prediction (B,) (or (B, K) responses for K classes).

    ``coef`` is (A,) for one output or (A, K) for K, ``intercept`` a float or (K,); the
    network starts as that linear model.
    """

    def __init__(self, coef: np.ndarray, intercept, hidden: int, y_sd: float = 1.0):
        super().__init__()
        coef = np.asarray(coef, dtype=np.float64)
        coef = coef[:, None] if coef.ndim == 1 else coef
        a, k = coef.shape
        self.register_buffer("y_sd", torch.tensor(float(y_sd)))
        coef, intercept = coef / y_sd, np.ravel(intercept) / y_sd
        self.linear = nn.Linear(a, k)
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(coef.T, dtype=torch.float32))
            self.linear.bias.copy_(torch.as_tensor(intercept, dtype=torch.float32))
        self.body = nn.Sequential(nn.Linear(a, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        self.act = nn.GELU()
        self.out = nn.Linear(hidden, k)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def features(self, t: torch.Tensor) -> torch.Tensor:
        """Penultimate features (B, D)."""
        return self.act(self.body(t))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Predictions (B,) for one output, responses (B, K) for K."""
        out = (self.linear(t) + self.out(self.features(t))) * self.y_sd
        return out[:, 0] if out.shape[1] == 1 else out


def latent_scores(fitted, X: Spectra) -> np.ndarray:
    """PLS latent scores (n, A) of a fitted ``SpectralEstimator`` (its preprocessing applied)."""
    model = getattr(fitted, "model_", None)
    if model is None:
        return np.asarray(fitted.transform(X), dtype=np.float64)
    features = model[:-1].transform(X) if len(model) > 1 else X
    if isinstance(features, Spectra):
        features = features.values
    return np.asarray(model[-1].transform(features), dtype=np.float64)


@dataclass
class _Scores:
    """A fitted PLS and its per-domain score standardization."""

    pls: object
    mean: np.ndarray  # (2, A): source, target
    sd: np.ndarray  # (2, A)

    def standardized(self, X: Spectra, domain: int) -> torch.Tensor:
        t = latent_scores(self.pls, X)
        return torch.as_tensor((t - self.mean[domain]) / self.sd[domain], dtype=torch.float32)


def _fit_scores(pls, X: Spectra, y: np.ndarray, target: Spectra | None, scale: bool) -> _Scores:
    fitted = clone(pls).fit(X, y)
    t = latent_scores(fitted, X)
    mean, sd = t.mean(axis=0), t.std(axis=0) + 1e-12
    means, sds = np.stack([mean, mean]), np.stack([sd, sd])
    if target is not None:
        tt = latent_scores(fitted, target)
        means[1] = tt.mean(axis=0)
        if scale:
            sds[1] = tt.std(axis=0) + 1e-12
    return _Scores(fitted, means, sds)


def _view_scores(sc: _Scores, view: Spectra, tr: np.ndarray, va: np.ndarray) -> torch.Tensor:
    """Standardized scores of the view's rows ``va``, centred on the view of rows ``tr``."""
    t = latent_scores(sc.pls, view)
    t = (t[va] - t[tr].mean(axis=0)) / sc.sd[1]
    return torch.as_tensor(t, dtype=torch.float32)


def _start(sc: _Scores, X: Spectra, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares linear map from standardized scores to y (n,) or Y (n, K): PLS in-sample."""
    T = sc.standardized(X, 0).numpy().astype(np.float64)
    A = np.column_stack([T, np.ones(len(T))])
    sol = np.linalg.lstsq(A, y, rcond=None)[0]
    return sol[:-1], sol[-1]


def _train(rec: ScoreRecipe, sc: _Scores, X, y, target, seed: int, checkpoints, record):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    coef, icpt = _start(sc, X, y)
    y_sd = (float(np.std(y)) or 1.0) if y.ndim == 1 else 1.0
    net = ScoreNet(coef, icpt, rec.hidden, y_sd)
    if 0 in checkpoints:
        record(0, net)
    total = max(checkpoints)
    T = sc.standardized(X, 0)
    Y = torch.tensor(np.array(y, dtype=np.float32))
    Tt = None if target is None or rec.align is None else sc.standardized(target, 1)
    groups = [
        {"params": net.linear.parameters(), "scale": rec.linear_lr, "weight_decay": 0.0},
        {"params": [*net.body.parameters(), *net.out.parameters()], "scale": 1.0},
    ]
    opt = torch.optim.AdamW(groups, lr=rec.lr, weight_decay=rec.weight_decay)
    for step in range(1, total + 1):
        for g in opt.param_groups:
            g["lr"] = rec.lr * g["scale"] * _lr_at(step, total)
        rows = torch.randint(0, len(T), (min(rec.batch_size, len(T)),), generator=gen)
        t, yy = T[rows], Y[rows]
        if rec.mixup > 0:
            lam = torch.rand(len(rows), generator=gen)[:, None]
            perm = torch.randperm(len(rows), generator=gen)
            mix = torch.rand(len(rows), generator=gen)[:, None] < rec.mixup
            lam = torch.where(mix, lam, torch.ones_like(lam))
            ly = lam[:, 0] if yy.ndim == 1 else lam
            t, yy = lam * t + (1 - lam) * t[perm], ly * yy + (1 - ly) * yy[perm]
        t = t + rec.noise * torch.randn(t.shape, generator=gen)
        loss = nn.functional.mse_loss(net(t), yy) / y_sd**2
        if Tt is not None:
            tt = Tt[torch.randint(0, len(Tt), (min(rec.batch_size, len(Tt)),), generator=gen)]
            loss = loss + rec.align_weight * alignment_loss(
                rec.align, net.features(t), net.features(tt)
            )
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in checkpoints:
            record(step, net)
    return net


@dataclass
class ScoreNetModel:
    """A fitted :class:`ScoreNet` ensemble with its PLS front end."""

    recipe: ScoreRecipe
    steps: int
    cv_curve: dict[int, float]
    cv_predictions: np.ndarray
    scores: _Scores
    members: list[ScoreNet]
    adapted: bool
    task: str = "regression"
    classes: np.ndarray | None = None
    view_predictions: np.ndarray | None = None

    @torch.no_grad()
    def responses(self, X: Spectra, domain: str = "source") -> np.ndarray:
        """Ensemble-mean outputs: (n,) for regression, (n, K) class responses."""
        if domain not in ("source", "target"):
            raise ConfigError("unknown domain", expected="'source' or 'target'", got=domain)
        t = self.scores.standardized(X, 1 if domain == "target" and self.adapted else 0)
        return np.mean([m.eval()(t).numpy() for m in self.members], axis=0).astype(np.float64)

    def predict(self, X: Spectra, domain: str = "source") -> np.ndarray:
        """Predictions (n,) (class labels for classification) for ``source``/``target`` spectra."""
        out = self.responses(X, domain)
        return out if self.classes is None else self.classes[out.argmax(axis=1)]

    @property
    def n_components(self) -> int:
        """Number of PLS latent variables read."""
        return int(self.scores.mean.shape[1])


def _cv_outputs(pls, rec: ScoreRecipe, X: Spectra, labels, Y, target, folds, seed, view):
    """Out-of-fold outputs per checkpoint step, of the training spectra and of the view."""
    checkpoints = set(rec.steps)
    oof = {s: np.zeros(Y.shape) for s in checkpoints}
    voof = {s: np.zeros(Y.shape) for s in checkpoints}
    for f, (tr, va) in enumerate(folds):
        sc = _fit_scores(pls, X.select(tr), labels[tr], target, rec.adapt_scale)
        t_va = sc.standardized(X.select(va), 0)
        v_va = None if view is None else _view_scores(sc, view, tr, va)

        def record(step, net, va=va, t_va=t_va, v_va=v_va):
            with torch.no_grad():
                oof[step][va] = net.eval()(t_va).numpy()
                if v_va is not None:
                    voof[step][va] = net(v_va).numpy()
            net.train()

        _train(rec, sc, X.select(tr), Y[tr], target, seed + 101 * (f + 1), checkpoints, record)
    return oof, voof


def fit_scorenet(
    pls,
    X: Spectra,
    y: np.ndarray,
    *,
    recipe: ScoreRecipe | None = None,
    target: Spectra | None = None,
    folds: list | None = None,
    groups: np.ndarray | None = None,
    seed: int = 0,
    task: str = "regression",
    view: Spectra | None = None,
) -> ScoreNetModel:
    """Fit a PLS-started network; steps (0 = PLS) chosen by CV on ``X, y`` only.

    Parameters
    ----------
    pls : estimator
        Unfitted PLS with its preprocessing (e.g. ``SpectralEstimator(PLSRegressor(), pipe)``;
        a PLS-DA for classification) exposing ``transform`` (latent scores); refit in every
        fold.
    X : Spectra
        Labelled training spectra.
    y : ndarray of shape (n,)
        Targets, or class labels for classification.
    recipe : ScoreRecipe, optional
    target : Spectra, optional
        Unlabeled spectra of the new instrument (same axis as ``X``).
    folds, groups, seed
        CV folds (or replicate groups to build them) and the seed.
    task : {"regression", "classification"}
        Classification trains one response per class on one-hot targets; the CV error is
        the error rate and ``predict`` returns labels.
    view : Spectra, optional
        The training spectra as the new instrument measures them (row ``i`` from spectrum
        ``i``): every fold's network also predicts its held-out rows of it as target
        spectra (centred on the mean scores of the fold's training rows of the view, as
        the new instrument's are on theirs), kept at the chosen step as ``view_predictions`` (n,).

    Returns
    -------
    ScoreNetModel
    """
    rec = recipe or ScoreRecipe()
    labels, Y, classes = _targets(y, task, X.n_spectra)
    codes = None if classes is None else Y.argmax(axis=1)
    folds = folds if folds is not None else cv_folds(len(Y), groups=groups, y=codes, seed=seed)
    oof, voof = _cv_outputs(pls, rec, X, labels, Y, target, folds, seed, view)
    curve = {s: _cv_error(oof[s], Y, classes) for s in sorted(oof)}
    best = min(curve, key=lambda s: (curve[s], s))
    sc = _fit_scores(pls, X, labels, target, rec.adapt_scale)
    members = [
        _train(rec, sc, X, Y, target, seed + 7919 * (k + 1), {best}, lambda s, n: None)
        for k in range(rec.ensemble if best > 0 else 1)
    ]
    cv_pred, v_pred = (o if classes is None else classes[o.argmax(axis=1)]
                       for o in (oof[best], voof[best]))  # fmt: skip
    return ScoreNetModel(rec, best, curve, cv_pred, sc, members, target is not None, task, classes,
                         None if view is None else v_pred)  # fmt: skip


def _targets(y, task: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Labels for the PLS front end, the network's targets ((n,) or one-hot (n, K)), classes."""
    if task not in ("regression", "classification"):
        raise ConfigError("unknown task", expected="regression or classification", got=task)
    y = np.asarray(y, dtype=np.float64).ravel() if task == "regression" else np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise DataError("one target per spectrum", expected=str(n), got=str(y.shape))
    if task == "regression":
        return y, y, None
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError("classification needs at least two classes", got=str(list(classes)))
    return y, np.eye(len(classes))[codes], classes


def _cv_error(pred: np.ndarray, Y: np.ndarray, classes: np.ndarray | None) -> float:
    """RMSE, or the error rate of the largest response for classes."""
    if classes is None:
        return float(np.sqrt(np.mean((pred - Y) ** 2)))
    return float(np.mean(pred.argmax(axis=1) != Y.argmax(axis=1)))
