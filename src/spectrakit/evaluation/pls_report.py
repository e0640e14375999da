"""What a chemometrician reads to trust a PLS model: RMSECV by LV, coefficients and VIP.

- RMSECV (or the error rate of PLS-DA) of every number of latent variables from the inner
  cross-validation that chose it, with the fold spread and the chosen count marked.
- Regression coefficients and VIP scores (Wold et al., 2001) on the physical axis of the
  preprocessed spectra; VIP > 1 marks the variables that matter more than average.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spectrakit.evaluation.plots import figure_png as _png
from spectrakit.evaluation.plots import new_figure as _figure
from spectrakit.evaluation.report import Figure, Section

__all__ = ["pls_diagnostics", "pls_section", "vip_scores"]


def vip_scores(weights: np.ndarray, scores: np.ndarray, y_loadings: np.ndarray) -> np.ndarray:
    """Variable importance in projection.

    Parameters
    ----------
    weights : ndarray of shape (p, A)
        X weights W.
    scores : ndarray of shape (n, A)
        X scores T.
    y_loadings : ndarray of shape (m, A)
        Y loadings Q.

    Returns
    -------
    ndarray of shape (p,)
        ``sqrt(p * sum_a SS_a (w_ja / |w_a|)^2 / sum_a SS_a)`` with ``SS_a = |q_a|^2 t_a't_a``;
        the mean of the squared VIPs is 1.
    """
    ss = (y_loadings**2).sum(axis=0) * (scores**2).sum(axis=0)  # (A,)
    w = weights / np.linalg.norm(weights, axis=0, keepdims=True)
    return np.sqrt(weights.shape[0] * (w**2 @ ss) / ss.sum())


def pls_diagnostics(estimator: Any) -> dict[str, Any]:
    """Numbers behind the PLS figures of a fitted PLS/PLS-DA (or SpectralEstimator of one).

    Returns
    -------
    dict
        ``n_components``; ``cv_mean``/``cv_std`` (A_max,) fold RMSE (error rate for PLS-DA)
        of 1..A_max LVs or ``None`` when the count was fixed; ``axis`` (p,) of the model
        input; ``coef`` (m, p); ``vip`` (p,); ``unit``.
    """
    model = estimator.model_[-1] if hasattr(estimator, "model_") else estimator
    axis, unit = np.arange(model.coef_.shape[1], dtype=float), "point"
    if hasattr(estimator, "model_") and getattr(estimator, "axis_", None) is not None:
        pre = estimator.model_[:-2] if len(estimator.model_) > 2 else None
        ax = estimator.axis_ if pre is None else pre[0].output_axis(estimator.axis_)
        if ax.n_points == model.coef_.shape[1]:
            axis, unit = ax.values, ax.unit
    losses = getattr(model, "cv_losses_", None)
    return {
        "n_components": int(model.n_components_),
        "cv_mean": None if losses is None else losses.mean(axis=0),
        "cv_std": None if losses is None else losses.std(axis=0, ddof=1),
        "axis": axis,
        "unit": unit,
        "coef": np.atleast_2d(model.coef_),
        "vip": vip_scores(model.x_weights_, model.x_scores_, model.y_loadings_),
        "classifier": hasattr(model, "classes_"),
    }


def _rmsecv_png(d: dict) -> bytes:
    fig, ax = _figure()
    k = np.arange(1, len(d["cv_mean"]) + 1)
    ax.errorbar(k, d["cv_mean"], yerr=d["cv_std"], marker="o", ms=4, capsize=3, color="tab:blue")
    chosen = d["n_components"]
    ax.axvline(chosen, color="tab:red", ls="--", lw=1)
    ax.plot([chosen], [d["cv_mean"][chosen - 1]], "o", ms=10, mfc="none", color="tab:red",
            label=f"chosen: {chosen} LV")  # fmt: skip
    ax.set_xlabel("latent variables")
    ax.set_ylabel("CV error rate" if d["classifier"] else "RMSECV")
    ax.set_xticks(k)
    ax.set_title("Inner cross-validation by number of latent variables")
    ax.legend(loc="best")
    return _png(fig)


def _coefficients_png(d: dict) -> bytes:
    fig, ax = _figure(7.5, 4.5)
    for j, row in enumerate(d["coef"]):
        ax.plot(d["axis"], row, lw=1, label="coefficients" if j == 0 else None)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(f"axis ({d['unit']})")
    ax.set_ylabel("regression coefficient")
    twin = ax.twinx()
    twin.plot(d["axis"], d["vip"], color="tab:orange", lw=1, label="VIP")
    twin.axhline(1.0, color="tab:orange", ls=":", lw=1)
    twin.set_ylabel("VIP (dotted: 1)")
    ax.set_title(f"PLS coefficients and VIP ({d['n_components']} LV)")
    lines = ax.get_legend_handles_labels(), twin.get_legend_handles_labels()
    ax.legend(lines[0][0] + lines[1][0], lines[0][1] + lines[1][1], loc="upper right")
    return _png(fig)


def pls_section(estimator: Any) -> Section:
    """Report section of a PLS model fitted on all training spectra."""
    d = pls_diagnostics(estimator)
    figures = []
    paragraphs = [f"{d['n_components']} latent variables"]
    if d["cv_mean"] is not None:
        paragraphs[0] += " chosen by inner cross-validation on the training spectra."
        figures.append(
            Figure(
                "pls_rmsecv",
                _rmsecv_png(d),
                "Mean fold error of each number of latent variables (bars: fold standard "
                "deviation); the red circle marks the count used.",
            )
        )
    else:
        paragraphs[0] += " (fixed by the user)."
    figures.append(
        Figure(
            "pls_coefficients",
            _coefficients_png(d),
            "Coefficients on the axis of the preprocessed spectra, with the VIP of each point.",
        )
    )
    top = d["axis"][np.argsort(d["vip"])[::-1][:5]]
    paragraphs.append(
        "Highest VIP at " + ", ".join(f"{v:.6g}" for v in sorted(top)) + f" {d['unit']}."
    )
    return Section("PLS model", paragraphs=paragraphs, figures=figures)
