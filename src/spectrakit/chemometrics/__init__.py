"""Chemometric baselines (PLS, PLS-DA, SVM, random forest, ridge) and calibration transfer.

Every baseline accepts Spectra and owns its preprocessing pipeline, so cross-validation
refits the preprocessing inside each fold. Calibration transfer maps spectra of a new
instrument onto the calibration instrument (DS, PDS, SST with transfer standards;
mean-centering and di-PLS with unlabeled spectra only) or corrects predictions (slope/bias).
"""

from spectrakit.chemometrics._models import BASELINES, make_baseline
from spectrakit.chemometrics._pls import PLSDA, PLSRegressor, pls_nipals
from spectrakit.chemometrics._spectral import (
    SpectralEstimator,
    ToValues,
    resolve_pipeline,
    resolve_target,
)
from spectrakit.chemometrics.dipls import DIPLS
from spectrakit.chemometrics.transfer import (
    DirectStandardization,
    InstrumentMeanCentering,
    PiecewiseDirectStandardization,
    SlopeBiasCorrection,
    SpectralSpaceTransformation,
)

__all__ = [
    "BASELINES",
    "DIPLS",
    "PLSDA",
    "DirectStandardization",
    "InstrumentMeanCentering",
    "PLSRegressor",
    "PiecewiseDirectStandardization",
    "SlopeBiasCorrection",
    "SpectralEstimator",
    "SpectralSpaceTransformation",
    "ToValues",
    "make_baseline",
    "pls_nipals",
    "resolve_pipeline",
    "resolve_target",
]
