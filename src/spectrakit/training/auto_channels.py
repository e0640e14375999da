"""``model="auto"`` on separately measured channels: a network family chosen by CV.

The chemometric candidates of :func:`~spectrakit.training.auto.auto_fit` read one axis, so
on a :class:`~spectrakit.core.channel_set.ChannelSet` the choice is among networks that take
several input channels. Every candidate is trained on the same K folds of the training
samples (stratified for classes, grouped with ``groups``) and scored on the held-out fold;
the lowest mean CV error wins (ties: the earlier candidate) and is refitted on all the
training samples. No spectrum outside ``train`` is read. The CV table goes into the
bundle's metrics as ``auto``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spectrakit import bundle as _bundle
from spectrakit.core.channel_set import ChannelSet
from spectrakit.core.errors import ConfigError
from spectrakit.predict.loader import load as _load_predictor
from spectrakit.training.config import FitConfig
from spectrakit.training.folds import cv_folds

__all__ = ["CHANNEL_CANDIDATES", "auto_fit_channels"]

#: network families tried by ``model="auto"`` on measured channels, in tie-break order
CHANNEL_CANDIDATES = ("cnn1d_tiny", "resnet1d_tiny", "mlp_tiny")


def auto_fit_channels(
    train: ChannelSet,
    target: str,
    config: FitConfig,
    *,
    candidates: Sequence[str] = CHANNEL_CANDIDATES,
    k: int = 5,
    groups: np.ndarray | None = None,
    out: str | Path | None = None,
) -> tuple[Any, pd.DataFrame]:
    """Choose a network for ``train`` by K-fold CV, refit it on all samples, return both.

    Parameters
    ----------
    train : ChannelSet
        Labelled training channels (target in ``train.meta``).
    target : str
        The one target column (regression) or label column (classification).
    config : FitConfig
        Options of every fit (``task`` set; ``model`` is each candidate in turn).
    candidates : sequence of str
        Network families (each must take several input channels).
    k : int, default=5
        CV folds (fewer when a class or the groups are too few).
    groups : ndarray of shape (n,), optional
        Samples of one group stay in one fold.
    out : str or Path, optional
        Bundle directory of the refitted winner.

    Returns
    -------
    predictor : Predictor
        The winner, refitted on every training sample.
    table : DataFrame
        ``candidate``, ``cv_error`` (RMSE, or 1 - accuracy), ``cv_sd`` over folds.
    """
    from spectrakit.training.api import fit_supervised

    if config.task not in ("regression", "classification") or not candidates:
        raise ConfigError(
            "model auto on measured channels needs one target and a candidate",
            expected="task regression or classification",
            got=f"task {config.task!r}, {len(candidates)} candidate(s)",
        )
    y = train.meta[target].to_numpy().astype(str)
    codes = None if config.task == "regression" else np.unique(y, return_inverse=True)[1]
    folds = cv_folds(train.n_spectra, k=k, y=codes, groups=groups, seed=config.seed)
    rows = _cv_rows(train, target, config.replace(ood="none"), candidates, folds)
    table = pd.DataFrame(rows)
    chosen = str(table.loc[table["cv_error"].idxmin(), "candidate"])
    predictor = fit_supervised(train, target, config=config, model=chosen, out=out)
    record = {"chosen": chosen, "folds": len(folds), "criterion": _CRITERION[config.task],
              "candidates": rows}  # fmt: skip
    _bundle.update_metrics(predictor.bundle_dir, {**predictor.config.metrics, "auto": record})
    loaded = _load_predictor(predictor.bundle_dir)
    loaded._holder = getattr(predictor, "_holder", None)  # a temporary bundle stays alive
    return loaded, table


def _cv_rows(
    train: ChannelSet, target: str, config: FitConfig, candidates: Sequence[str], folds: list
) -> list[dict]:
    """Mean and SD of each candidate's held-out error over ``folds``."""
    from spectrakit.training.api import fit_supervised

    rows = []
    for name in candidates:
        errors = []
        for fit_rows, held in folds:
            fold = fit_supervised(train.select(fit_rows), target, config=config, model=name)
            errors.append(_error(fold, train.select(held), target, config.task))
        rows.append({"candidate": name, "cv_error": float(np.mean(errors)),
                     "cv_sd": float(np.std(errors))})  # fmt: skip
    return rows


_CRITERION = {"regression": "rmse", "classification": "1 - accuracy"}


def _error(predictor: Any, held: ChannelSet, target: str, task: str) -> float:
    pred = predictor.predict(held)
    truth = held.meta[target].to_numpy()
    if task == "regression":
        diff = pred[target].to_numpy(dtype=np.float64) - truth.astype(np.float64)
        return float(np.sqrt(np.mean(diff**2)))
    return float(np.mean(pred["predicted"].astype(str).to_numpy() != truth.astype(str)))
