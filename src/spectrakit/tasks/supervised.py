"""Supervised training: classification (multi-class, one-vs-rest, multi-label) and regression.

The task receives a ready model (built by the registry, possibly initialised from a
pretrained bundle) and owns only the losses, metrics, freezing and optimisation. Mixing
augmentation (mixup, Zhang et al. 2018) blends pairs of spectra and their targets; a custom
``mix`` callable can replace it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from spectrakit.core.errors import ConfigError
from spectrakit.models.heads import OutputSpec, decode_outputs, split_regression
from spectrakit.preprocessing.channels import normalize_spectra
from spectrakit.tasks.base import BaseTask
from spectrakit.tasks.optim import schedule_spec
from spectrakit.tasks.params import apply_freeze, parameter_groups

__all__ = ["SupervisedTask", "tune_thresholds"]

Mix = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def tune_thresholds(proba: np.ndarray, y: np.ndarray) -> list[float]:
    """Per-label thresholds maximizing F1 on held-out data.

    Parameters
    ----------
    proba : ndarray of shape (n, K)
        Predicted probabilities.
    y : ndarray of shape (n, K)
        True 0/1 labels.

    Returns
    -------
    list of float
        One threshold per label (0.5 where a label never occurs).
    """
    out = []
    for k in range(proba.shape[1]):
        p, t = proba[:, k], y[:, k] > 0.5
        if not t.any() or t.all():
            out.append(0.5)
            continue
        best, best_f1 = 0.5, -1.0
        for thr in np.unique(np.clip(p, 0.01, 0.99)):
            pred = p >= thr
            tp = np.sum(pred & t)
            f1 = 2 * tp / max(pred.sum() + t.sum(), 1)
            if f1 > best_f1:
                best, best_f1 = float(thr), f1
        out.append(best)
    return out


class SupervisedTask(BaseTask):
    """Classification or regression around any :class:`~spectrakit.models.SpectralModel`.

    Parameters
    ----------
    model : nn.Module
        The network; its head width must be ``n_model_outputs(spec)``.
    spec : OutputSpec
        Task, number of targets/classes, target standardization, uncertainty head.
    label_smoothing : float, default=0.0
        Cross-entropy label smoothing (multi-class).
    class_weights : sequence of float, optional
        Loss weight per class (multi-class/one-vs-rest) or positive weight per label
        (multi-label).
    mixup_alpha : float, default=0.0
        Beta(alpha, alpha) mixup of training pairs; 0 disables it.
    mix : callable, optional
        Custom mixing ``(x, y_dense) -> (x, y_dense)`` used instead of mixup.
    freeze : str, default="none"
        ``none`` | ``encoder`` | ``all-but-last-K``
        (see :func:`~spectrakit.tasks.params.apply_freeze`).
    lr : float, default=1e-3
        Learning rate (of the encoder when ``head_lr`` is given).
    head_lr : float, optional
        Separate head learning rate.
    layer_decay : float, optional
        Layer-wise learning-rate decay of the encoder.
    weight_decay : float, default=1e-4
    schedule : str or mapping, default="cosine"
    warmup : int or float, default=0.05
    total_steps : int, optional
    normalize : bool, default=False
        Standardize each spectrum before the model (as in masked pretraining).
    """

    def __init__(
        self,
        model: nn.Module,
        spec: OutputSpec,
        label_smoothing: float = 0.0,
        class_weights: Sequence[float] | None = None,
        mixup_alpha: float = 0.0,
        mix: Mix | None = None,
        freeze: str = "none",
        lr: float = 1e-3,
        head_lr: float | None = None,
        layer_decay: float | None = None,
        weight_decay: float = 1e-4,
        schedule: str | dict = "cosine",
        warmup: int | float = 0.05,
        total_steps: int | None = None,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        schedule = schedule_spec(schedule)  # validated here, JSON-able in hparams
        if spec.task not in ("regression", "classification", "multilabel"):
            raise ConfigError(
                "unknown task", expected="regression | classification | multilabel", got=spec.task
            )
        self.save_hyperparameters(ignore=["model", "spec", "mix"])
        self.model = model
        self.spec = spec
        self.mix = mix
        self.lr = lr
        self.frozen = apply_freeze(model, freeze)
        weights = None if class_weights is None else torch.as_tensor(class_weights).float()
        self.register_buffer("class_weights", weights, persistent=False)
        mean = spec.target_mean or [0.0] * spec.n_targets
        std = spec.target_std or [1.0] * spec.n_targets
        self.register_buffer("target_mean", torch.tensor(mean).float(), persistent=False)
        self.register_buffer("target_std", torch.tensor(std).float(), persistent=False)

    # ------------------------------------------------------------------ forward
    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Raw model output (B, n_model_outputs)."""
        axis = batch.get("axis") if getattr(self.model, "axis_aware", False) else None
        x = normalize_spectra(batch["x"]) if self.hparams.normalize else batch["x"]
        return self.model(x, axis=axis, extra=batch.get("extra"))

    def _dense_targets(self, y: torch.Tensor) -> torch.Tensor:
        """Targets as floats the loss compares with (standardized / one-hot)."""
        if self.spec.task == "regression":
            y = y.float().reshape(y.shape[0], -1)
            return (y - self.target_mean) / self.target_std
        if self.spec.task == "classification":
            return F.one_hot(y.long(), self.spec.n_targets).float()
        return y.float()

    def _loss(self, raw: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        raw = raw.float()
        spec = self.spec
        if spec.task == "regression":
            if spec.uncertainty:
                mean, logvar = split_regression(raw, spec)
                return F.gaussian_nll_loss(mean, dense, logvar.exp(), full=False)
            return F.mse_loss(raw, dense)
        if spec.task == "multilabel" or spec.one_vs_rest:
            pos_weight = self.class_weights if spec.task == "multilabel" else None
            loss = F.binary_cross_entropy_with_logits(
                raw, dense, pos_weight=pos_weight, reduction="none"
            )
            if spec.task == "classification" and self.class_weights is not None:
                loss = loss * self.class_weights
            return loss.mean()
        return F.cross_entropy(
            raw,
            dense,
            weight=self.class_weights,
            label_smoothing=self.hparams.label_smoothing,
        )

    def _mix(self, batch: dict[str, torch.Tensor], dense: torch.Tensor):
        x = batch["x"]
        if self.mix is not None:
            x, dense = self.mix(x, dense)
        elif self.hparams.mixup_alpha > 0 and x.shape[0] > 1:
            alpha = torch.tensor(float(self.hparams.mixup_alpha))
            lam = float(torch.distributions.Beta(alpha, alpha).sample())
            perm = torch.randperm(x.shape[0], device=x.device)
            x = lam * x + (1 - lam) * x[perm]
            dense = lam * dense + (1 - lam) * dense[perm]
            if "extra" in batch:
                batch = {**batch, "extra": lam * batch["extra"] + (1 - lam) * batch["extra"][perm]}
        return {**batch, "x": x}, dense

    # ------------------------------------------------------------------ steps
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        """Loss on a (mixed) training batch."""
        dense = self._dense_targets(batch["y"])
        batch, dense = self._mix(batch, dense)
        loss = self._loss(self(batch), dense)
        self.log_train("train_loss", loss, dense.shape[0])
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """Validation loss and a task metric (RMSE in target units, or accuracy)."""
        y = batch["y"]
        raw = self(batch)
        bs = y.shape[0]
        self.log_val("val_loss", self._loss(raw, self._dense_targets(y)), bs, prog_bar=True)
        out = decode_outputs(raw, self.spec)
        if self.spec.task == "regression":
            err = out["mean"] - y.float().reshape(bs, -1)
            self.log_val("val_rmse", err.pow(2).mean().sqrt(), bs)
        elif self.spec.task == "classification":
            self.log_val("val_acc", (out["label"] == y).float().mean(), bs, prog_bar=True)
        else:
            self.log_val("val_acc", (out["label"] == (y > 0.5)).float().mean(), bs)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict:
        """Decoded predictions (see :func:`~spectrakit.models.heads.decode_outputs`)."""
        return decode_outputs(self(batch), self.spec)

    def on_train_epoch_start(self) -> None:
        """Keep fully frozen submodules in eval mode (no BatchNorm statistic updates)."""
        if not self.frozen:
            return
        for module in self.model.modules():
            params = list(module.parameters(recurse=True))
            if params and not any(p.requires_grad for p in params):
                module.eval()

    def parameter_groups(self) -> list[dict]:
        """Discriminative learning rates: a head rate and layer-wise decay (when given)."""
        hp = self.hparams
        return parameter_groups(
            self.model, self.lr, hp.weight_decay, head_lr=hp.head_lr, layer_decay=hp.layer_decay
        )
