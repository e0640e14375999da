"""Learning-rate range test: sweep, smooth, suggest, and bounds for cyclical schedules.

The sweep itself is Lightning's (``Tuner.lr_find``: the learning rate grows exponentially
batch by batch until the loss diverges). What is decided from the curve follows Smith (2017,
"Cyclical learning rates for training neural networks") and the pychemauth tutorial:

* the losses are smoothed with a bias-corrected exponential moving average;
* the suggestion is the point of steepest descent *before the minimum* of the smoothed curve,
  looked for only where the loss has already started to fall (the first, flat part of the
  curve is noise: picking its steepest point gave rates around 1e-6 that stall training),
  and at most a tenth of the rate at the minimum;
* cyclical bounds: the upper bound is the rate at the minimum, the lower bound the rate where
  the loss has come down ``frac`` of the way from the flat start to the minimum.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from spectrakit.core.errors import TrainingError
from spectrakit.io import atomic_path

__all__ = ["LRCurve", "find_learning_rate", "smooth_losses"]

_log = logging.getLogger(__name__)


def smooth_losses(loss: np.ndarray, beta: float = 0.9) -> np.ndarray:
    """Bias-corrected exponential moving average of a loss sequence.

    Parameters
    ----------
    loss : ndarray of shape (n_steps,)
        Raw losses, one per step.
    beta : float, default=0.9
        Weight of the past, in [0, 1).

    Returns
    -------
    ndarray of shape (n_steps,)
        Smoothed losses; the first value equals the first loss.

    Examples
    --------
    >>> smooth_losses(np.array([1.0, 1.0, 1.0])).tolist()
    [1.0, 1.0, 1.0]
    """
    loss = np.asarray(loss, dtype=float)
    avg, out = 0.0, np.empty_like(loss)
    for i, value in enumerate(loss):
        avg = beta * avg + (1.0 - beta) * value
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


@dataclass(frozen=True)
class LRCurve:
    """The loss of a learning-rate sweep, with the rules that read it.

    Parameters
    ----------
    lr : ndarray of shape (n_steps,)
        Learning rate of each step, increasing.
    loss : ndarray of shape (n_steps,)
        Loss of each step, smoothed (see :func:`smooth_losses`).
    """

    lr: np.ndarray
    loss: np.ndarray

    def __post_init__(self) -> None:
        lr, loss = np.asarray(self.lr, float), np.asarray(self.loss, float)
        keep = np.isfinite(lr) & np.isfinite(loss) & (lr > 0)
        object.__setattr__(self, "lr", lr[keep])
        object.__setattr__(self, "loss", loss[keep])

    # ------------------------------------------------------------------ reading the curve
    def _landmarks(self) -> tuple[float, int] | None:
        """Flat-start level and index of the minimum, or None when the loss never falls."""
        n = self.lr.size
        if n < 8:
            return None
        head = max(n // 10, 3)
        # the first steps of a sweep are unreliable (a lucky first batch): the flat level is
        # a median, and the minimum is looked for after them
        start = float(np.median(self.loss[1 : head + 1]))
        i_min = head + int(np.argmin(self.loss[head:]))
        if i_min <= head or self.loss[i_min] >= start - 1e-3 * abs(start) - 1e-12:
            return None
        return start, i_min

    def suggestion(self) -> float | None:
        """Learning rate at the steepest descent before the minimum (None if none is found).

        Returns
        -------
        float or None
            The suggested rate; ``None`` when the loss never fell below its flat start.
        """
        marks = self._landmarks()
        if marks is None:
            return None
        start, i_min = marks
        drop = start - self.loss[i_min]
        # the descent is the unbroken run below 90 % of the flat level that ends at the
        # minimum: an early dip among the first noisy batches is not part of it
        above = np.flatnonzero(self.loss[: i_min + 1] >= start - 0.1 * drop)
        first = int(above[-1]) + 1 if above.size else 0
        lo = max(first - 1, 0)
        seg = slice(lo, i_min + 1)
        grad = np.gradient(self.loss[seg], np.log10(self.lr[seg])) if i_min - lo >= 2 else None
        steepest = float(self.lr[first] if grad is None else self.lr[lo + int(np.argmin(grad))])
        # never above a tenth of the rate at the minimum: past it the loss turns up, and a
        # sweep that ends while still falling has not shown where
        return min(steepest, float(self.lr[i_min]) / 10.0)

    def estimate_clr(self, frac: float = 0.5) -> tuple[float, float] | None:
        """Bounds for a cyclical schedule (Smith, 2017).

        Parameters
        ----------
        frac : float, default=0.5
            How far back from the minimum towards the flat start the lower bound sits, in
            (0, 1): the lower bound is where the loss is ``min + frac * (start - min)``.

        Returns
        -------
        (float, float) or None
            ``(base_lr, max_lr)``; ``None`` when the loss never fell.
        """
        if not 0.0 < frac < 1.0:
            raise TrainingError("frac out of range", expected="0 < frac < 1", got=frac)
        marks = self._landmarks()
        if marks is None:
            return None
        start, i_min = marks
        level = self.loss[i_min] + frac * (start - self.loss[i_min])
        above = np.flatnonzero(self.loss[:i_min] >= level)
        i_base = int(above[-1]) if above.size else 0
        base, peak = float(self.lr[i_base]), float(self.lr[i_min])
        if i_min >= self.lr.size - max(self.lr.size // 20, 1):
            # the sweep ended still falling: where the loss turns up is unknown, so stay a
            # decade below the last rate tried
            base, peak = min(base, peak / 100.0), peak / 10.0
        return base, peak

    # ------------------------------------------------------------------ outputs
    def to_csv(self, path: str | Path) -> Path:
        """Write ``lr,loss`` rows (CSV, atomically) and return the path."""
        rows = "".join(f"{a:.6e},{b:.6e}\n" for a, b in zip(self.lr, self.loss, strict=True))
        with atomic_path(path) as tmp:
            Path(tmp).write_text("lr,loss\n" + rows, encoding="utf-8")
        return Path(path)

    def plot_png(self, path: str | Path, frac: float = 0.5) -> Path:
        """Draw the curve with the suggestion and the cyclical bounds; return the path."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4), dpi=100)
        ax = fig.add_subplot()
        ax.semilogx(self.lr, self.loss, color="k", lw=1.2, label="smoothed loss")
        best, bounds = self.suggestion(), self.estimate_clr(frac)
        if best is not None:
            ax.axvline(best, color="tab:green", ls="--", label=f"suggested {best:.2e}")
        for i, b in enumerate(bounds or ()):
            ax.axvline(b, color="tab:red", lw=0.8, label="cyclical bounds" if i == 0 else None)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss (smoothed)")
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
        return Path(path)


def find_learning_rate(
    trainer: Any,
    task: Any,
    datamodule: Any,
    *,
    num_training: int = 100,
    min_lr: float = 1e-6,
    max_lr: float = 10.0,
) -> LRCurve:
    """Run Lightning's learning-rate sweep and return the smoothed curve.

    Parameters
    ----------
    trainer : lightning.Trainer
        The trainer of the run (its state is restored after the sweep).
    task : LightningModule
        The task to sweep.
    datamodule : LightningDataModule
        Training data.
    num_training : int, default=100
        Steps of the sweep.
    min_lr, max_lr : float
        Range of the sweep.

    Returns
    -------
    LRCurve
        Rates and smoothed losses (Lightning smooths them already; spectrakit re-reads them).
    """
    from lightning.pytorch.tuner import Tuner

    loop = trainer.fit_loop
    epochs = loop.max_epochs
    loop.max_epochs = None if epochs is None else max(epochs, num_training)  # small data sets:
    try:  # the sweep must not end with the run's epoch budget, long before it diverges
        result = Tuner(trainer).lr_find(
            task,
            datamodule=datamodule,
            num_training=num_training,
            min_lr=min_lr,
            max_lr=max_lr,
            update_attr=False,
        )
    finally:
        loop.max_epochs = epochs
    if result is None or not result.results.get("lr"):
        raise TrainingError("the learning-rate sweep produced no curve", fix="pass --lr VALUE")
    return LRCurve(np.asarray(result.results["lr"]), np.asarray(result.results["loss"]))
