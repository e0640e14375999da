"""The class-channel softmax temperature of PeakMixer / CNN-Peak, chosen on training data.

The temperature decides how few channels each class concentrates on (lower = fewer), so
it sets how specific the class-specific Grad-CAM can be; it must not cost accuracy. Rule:
a stratified quarter of the *training* split is held out; one short training per
candidate (AdamW, the run's rate and weight decay, fixed steps) is scored by held-out
cross-entropy, and the lowest temperature whose held-out loss is within one standard
error of the best candidate's is chosen (the one-standard-error rule, towards the most
specific channels). The validation split and any test spectra are never read. The
candidates, their losses and the choice are recorded in the bundle
(``training.recipe.ip_temperature``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["TEMPERATURES", "choose_ip_temperature", "heldout_split", "train_classifier"]

#: candidate temperatures, most specific first
TEMPERATURES = (0.02, 0.05, 0.2, 1.0)


def heldout_split(y: np.ndarray, seed: int, fraction: float = 0.25) -> tuple[np.ndarray, ...]:
    """Stratified (fit, held-out) row indices of ``y`` (every class in both when it can)."""
    rng = np.random.default_rng(seed)
    fit, held = [], []
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        k = round(fraction * rows.size) if rows.size > 1 else 0
        held.append(rows[:k])
        fit.append(rows[k:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(held))


def train_classifier(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor, rows: np.ndarray, *, steps: int,
    lr: float, weight_decay: float, seed: int,
) -> nn.Module:  # fmt: skip
    """``steps`` AdamW steps of cross-entropy on ``x[rows]`` (batches of 32); eval mode after.

    Parameters
    ----------
    net : nn.Module
        Classifier, (B, C, L) -> (B, n_classes).
    x : Tensor of shape (n, C, L)
    y : Tensor of shape (n,)
        Class indices.
    rows : ndarray of int
        The rows trained on.
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=weight_decay)
    rows_t = torch.as_tensor(rows)
    net.train()
    for _ in range(steps):
        idx = rows_t[torch.randint(0, rows_t.numel(), (min(32, rows_t.numel()),), generator=gen)]
        loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


def _fit_and_score(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor, fit: np.ndarray, held: np.ndarray,
    steps: int, lr: float, weight_decay: float, seed: int,
) -> np.ndarray:  # fmt: skip
    """Held-out per-spectrum cross-entropy after training on ``fit``."""
    train_classifier(net, x, y, fit, steps=steps, lr=lr, weight_decay=weight_decay, seed=seed)
    with torch.no_grad():
        held_t = torch.as_tensor(held)
        out = net(x[held_t])
        return nn.functional.cross_entropy(out, y[held_t], reduction="none").numpy()


def choose_ip_temperature(
    build: Any, x: torch.Tensor, y: torch.Tensor, *, seed: int = 0, steps: int = 60,
    lr: float = 3e-3, weight_decay: float = 0.01,
    temperatures: Sequence[float] = TEMPERATURES,
) -> tuple[float, dict[str, Any]]:  # fmt: skip
    """The temperature chosen by held-out cross-entropy on the training spectra.

    Parameters
    ----------
    build : callable
        ``build(ip_temperature) -> nn.Module``: a fresh classifier at that temperature.
    x : Tensor of shape (n, C, L)
        Training spectra (preprocessed, as the model reads them).
    y : Tensor of shape (n,)
        Class indices.
    seed, steps, lr, weight_decay
        Split and training of the candidate fits.
    temperatures : sequence of float
        Candidates.

    Returns
    -------
    (float, dict)
        The chosen temperature and the record (candidates, held-out loss and its
        standard error per candidate, rule, held-out size).
    """
    y_np = np.asarray(y)
    fit, held = heldout_split(y_np, seed)
    temps = sorted(float(t) for t in temperatures)
    losses, ses = [], []
    for t in temps:
        torch.manual_seed(seed)
        per = _fit_and_score(build(t), x, torch.as_tensor(y_np).long(), fit, held, steps, lr,
                             weight_decay, seed)  # fmt: skip
        losses.append(float(per.mean()))
        ses.append(float(per.std(ddof=1) / np.sqrt(per.size)) if per.size > 1 else 0.0)
    best = int(np.argmin(losses))
    limit = losses[best] + ses[best]
    chosen = next(t for t, loss in zip(temps, losses, strict=True) if loss <= limit)
    record = {
        "chosen": chosen, "candidates": temps, "heldout_loss": losses, "heldout_se": ses,
        "rule": "lowest temperature within one standard error of the best held-out "
                "cross-entropy (a stratified quarter of the training split)",
        "n_heldout": int(held.size), "steps": int(steps),
    }  # fmt: skip
    return chosen, record
