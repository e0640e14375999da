"""A fitted scikit-learn chemometric model as a :mod:`spectrakit.models.chemometric` module.

Only the fitted arrays are copied (coefficients, loadings, support vectors, tree nodes), so
the module predicts what the estimator predicts and is saved without pickle. Models whose
outputs cannot be rebuilt from arrays are refused with the reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from spectrakit.core.errors import ModelError

__all__ = ["chemometric_module"]


def _set(module: Any, **arrays: Any) -> Any:
    for name, value in arrays.items():
        buf = getattr(module, name)
        buf.copy_(torch.as_tensor(np.array(value), dtype=buf.dtype).reshape(buf.shape))
    return module


def _pls(est: Any, p: int, classifier: bool) -> Any:
    from spectrakit.models import create

    a = int(est.n_components_)
    q = np.asarray(est.y_loadings_)  # (m, A)
    m = q.shape[0]
    weight = np.concatenate([q, np.zeros((m, 1))], axis=1)
    module = create(
        "chemometric_linear",
        input_length=p,
        n_outputs=m,
        n_components=a,
        output="log_clip" if classifier else "identity",
    )
    return _set(
        module,
        x_mean=est.x_mean_,
        x_std=est.x_std_,
        rotations=est.x_rotations_,
        loadings=est.x_loadings_,
        head_weight=weight,
        head_bias=est.y_mean_,
    )


def _linear(coef: np.ndarray, intercept: Any, p: int, mean: Any = None, std: Any = None) -> Any:
    from spectrakit.models import create

    coef = np.atleast_2d(np.asarray(coef, dtype=np.float64))
    bias = np.atleast_1d(np.asarray(intercept, dtype=np.float64))
    module = create("chemometric_linear", input_length=p, n_outputs=coef.shape[0])
    return _set(
        module,
        x_mean=np.zeros(p) if mean is None else mean,
        x_std=np.ones(p) if std is None else std,
        head_weight=coef,
        head_bias=np.broadcast_to(bias, (coef.shape[0],)),
    )


def _logistic(scaler: Any, est: Any, p: int) -> Any:
    coef, bias = np.asarray(est.coef_), np.asarray(est.intercept_)
    if coef.shape[0] == 1:  # binary: P(class 1) = sigmoid(z) = softmax([0, z])[1]
        coef = np.vstack([np.zeros_like(coef), coef])
        bias = np.array([0.0, bias[0]])
    return _linear(coef, bias, p, scaler.mean_, scaler.scale_)


def _svr(scaler: Any, est: Any, p: int) -> Any:
    from spectrakit.models import create

    if est.kernel != "rbf":
        raise ModelError(
            "only RBF support-vector models can be saved",
            expected="kernel='rbf'",
            got=repr(est.kernel),
        )
    sv = np.asarray(est.support_vectors_)
    module = create("chemometric_svr", input_length=p, n_outputs=1, n_support=sv.shape[0])
    return _set(
        module,
        x_mean=scaler.mean_,
        x_std=scaler.scale_,
        support=sv,
        dual=est.dual_coef_,
        bias=est.intercept_,
        gamma=[est._gamma],
    )


def _forest(est: Any, p: int, classifier: bool) -> Any:
    from spectrakit.models import create

    trees = [t.tree_ for t in est.estimators_]
    n_nodes = max(t.node_count for t in trees)
    n_out = len(est.classes_) if classifier else int(trees[0].value.shape[1])
    shape = (len(trees), n_nodes)
    feature, left, right = (np.zeros(shape, np.int64) for _ in range(3))
    left[:], right[:] = -1, -1
    threshold = np.zeros(shape)
    value = np.zeros((*shape, n_out))
    for i, t in enumerate(trees):
        k = t.node_count
        feature[i, :k] = np.maximum(t.feature, 0)
        threshold[i, :k], left[i, :k], right[i, :k] = t.threshold, t.children_left, t.children_right
        v = t.value[:, 0, :] if classifier else t.value[:, :, 0]
        if classifier:  # leaf class proportions, as predict_proba averages them
            v = v / np.maximum(v.sum(axis=1, keepdims=True), 1e-300)
        value[i, :k] = v
    module = create(
        "chemometric_forest",
        input_length=p,
        n_outputs=n_out,
        n_trees=len(trees),
        n_nodes=n_nodes,
        depth=max(int(t.max_depth) for t in trees),
        output="log" if classifier else "identity",
    )
    return _set(
        module,
        feature=feature.ravel(),
        threshold=threshold.ravel(),
        left=left.ravel(),
        right=right.ravel(),
        value=value.reshape(-1, n_out),
    )


def chemometric_module(model: Any, n_features: int) -> Any:
    """The module of a fitted array-level chemometric model.

    Parameters
    ----------
    model : estimator
        The fitted model after the preprocessing (``SpectralEstimator.model_[-1]``):
        PLSRegressor, PLSDA, RidgeCV, RandomForest*, or a pipeline of StandardScaler with
        SVR or LogisticRegression.
    n_features : int
        Number of points p of the preprocessed spectra.

    Returns
    -------
    SpectralModel
        One of ``chemometric_linear``, ``chemometric_svr``, ``chemometric_forest``.
    """
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC, SVR

    from spectrakit.chemometrics import PLSDA, PLSRegressor

    p = int(n_features)
    if isinstance(model, PLSRegressor | PLSDA):
        return _pls(model, p, isinstance(model, PLSDA))
    if isinstance(model, RidgeCV):
        return _linear(model.coef_, model.intercept_, p)
    if isinstance(model, RandomForestRegressor | RandomForestClassifier):
        return _forest(model, p, isinstance(model, RandomForestClassifier))
    if isinstance(model, Pipeline) and len(model.steps) == 2:
        scaler, est = model.steps[0][1], model.steps[1][1]
        if isinstance(est, LogisticRegression):
            return _logistic(scaler, est, p)
        if isinstance(est, SVR):
            return _svr(scaler, est, p)
        if isinstance(est, SVC):
            raise ModelError(
                "SVM classifiers cannot be saved as a bundle",
                expected="pls, plsda, ridge, rf (or svm for regression)",
                got="svm classification",
                fix="its probabilities come from libsvm's internal Platt coupling, which "
                "cannot be rebuilt from arrays without pickle; use plsda, ridge or rf",
            )
    raise ModelError(
        "this model cannot be saved as a bundle",
        expected="a spectrakit chemometric baseline (pls, plsda, ridge, svm, rf)",
        got=type(model).__name__,
    )
