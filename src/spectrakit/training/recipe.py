"""The training recipe: everything that made a model, recorded in its bundle and name.

A SpectraTorch model name such as ``ResNetV2 y=['OVA', 'OK'] c=('277', '380', '425')
t=('da',) 0-20 s=42 eps=0.1`` says the architecture, the targets, the input channels, the
transforms (``da``: data augmentation), the split (fold 0 of 20), the split seed and the
label smoothing. :func:`recipe` gathers the same facts from a training call, the bundle
keeps them under ``training.recipe``, and :func:`format_name` renders a user's template.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from spectrakit.core.errors import ConfigError
from spectrakit.core.spectra import Spectra

__all__ = ["FIELDS", "SEED_TEMPLATE", "format_name", "parse_split", "recipe", "split_fold"]

#: the names a template may use
FIELDS = (
    "model",
    "task",
    "targets",
    "channels",
    "transforms",
    "augmentation",
    "split",
    "seed",
    "label_smoothing",
    "mixup",
)
#: the seed's naming format
SEED_TEMPLATE = (
    "{model} y={targets} c={channels} t={transforms} {split} s={seed} eps={label_smoothing}"
)


def parse_split(split: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``"k/n"``, ``"k-n"`` or ``(k, n)``: fold ``k`` (from 0) of ``n`` is the validation set."""
    if split is None:
        return None
    if isinstance(split, str):
        found = re.fullmatch(r"\s*(\d+)\s*[/-]\s*(\d+)\s*", split)
        if not found:
            raise ConfigError(
                "cannot read the split", expected="K/N, e.g. 0/20 (fold 0 of 20)", got=split
            )
        split = (int(found[1]), int(found[2]))
    k, n = (int(v) for v in split)
    if n < 2 or not 0 <= k < n:
        raise ConfigError(
            "invalid split", expected="0 <= K < N and N >= 2", got=f"{k}/{n}", fix="e.g. 0/5"
        )
    return k, n


def split_fold(
    train: Spectra, split: tuple[int, int], *, groups: str | None = None, seed: int = 0
) -> tuple[Spectra, Spectra]:
    """Training and validation spectra of fold ``k`` of ``n`` (grouped by ``groups``).

    The folds are shuffled with ``seed`` (K-fold) or keep every group on one side
    (group K-fold), so ``(k, n, seed)`` names one split exactly.
    """
    from spectrakit.data.splits import GroupKFoldSplitter, KFoldSplitter

    k, n = split
    splitter = GroupKFoldSplitter(groups, n) if groups else KFoldSplitter(n, random_state=seed)
    tr, va = list(splitter.split(train))[k]
    return train[np.sort(tr)], train[np.sort(va)]


def _channels(pipeline: Any, measured: Sequence[str] | None = None) -> list[str]:
    specs = pipeline if isinstance(pipeline, list | tuple) else [pipeline]
    if measured:
        per = _channels(specs) if len(specs) > 1 else []
        return [f"{m}/{p}" if per else str(m) for m in measured for p in per or [None]]
    names = []
    for i, spec in enumerate(specs):
        if spec is None:
            names.append("raw")
        elif isinstance(spec, str):
            names.append(os.path.splitext(os.path.basename(spec))[0])
        else:
            names.append(f"channel{i}")
    return names


def _transforms(pipeline: Any, augment: Any, mixup: float) -> list[str]:
    """Step names of every channel's preprocessing, then ``da`` when data are augmented."""
    from spectrakit.preprocessing import get_pipeline

    out = []
    for spec in pipeline if isinstance(pipeline, list | tuple) else [pipeline]:
        if spec is None:
            continue
        try:
            steps = get_pipeline(spec).steps
        except ConfigError:
            steps = []  # the training call reports an unreadable pipeline itself
        out.extend(type(step).__name__ for _, step in steps)
    if augment is not None or mixup:
        out.append("da")
    return list(dict.fromkeys(out))


def recipe(
    *,
    model: str,
    task: str,
    targets: Sequence[str],
    pipeline: Any,
    augment: Any,
    split: tuple[int, int] | None,
    seed: int,
    label_smoothing: float,
    mixup: float,
    measured: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The recipe of a training call as JSON-able facts (see :data:`FIELDS`).

    ``measured`` names separately measured channels; they are then the ``channels`` (times
    the pipelines when several are given: ``277/raw``, ``277/derivative``, ...).
    """
    aug = augment.to_config() if hasattr(augment, "to_config") else augment
    return {
        "model": model,
        "task": task,
        "targets": list(targets),
        "channels": _channels(pipeline, measured),
        "transforms": _transforms(pipeline, augment, mixup),
        "augmentation": None if aug is None or callable(aug) else aug,
        "split": None if split is None else f"{split[0]}-{split[1]}",
        "seed": int(seed),
        "label_smoothing": float(label_smoothing),
        "mixup": float(mixup),
    }


def format_name(template: str, facts: dict[str, Any]) -> str:
    """A folder name from ``template`` (``{model}``, ``{targets}``, ... see :data:`FIELDS`).

    Lists print as tuples (``c=('277', '380')``), as in the seed's names; a path separator
    in a value is replaced so the name stays one folder.
    """
    used = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    unknown = [f for f in used if f not in FIELDS]
    if unknown:
        raise ConfigError(
            "unknown field in the name template",
            expected="{" + "}, {".join(FIELDS) + "}",
            got=", ".join(unknown),
            fix="e.g. --name-template '" + SEED_TEMPLATE + "'",
        )
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in facts.items()}
    values["split"] = values.get("split") or "all"
    name = template.format(**{k: values.get(k) for k in FIELDS}).strip()
    name = name.replace(os.sep, "_").replace("/", "_")
    if not name or name in (".", ".."):
        raise ConfigError("the name template gives an empty name", got=repr(template))
    return name
