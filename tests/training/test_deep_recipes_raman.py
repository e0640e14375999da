"""The CNN recipe on few labels per class: Raman classes told apart by one weak, shifted band."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from spectrakit.datasets.raman_classes import make_raman_classes
from spectrakit.training.folds import cv_folds
from spectrakit.training.recipes import fit_recipe, get_recipe

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _split(seed: int, per_class: int = 8):
    data = make_raman_classes(32 + 200, seed)
    labels = data.meta["label"].to_numpy()
    rng = np.random.default_rng(seed)
    tr = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
    )
    te = np.setdiff1d(np.arange(len(labels)), tr)
    return data.values[tr], labels[tr], data.values[te], labels[te]


def test_cnn_recipe_learns_a_weak_shifted_marker_from_eight_labels_per_class():
    """Four classes (chance 0.25), 32 training spectra; was at chance with a pooled head."""
    X, y, X_test, y_test = _split(seed=11)
    recipe = replace(get_recipe("cnn"), steps=(200,), ensemble=1)
    folds = cv_folds(len(y), k=3, y=np.unique(y, return_inverse=True)[1], seed=0)
    model = fit_recipe(recipe, X, y, task="classification", folds=folds, seed=0)
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    assert accuracy > 0.5, accuracy
    assert model.head == "flatten" and model.recipe.heads == ("flatten",)
    assert model.cv_curve[200] < 0.6  # the CV error agrees: well below chance's 0.75
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(y_test), 4) and np.allclose(proba.sum(axis=1), 1.0)


def test_regression_keeps_the_pooled_head():
    recipe = get_recipe("cnn")
    assert recipe.heads == ("pool",) and recipe.class_heads == ("flatten",)
    assert get_recipe("cnn_heads").class_heads is None  # its head stays chosen by CV
