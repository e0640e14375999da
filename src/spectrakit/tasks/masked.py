"""Masked spectral modeling: self-supervised pretraining on unlabeled spectra.

A random subset of patches of every spectrum is hidden and the model reconstructs them from
the visible rest, as in masked autoencoding for text (BERT, Devlin et al. 2019) and images
(MAE, He et al. 2022), applied to spectra in SpecBERT-style and SpectraFM-style models
(Koblischke & Bovy 2024). Hidden patches are *replaced* in the input, by the model's learned
mask token (``mask_mode="token"``) or by Gaussian noise (``"noise"``), so the model can never
copy the answer; the loss is the mean squared error on hidden patches only.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spectrakit.core.errors import ConfigError, ModelError
from spectrakit.models.inputs import normalize_spectra
from spectrakit.tasks.base import BaseTask
from spectrakit.tasks.optim import schedule_spec

__all__ = ["MaskedModelingTask", "normalize_spectra", "random_patch_mask"]

MASK_MODES = ("token", "noise")
#: spectrum scalings before masking (see ``MaskedModelingTask(normalize=...)``)
NORMALIZATIONS = ("intensity", "visible", "none")
_NORM_MOMENTUM = 0.05


def random_patch_mask(
    batch: int, n_patches: int, ratio: float, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """Per-sample random mask hiding ``round(ratio * n_patches)`` patches (at least one).

    Returns
    -------
    Tensor of bool, shape (batch, n_patches)
        True where a patch is hidden.
    """
    n_mask = min(max(round(ratio * n_patches), 1), max(n_patches - 1, 1))
    scores = torch.rand(batch, n_patches, generator=generator, device=device)
    ranks = scores.argsort(dim=1).argsort(dim=1)
    return ranks < n_mask


class MaskedModelingTask(BaseTask):
    """Masked-patch reconstruction task around any model with ``forward_masked``.

    Parameters
    ----------
    model : nn.Module
        A :class:`~spectrakit.models.SpectralModel` with a ``patch_size`` (specbert,
        spectrafm families); the input length must be a multiple of it.
    mask_ratio : float, default=0.2
        Fraction of patches hidden per spectrum.
    mask_mode : {"token", "noise"}, default="token"
        Replace hidden patches by the learned mask token or by standard Gaussian noise.
    normalize : bool or {"visible", "intensity", "none"}, default=True
        How spectra are scaled before masking (the reconstruction target is scaled alike).
        Statistics never include hidden patches, so the input reveals nothing about them.
        ``"visible"`` (``True``): every spectrum standardized with the mean and SD of its
        own visible points (fine-tuning standardizes whole spectra the same way).
        ``"intensity"``: one offset and scale for the whole corpus, running averages over
        the visible points of training batches (frozen in evaluation, kept in the
        ``norm_stats`` buffer), so differences of absolute intensity between spectra
        (concentration) are kept. ``"none"`` (``False``): raw values.
    lr : float, default=1e-3
    weight_decay : float, default=0.05
    schedule : str or mapping, default="cosine"
    warmup : int or float, default=0.05
        Warmup steps (int) or fraction of the run (float).
    total_steps : int, optional
        Steps of the run for the schedule (set by the trainer helpers).
    """

    def __init__(
        self,
        model: nn.Module,
        mask_ratio: float = 0.2,
        mask_mode: str = "token",
        normalize: bool = True,
        lr: float = 1e-3,
        weight_decay: float = 0.05,
        schedule: str | dict = "cosine",
        warmup: int | float = 0.05,
        total_steps: int | None = None,
    ) -> None:
        super().__init__()
        if getattr(model, "patch_size", None) is None or not hasattr(model, "forward_masked"):
            raise ModelError(
                f"{type(model).__name__} does not support masked modeling",
                expected="a model with patch_size and forward_masked (specbert, spectrafm)",
                got=f"patch_size={getattr(model, 'patch_size', None)}",
                fix="pretrain a specbert_* or spectrafm_* model",
            )
        if not 0.0 < mask_ratio < 1.0:
            raise ConfigError("invalid mask_ratio", expected="a value in (0, 1)", got=mask_ratio)
        if mask_mode not in MASK_MODES:
            raise ConfigError("invalid mask_mode", expected=" | ".join(MASK_MODES), got=mask_mode)
        schedule = schedule_spec(schedule)  # validated here, JSON-able in hparams
        normalize = {True: "visible", False: "none"}.get(normalize, normalize)
        if normalize not in NORMALIZATIONS:
            raise ConfigError(
                "invalid normalize", expected=" | ".join(NORMALIZATIONS), got=repr(normalize)
            )
        self.save_hyperparameters(ignore=["model"])
        # corpus offset and scale of the "intensity" scaling (NaN until the first batch)
        self.register_buffer("norm_stats", torch.full((2,), float("nan")))
        self.model = model
        self.lr = lr

    # ------------------------------------------------------------------ core
    def _prepare(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, Any]:
        x = batch["x"]
        axis = batch.get("axis") if getattr(self.model, "axis_aware", False) else None
        token_grid = getattr(self.model, "token_grid", None)
        if token_grid is not None:  # the grid fine-tuning cuts its patches from
            x, axis = token_grid(x, axis)
        p = int(self.model.patch_size)
        if x.shape[-1] % p:
            raise ModelError(
                "spectrum length is not a multiple of the patch size",
                expected=f"a multiple of {p} points",
                got=f"{x.shape[-1]} points",
                fix="crop the spectra (PretrainDataModule does this) or resample",
            )
        return x, axis

    def normalize_input(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Scale spectra (B, C, L) with statistics of their visible patches only.

        ``mask`` (B, N) marks hidden patches; the hidden values never enter a statistic, so
        changing them changes nothing in the visible part of the scaled input.
        """
        mode = self.hparams.normalize
        if mode == "none":
            return x
        visible = ~mask.repeat_interleave(int(self.model.patch_size), dim=1)[:, None, :]
        visible = visible.expand_as(x).to(x.dtype)
        if mode == "visible":
            n = visible.sum(dim=(1, 2), keepdim=True).clamp_min(2.0)
            mean = (x * visible).sum(dim=(1, 2), keepdim=True) / n
            var = ((x - mean).pow(2) * visible).sum(dim=(1, 2), keepdim=True) / (n - 1)
            return (x - mean) / (var.sqrt() + 1e-6)
        if self.training or torch.isnan(self.norm_stats).any():
            with torch.no_grad():
                n = visible.sum().clamp_min(2.0)
                mean = (x * visible).sum() / n
                sd = (((x - mean).pow(2) * visible).sum() / (n - 1)).sqrt()
                new = torch.stack([mean, sd]).to(self.norm_stats)
                old = self.norm_stats.clone()
                first = torch.isnan(old).any()
                stats = new if first else old
                self.norm_stats.copy_(new if first else (1 - _NORM_MOMENTUM) * old
                                      + _NORM_MOMENTUM * new)  # fmt: skip
        else:
            stats = self.norm_stats
        return (x - stats[0]) / (stats[1] + 1e-6)

    def reconstruction(
        self,
        batch: dict[str, torch.Tensor],
        mask: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, torch.Tensor]:
        """Mask, reconstruct and score one batch.

        Parameters
        ----------
        batch : dict
            ``x`` (B, C, L) and, for axis-aware models, ``axis``.
        mask : Tensor (B, N) bool, optional
            Hidden patches of the model's token grid (``model.token_grid``; the input's
            own patches unless the model resamples); random when omitted.
        generator : torch.Generator, optional
            Draws the random mask (a fixed mask per batch in validation).

        Returns
        -------
        dict
            ``loss`` (MSE on hidden patches), ``baseline`` (MSE of predicting each
            spectrum's mean, the trivial predictor), ``mask`` (B, N), ``recon`` (B, N, C*P),
            ``target`` (B, N, C*P).
        """
        x, axis = self._prepare(batch)
        b, n = x.shape[0], x.shape[-1] // int(self.model.patch_size)
        if mask is None:
            ratio = self.hparams.mask_ratio
            mask = random_patch_mask(b, n, ratio, generator=generator).to(x.device)
        x = self.normalize_input(x, mask)
        target = self.model.patchify(x)
        if self.hparams.mask_mode == "noise":
            hidden = mask.repeat_interleave(int(self.model.patch_size), dim=1)[:, None, :]
            x_in = torch.where(hidden, torch.randn_like(x), x)
            recon = self.model.forward_masked(x_in, torch.zeros_like(mask), axis=axis)
        else:
            recon = self.model.forward_masked(x, mask, axis=axis)
        err = (recon.float() - target.float()).pow(2).mean(dim=-1)
        loss = err[mask].mean()
        mean = x.mean(dim=(1, 2))[:, None, None]
        base = (target.float() - mean).pow(2).mean(dim=-1)[mask].mean()
        return {"loss": loss, "baseline": base, "mask": mask, "recon": recon, "target": target}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        """Reconstruction loss on a training batch."""
        out = self.reconstruction(batch)
        self.log_train("train_loss", out["loss"], batch["x"].shape[0])
        return out["loss"]

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        """Reconstruction loss with a fixed mask per batch, and the trivial baseline."""
        gen = torch.Generator(device="cpu").manual_seed(1000 + batch_idx)
        out = self.reconstruction(batch, generator=gen)
        bs = batch["x"].shape[0]
        self.log_val("val_loss", out["loss"], bs, prog_bar=True)
        self.log_val("val_baseline", out["baseline"], bs)

    def on_train_epoch_start(self) -> None:
        """Draw new random rows for each batch of the epoch."""
        loader = self.trainer.train_dataloader
        dataset = getattr(loader, "dataset", None)
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(self.current_epoch)
