"""Metrics, leakage-safe cross-validation, conformal uncertainty and self-contained reports."""

from spectrakit.evaluation.conformal import (
    ConformalClassifier,
    ConformalRegressor,
    conformal_quantile,
    interval_coverage,
    set_coverage,
)
from spectrakit.evaluation.cross_validation import CVResult, cross_validate
from spectrakit.evaluation.metrics import (
    classification_metrics,
    expected_calibration_error,
    regression_metrics,
)
from spectrakit.evaluation.open_set import UNKNOWN, apply_open_set, open_set_figures
from spectrakit.evaluation.report import write_model_report, write_report
from spectrakit.training.evaluate import DeepClassifier, DeepRegressor

__all__ = [
    "UNKNOWN",
    "CVResult",
    "ConformalClassifier",
    "ConformalRegressor",
    "DeepClassifier",
    "DeepRegressor",
    "apply_open_set",
    "classification_metrics",
    "conformal_quantile",
    "cross_validate",
    "expected_calibration_error",
    "interval_coverage",
    "open_set_figures",
    "regression_metrics",
    "set_coverage",
    "write_model_report",
    "write_report",
]
